// The recording of one live session: every producer of its room that a point would see
// or hear (the hall's camera, its microphone, the slides, and the floor's camera and
// microphone while a point holds it) is tapped from the SFU and written by its own
// ffmpeg into short segments. Every source of the hall's camera and microphone is kept
// (the console, an encoder warming up), each track naming its origin; the archive's
// program plays only the one the points received (the timeline's `hall` entries). The
// manifest beside them is rewritten (atomically) as segments complete, so a crash leaves a
// manifest a few seconds old and the files.
//
// Media the hall loses (a worker death closes its producers) opens a gap for the source,
// closed when the source is produced again; a server restart continues the same manifest
// and names the time it was down as a gap. The broadcast never waits on any of this: the
// room sends RTP to the recorder and forgets it.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { BroadcastRoom, MediaSource, ProducerInfo, RecordingTapInfo } from '../../sfu';
import { HALL_SOURCES, MEDIA_SOURCES } from '../contract/media-sources';
import { RecordingManifestSchema, type RecordingManifest, type RecordingTrack } from '../contract/recording';
import type { TimelineEntry } from '../contract/timeline';
import { sourceOfPeer } from '../realtime/hall-source';
import { FfmpegTrack, freeRtpPort } from './ffmpeg-track';

export type RecordingRoom = Pick<
  BroadcastRoom,
  | 'listProducers'
  | 'openRecordingTap'
  | 'resumeRecordingTap'
  | 'recordingKeyFrame'
  | 'closeRecordingTap'
  | 'floorHolder'
  | 'on'
  | 'off'
>;

export interface SessionRecordingOptions {
  sessionId: string;
  title: string;
  /** The session's own folder. */
  dir: string;
  segmentSeconds: number;
  ffmpegPath: string;
  /** Where the recorders listen for the taps' RTP (loopback). */
  ip: string;
  timeline: () => Promise<TimelineEntry[]>;
  log: Logger;
  now?: () => Date;
  /** The recorder processes this server runs (see FfmpegTrackOptions). */
  processes?: Set<ChildProcess>;
  /** A recorder died (a full disk is one cause): the owner may look at free space at once. */
  onRecorderDied?: () => void;
}

/** Every source is recorded; only the hall's absence is a gap (the floor's come and go). */
const RECORDED: readonly MediaSource[] = MEDIA_SOURCES;
const HALL: readonly MediaSource[] = HALL_SOURCES;
const RESTART_AFTER_MS = 1000;

interface Live {
  track: RecordingTrack;
  tap: RecordingTapInfo;
  ffmpeg: FfmpegTrack;
}

export class SessionRecording {
  readonly #o: SessionRecordingOptions;
  readonly #now: () => Date;
  readonly #m: RecordingManifest;
  readonly #live = new Map<string, Live>();
  /** Every recorder started, live or not: stop() makes sure none is left waiting for packets. */
  readonly #recorders = new Set<FfmpegTrack>();
  /** Why each producer closed, as the room announced it. */
  readonly #closeReasons = new Map<string, string>();
  #room: RecordingRoom | undefined;
  #keyFrames: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #stopped = false;

  private constructor(o: SessionRecordingOptions, manifest: RecordingManifest) {
    this.#o = o;
    this.#now = o.now ?? (() => new Date());
    this.#m = manifest;
  }

  /** Starts recording (or continues a recording an earlier process left). */
  static async start(o: SessionRecordingOptions, room: RecordingRoom): Promise<SessionRecording> {
    await fs.mkdir(o.dir, { recursive: true });
    const at = (o.now ?? (() => new Date()))().toISOString();
    const before = await readManifest(o.dir);
    const manifest: RecordingManifest = before
      ? continued(before, at)
      : {
          version: 1,
          sessionId: o.sessionId,
          title: o.title,
          state: 'recording',
          startedAt: at,
          stoppedAt: null,
          updatedAt: at,
          segmentSeconds: o.segmentSeconds,
          tracks: [],
          gaps: [],
          timeline: [],
        };
    const rec = new SessionRecording(o, manifest);
    rec.attach(room);
    rec.#keyFrames = setInterval(() => rec.#keyFrameAll(), o.segmentSeconds * 1000);
    rec.#keyFrames.unref();
    await rec.#save();
    return rec;
  }

  get startedAt(): string {
    return this.#m.startedAt;
  }

  get manifest(): RecordingManifest {
    return structuredClone(this.#m);
  }

  /** Follows this room (a new one after the old closed) and records what it has now. */
  attach(room: RecordingRoom): void {
    if (this.#room === room || this.#stopped) return;
    this.#detach();
    this.#room = room;
    room.on('newProducer', this.#onProducer);
    room.on('producerClosed', this.#onProducerClosed);
    room.on('recordingTapClosed', this.#onTapClosed);
    for (const p of room.listProducers()) this.#onProducer(p);
  }

  #detach(): void {
    this.#room?.off('newProducer', this.#onProducer);
    this.#room?.off('producerClosed', this.#onProducerClosed);
    this.#room?.off('recordingTapClosed', this.#onTapClosed);
    this.#room = undefined;
  }

  readonly #onProducer = (p: ProducerInfo) => {
    if (!RECORDED.includes(p.source) || this.#stopped) return;
    this.#startTrack(p).catch((err: unknown) =>
      this.#o.log.error({ err, producerId: p.producerId, source: p.source }, 'could not record a producer'),
    );
  };

  readonly #onProducerClosed = (p: { producerId: string; reason: string }) => {
    this.#closeReasons.set(p.producerId, p.reason);
  };

  readonly #onTapClosed = ({ tapId }: { tapId: string }) => {
    const live = this.#live.get(tapId);
    if (!live) return;
    this.#live.delete(tapId);
    const at = this.#now().toISOString();
    live.track.endedAt = at;
    if (!this.#stopped && HALL.includes(live.tap.source)) {
      // Asked lazily: the room may announce the producer's close just after the tap's.
      setImmediate(() => {
        const reason = this.#closeReasons.get(live.tap.producerId) ?? 'closed';
        this.#m.gaps.push({ source: live.tap.source, from: at, to: null, reason });
        void this.#save();
      });
    }
    void live.ffmpeg.stop().then(() => this.#save());
  };

  async #startTrack(p: ProducerInfo): Promise<void> {
    const room = this.#room!;
    const port = await freeRtpPort(this.#o.ip);
    const tap = await room.openRecordingTap(p.producerId, { ip: this.#o.ip, port });
    const n = this.#m.tracks.length + 1;
    const track: RecordingTrack = {
      id: `${String(n).padStart(2, '0')}-${p.source}`,
      source: p.source,
      kind: p.kind,
      codec: tap.codec.mimeType,
      producerId: p.producerId,
      pointId: p.source.startsWith('floor-') ? (room.floorHolder ?? p.peerId) : null,
      origin: p.source === 'host-camera' || p.source === 'host-mic' ? (sourceOfPeer(p.peerId) ?? null) : null,
      startedAt: this.#now().toISOString(),
      endedAt: null,
      restarts: 0,
      segments: [],
    };
    let ffmpeg: FfmpegTrack;
    try {
      ffmpeg = await FfmpegTrack.start(
        {
          dir: path.join(this.#o.dir, track.id),
          tap,
          port,
          segmentSeconds: this.#o.segmentSeconds,
          ffmpegPath: this.#o.ffmpegPath,
          processes: this.#o.processes,
          startNumber: 0,
          log: this.#o.log.child({ track: track.id }),
        },
        this.#o.ip,
      );
    } catch (err) {
      room.closeRecordingTap(tap.tapId);
      throw err;
    }
    this.#recorders.add(ffmpeg);
    if (this.#stopped) {
      // Stopped while this recorder started: stop() did not see it.
      await ffmpeg.stop();
      room.closeRecordingTap(tap.tapId);
      return;
    }
    const live: Live = { track, tap, ffmpeg };
    this.#m.tracks.push(track);
    this.#live.set(tap.tapId, live);
    ffmpeg.on('segment', (s) => {
      track.segments.push({ ...s, file: `${track.id}/${s.file}` });
      void this.#save();
    });
    ffmpeg.on('exit', ({ expected, died }) => {
      if (died) this.#recorderDied(live);
      else if (!expected) this.#restartEnded(live);
    });
    try {
      await room.resumeRecordingTap(tap.tapId);
      // The track starts when its media flows to a listening recorder (starting ffmpeg takes
      // a moment on a busy machine): the archive places it there. Its source's gap ends then.
      track.startedAt = this.#now().toISOString();
      for (const g of this.#m.gaps) if (g.source === p.source && g.to === null) g.to = track.startedAt;
      await room.recordingKeyFrame(tap.tapId);
      await this.#save();
    } catch (err) {
      // The room or its worker went away while the recorder started: nothing will reach
      // it, and a recorder that waits for ever must not be left behind.
      await this.#stopTrack(live).catch(() => undefined);
      throw err;
    }
    if (this.#stopped) await this.#stopTrack(live);
  }

  /** ffmpeg died: the seconds until its restart are a gap of that source. */
  #recorderDied(live: Live): void {
    if (this.#stopped || !this.#live.has(live.tap.tapId)) return;
    const gap = {
      source: live.tap.source,
      from: this.#now().toISOString(),
      to: null as string | null,
      reason: 'recorder-died',
    };
    this.#m.gaps.push(gap);
    void this.#save();
    this.#o.onRecorderDied?.();
    setTimeout(() => {
      if (this.#stopped || !this.#live.has(live.tap.tapId)) return;
      live.ffmpeg
        .restart(this.#o.ip)
        .then(async () => {
          live.track.restarts++;
          gap.to = this.#now().toISOString();
          await this.#room?.recordingKeyFrame(live.tap.tapId);
          await this.#save();
        })
        .catch((err: unknown) => this.#o.log.error({ err, track: live.track.id }, 'could not restart the recorder'));
    }, RESTART_AFTER_MS).unref();
  }

  /** ffmpeg ended by itself (a BYE from the sender) while the tap goes on: it waits for packets again. */
  #restartEnded(live: Live): void {
    setTimeout(() => {
      if (this.#stopped || !this.#live.has(live.tap.tapId)) return;
      live.ffmpeg
        .restart(this.#o.ip)
        .then(() => this.#room?.recordingKeyFrame(live.tap.tapId))
        .catch((err: unknown) => this.#o.log.error({ err, track: live.track.id }, 'could not restart the recorder'));
    }, RESTART_AFTER_MS).unref();
  }

  #keyFrameAll(): void {
    for (const { tap } of this.#live.values()) {
      if (tap.kind === 'video') void this.#room?.recordingKeyFrame(tap.tapId).catch(() => undefined);
    }
  }

  /** The recorder first (the BYE ends its last segment where the media ends), then the tap. */
  async #stopTrack(live: Live): Promise<void> {
    this.#live.delete(live.tap.tapId);
    live.track.endedAt ??= this.#now().toISOString();
    await live.ffmpeg.stop();
    this.#room?.closeRecordingTap(live.tap.tapId);
  }

  /**
   * Stops every recorder, waits for their last segments, writes the manifest. `final`
   * false (a server shutting down mid-briefing) leaves it `recording`, so the next start
   * continues it with the time between as a gap. `reason`: why it stops before its
   * session ends (e.g. disk-full), kept in the manifest. Idempotent.
   */
  async stop(final = true, reason?: string): Promise<RecordingManifest> {
    if (!this.#stopped) {
      if (reason) this.#m.stopReason = reason;
      this.#stopped = true;
      clearInterval(this.#keyFrames);
      const at = this.#now().toISOString();
      await Promise.all([...this.#live.values()].map((l) => this.#stopTrack(l)));
      await Promise.all([...this.#recorders].map((r) => r.stop()));
      this.#detach();
      if (final) {
        for (const g of this.#m.gaps) g.to ??= at;
        this.#m.state = 'stopped';
        this.#m.stoppedAt = at;
      }
      await this.#save();
    }
    await this.#writing;
    return this.manifest;
  }

  /** Writes the manifest (one write at a time; tmp file then rename, so it is never half written). */
  #save(): Promise<void> {
    this.#writing = this.#writing
      .then(async () => {
        this.#m.updatedAt = this.#now().toISOString();
        this.#m.timeline = await this.#o.timeline().catch(() => this.#m.timeline);
        const file = path.join(this.#o.dir, 'manifest.json');
        await fs.writeFile(`${file}.tmp`, JSON.stringify(this.#m, null, 2));
        await fs.rename(`${file}.tmp`, file);
      })
      .catch((err: unknown) => this.#o.log.error({ err }, 'could not write the recording manifest'));
    return this.#writing;
  }
}

export async function readManifest(dir: string): Promise<RecordingManifest | undefined> {
  const raw = await fs.readFile(path.join(dir, 'manifest.json'), 'utf8').catch(() => undefined);
  if (raw === undefined) return undefined;
  const parsed = RecordingManifestSchema.safeParse(JSON.parse(raw));
  return parsed.success ? parsed.data : undefined;
}

/** An earlier process's manifest: its open tracks end where it last wrote; the hall's sources have a gap since. */
function continued(m: RecordingManifest, at: string): RecordingManifest {
  const last = m.updatedAt;
  for (const t of m.tracks) t.endedAt ??= last;
  // Down since its last write (a server restart), or stopped early (a full disk) and now resumed.
  const wasRecording = m.state === 'recording' || m.stopReason !== undefined;
  const gaps = wasRecording
    ? HALL.filter((s) => m.tracks.some((t) => t.source === s)).map((source) => ({
        source,
        from: m.state === 'recording' ? last : (m.stoppedAt ?? last),
        to: null,
        reason: m.state === 'recording' ? 'server-restart' : m.stopReason!,
      }))
    : [];
  for (const g of m.gaps) g.to ??= last;
  const { stopReason: _ended, ...rest } = m;
  return { ...rest, state: 'recording', stoppedAt: null, updatedAt: at, gaps: [...m.gaps, ...gaps] };
}
