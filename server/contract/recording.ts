// A session's recording: what was recorded (one track per producer taken from the SFU,
// in short segment files, each with its size and sha256), where it has gaps, and the
// session's timeline. Written as manifest.json beside the files while it records.
import { z } from 'zod';
import { HallSourceSchema, MediaSourceSchema } from './media-sources';
import { TimelineEntrySchema } from './timeline';

const Iso = z.string().max(40);

export const RecordingSegmentSchema = z.object({
  /** Relative to the session's recording folder. */
  file: z.string(),
  bytes: z.number().int(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** From the recorder's own list; null for a segment cut short (the recorder died in it). */
  seconds: z.number().nullable(),
});
export type RecordingSegment = z.infer<typeof RecordingSegmentSchema>;

export const RecordingTrackSchema = z.object({
  id: z.string(),
  source: MediaSourceSchema,
  kind: z.enum(['audio', 'video']),
  /** As received, never re-encoded: e.g. video/VP8, audio/opus. */
  codec: z.string(),
  producerId: z.string(),
  /** The point holding the floor, for floor tracks. */
  pointId: z.string().nullable(),
  /**
   * The hall's camera and microphone: which source sent it (the console, an encoder over
   * WHIP, an ingest). Points receive one at a time; the timeline says which (absent: older).
   */
  origin: HallSourceSchema.nullable().optional(),
  startedAt: Iso,
  endedAt: Iso.nullable(),
  /** Times the recorder process was restarted after dying. */
  restarts: z.number().int(),
  segments: z.array(RecordingSegmentSchema),
});
export type RecordingTrack = z.infer<typeof RecordingTrackSchema>;

/** A stretch where a source of the hall was not recorded. */
export const RecordingGapSchema = z.object({
  source: MediaSourceSchema,
  from: Iso,
  /** Null while it lasts. */
  to: Iso.nullable(),
  /** Why: the producer's close reason (e.g. worker-died), recorder-died, or server-restart. */
  reason: z.string(),
});
export type RecordingGap = z.infer<typeof RecordingGapSchema>;

export const RecordingManifestSchema = z.object({
  version: z.literal(1),
  sessionId: z.string(),
  title: z.string(),
  state: z.enum(['recording', 'stopped']),
  startedAt: Iso,
  stoppedAt: Iso.nullable(),
  /** Why it stopped before the session ended (e.g. disk-full); absent when it ran to the end. */
  stopReason: z.string().max(200).optional(),
  updatedAt: Iso,
  segmentSeconds: z.number(),
  tracks: z.array(RecordingTrackSchema),
  gaps: z.array(RecordingGapSchema),
  timeline: z.array(TimelineEntrySchema),
});
export type RecordingManifest = z.infer<typeof RecordingManifestSchema>;

/** What the host console shows: recording on (before going live: will record) and since when. */
export const RecordingStatusSchema = z.object({
  on: z.boolean(),
  since: Iso.nullable(),
  /**
   * Why it stopped while the session is still live (disk-full), or why it is not recording
   * (failed: the recorder could not start; the next change tries again); absent otherwise.
   */
  stopReason: z.string().max(200).optional(),
});
export type RecordingStatus = z.infer<typeof RecordingStatusSchema>;

/** A chapter of the archive: an agenda item as it was on the air, in ms from the start. */
export const ArchiveChapterSchema = z.object({ title: z.string(), startMs: z.number(), endMs: z.number() });
export type ArchiveChapter = z.infer<typeof ArchiveChapterSchema>;

/** The archive made after the end (archive.json beside the manifest). */
export const ArchiveInfoSchema = z.object({
  /** In the session's recording folder: archive.webm (or .mkv when a track's codec needs it). */
  file: z.string(),
  bytes: z.number().int(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  seconds: z.number(),
  chapters: z.array(ArchiveChapterSchema),
  madeAt: Iso,
  /** How long the encoder took, and the niceness it ran at (as the system reported it). */
  encodeSeconds: z.number(),
  niceness: z.number().int(),
});
export type ArchiveInfo = z.infer<typeof ArchiveInfoSchema>;

/** The archive job as the host sees it: queued, running (with its progress), done or failed. */
export const ArchiveJobStateSchema = z.object({
  state: z.enum(['queued', 'running', 'done', 'failed']),
  progress: z.number(),
  error: z.string().nullable(),
});

/** One session's recording in the host console's Recordings view. */
export const RecordingSummarySchema = z.object({
  sessionId: z.string(),
  title: z.string(),
  state: z.enum(['recording', 'stopped']),
  startedAt: Iso,
  stoppedAt: Iso.nullable(),
  seconds: z.number(),
  /** The recorded segments' bytes, archive not counted. */
  bytes: z.number(),
  tracks: z.number().int(),
  gaps: z.number().int(),
  archive: ArchiveInfoSchema.nullable(),
  job: ArchiveJobStateSchema.nullable(),
});
export type RecordingSummary = z.infer<typeof RecordingSummarySchema>;

export const RecordingDetailSchema = RecordingSummarySchema.extend({ manifest: RecordingManifestSchema });
export type RecordingDetail = z.infer<typeof RecordingDetailSchema>;

/** Every file checked against the sha256 the manifest (and archive.json) hold. */
export const RecordingVerifySchema = z.object({
  checked: z.number().int(),
  ok: z.boolean(),
  /** Files whose content differs from their checksum, or that are missing. */
  mismatches: z.array(z.string()),
});
export type RecordingVerify = z.infer<typeof RecordingVerifySchema>;
export type ArchiveJobState = z.infer<typeof ArchiveJobStateSchema>;

/** Deleting asks for the session id again, so no click deletes a recording by mistake. */
export const RecordingDeleteSchema = z.object({ confirm: z.string().min(1).max(64) }).strict();
