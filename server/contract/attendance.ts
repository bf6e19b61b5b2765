// Attendance, connection health and the monitor: the Socket.IO requests a point page
// makes (on the `/point` namespace, beside the broadcast's), the `/monitor` namespace of
// the network desk, and the REST bodies of reports; check-in and rosters are in
// checkin.ts, re-exported here. Imports only zod: the browser imports this file.
import { z } from 'zod';
import { defineRequests } from './socket';
import { PointModeSchema, ToneAnswerSchema, ViewerModeSchema } from './broadcast';
import { SessionStateSchema } from './session-state';
import { ReportTimelineSchema } from './timeline';
import { CheckinEntrySchema, CheckinVoidSchema } from './checkin';

export * from './checkin';

const Id = z.string().min(1).max(128);
const Iso = z.string().max(40);
/** A measured number that may be missing (no consumer yet, browser without the stat). */
const num = (max: number) => z.number().min(0).max(max).nullable();

// ── health ──────────────────────────────────────────────────────────────────────────────

export const HEALTH_STATUSES = ['offline', 'connecting', 'good', 'degraded', 'poor', 'lost'] as const;
export const HealthStatusSchema = z.enum(HEALTH_STATUSES);
export type HealthStatus = z.infer<typeof HealthStatusSchema>;

/** What a point's browser measured over the last ~2 seconds (deltas, not totals, where said). */
/**
 * How a page's media arrives: straight from the SFU over UDP or TCP, or through a TURN
 * relay; `unknown` when the browser's statistics do not say (no local candidate for the
 * selected pair, or one without a protocol).
 */
export const MediaPathSchema = z.enum(['udp', 'tcp', 'relay', 'unknown']);
export type MediaPath = z.infer<typeof MediaPathSchema>;

export const HealthReportSchema = z
  .object({
    /** ICE state of the receive transport; null before one exists. */
    transportState: z.enum(['new', 'connecting', 'connected', 'disconnected', 'failed', 'closed']).nullable(),
    /** The media path: the selected candidate pair's local candidate (relay, else its protocol). */
    protocol: MediaPathSchema.nullable(),
    /** Selected candidate pair's current round-trip time. */
    rttMs: num(60_000),
    /** Round trip of the previous health:report's ack: the signalling path. */
    signalRttMs: num(60_000),
    /** Packets lost / (received + lost) over the interval, all media, percent. */
    lossPct: num(100),
    jitterMs: num(60_000),
    /** Received media bitrate over the interval. */
    bitrateKbps: num(1_000_000),
    consumers: z.number().int().min(0).max(50),
    framesDecoded: z.number().int().min(0).max(10_000).nullable(),
    framesDropped: z.number().int().min(0).max(10_000).nullable(),
    freezeCount: z.number().int().min(0).max(1000).nullable(),
    freezeMs: num(600_000),
    width: z.number().int().min(0).max(10_000).nullable(),
    height: z.number().int().min(0).max(10_000).nullable(),
    /** Concealed audio samples / received samples over the interval, percent. */
    audioConcealedPct: num(100),
    /**
     * Times the page's media watchdog rebuilt its receive transport and consumers since
     * the page loaded (a total, not a delta): media stalled while socket and ICE looked
     * fine. Optional: older pages and the load generator before it do not send it.
     */
    mediaRebuilds: z.number().int().min(0).max(10_000).optional(),
  })
  .strict();
export type HealthReport = z.infer<typeof HealthReportSchema>;

/** The SFU's view of one point (merged in by the server when the broadcast exposes it). */
export const SfuViewerStatsSchema = z.object({
  /** Lowest consumer score (0-10) of the point's video and audio consumers. */
  score: z.number().min(0).max(10).nullable(),
  /** Current spatial layer of the hall camera (0 = lowest), null when not video. */
  spatialLayer: z.number().int().nullable(),
  bytesSent: z.number().min(0).nullable(),
  availableOutgoingBitrate: z.number().min(0).nullable(),
  /**
   * What the SFU has received on the point's transports that have connected (ids joined,
   * bytes summed), for silent-media detection; null when none has.
   */
  media: z
    .object({ link: z.string(), bytesReceived: z.number().min(0) })
    .nullable()
    .optional(),
});
export type SfuViewerStats = z.infer<typeof SfuViewerStatsSchema>;

/** One recorded sample: the browser's report, the SFU's view, the derived status. */
export const HealthSampleSchema = z.object({
  at: Iso,
  status: HealthStatusSchema,
  quality: z.number().nullable(),
  rttMs: z.number().nullable(),
  lossPct: z.number().nullable(),
  jitterMs: z.number().nullable(),
  bitrateKbps: z.number().nullable(),
  freezeMs: z.number().nullable(),
  freezeCount: z.number().nullable(),
  framesDecoded: z.number().nullable(),
  width: z.number().nullable(),
  height: z.number().nullable(),
  audioConcealedPct: z.number().nullable(),
  protocol: z.string().nullable(),
  sfuScore: z.number().nullable(),
  sfuLayer: z.number().nullable(),
  /** The page's watchdog rebuilds so far (HealthReport.mediaRebuilds); absent in older samples. */
  mediaRebuilds: z.number().nullable().optional(),
});
export type HealthSample = z.infer<typeof HealthSampleSchema>;

// ── alerts ──────────────────────────────────────────────────────────────────────────────

/** `headcount`: a point reported far more delegates than it expects (kept, or refused above its limit). */
/** `checkin`: a point's check-ins went above its expected delegates, or reached their cap. */
export const ALERT_KINDS = ['quality', 'no-video', 'no-audio', 'other', 'headcount', 'checkin', 'disk'] as const;
/** The point id of alerts that are the recorder's, not a point's (kind `disk`). */
export const RECORDER_ALERT_POINT = 'recorder';
export const AlertKindSchema = z.enum(ALERT_KINDS);
export type AlertKind = z.infer<typeof AlertKindSchema>;

export const AlertSchema = z.object({
  id: Id,
  sessionId: Id,
  pointId: Id,
  pointName: z.string(),
  kind: AlertKindSchema,
  /** For quality alerts: the status that lasted too long (poor or lost). */
  status: HealthStatusSchema.nullable(),
  state: z.enum(['open', 'acknowledged', 'cleared']),
  raisedAt: Iso,
  /** How many times the same problem was reported while this alert was open. */
  count: z.number().int(),
  note: z.string(),
  acknowledgedAt: Iso.nullable(),
  acknowledgedBy: z.string().nullable(),
  assignee: z.string().nullable(),
  clearedAt: Iso.nullable(),
  clearedBy: z.string().nullable(),
  /** The point's last recorded sample when the alert was raised. */
  lastSample: HealthSampleSchema.nullable(),
});
export type Alert = z.infer<typeof AlertSchema>;

// ── the point page's requests (on `/point`) ─────────────────────────────────────────────

export const PROBLEM_KINDS = ['no-video', 'no-audio', 'other'] as const;

export const HeadcountSchema = z.object({
  count: z.number().int().min(0).max(100_000),
  at: Iso,
  by: z.string(),
  /** How many reports (first plus corrections). */
  reports: z.number().int(),
});
export type Headcount = z.infer<typeof HeadcountSchema>;

export const CheckinQrSchema = z.object({
  token: z.string(),
  url: z.string(),
  /** When the page should ask for the next one. */
  rotateAt: Iso,
  /** Delegates checked in at this point so far. */
  checkedIn: z.number().int(),
});
export type CheckinQr = z.infer<typeof CheckinQrSchema>;

export const pointAttendanceRequests = defineRequests({
  'headcount:report': {
    input: z
      .object({
        count: z.number().int().min(0).max(100_000),
        /** Who counted (the operator's name), optional. */
        by: z.string().trim().max(80).optional(),
      })
      .strict(),
    output: HeadcountSchema,
  },
  'health:report': { input: HealthReportSchema, output: z.object({ status: HealthStatusSchema }) },
  'problem:report': {
    input: z.object({ kind: z.enum(PROBLEM_KINDS), note: z.string().trim().max(500).optional() }).strict(),
    output: z.object({ alertId: Id }),
  },
  'checkin:qr': { input: z.object({}).strict().optional(), output: CheckinQrSchema },
  'attendance:mine': {
    input: z.object({}).strict().optional(),
    output: z.object({ headcount: HeadcountSchema.nullable(), checkedIn: z.number().int() }),
  },
});
export type PointAttendanceRequests = typeof pointAttendanceRequests;

// ── the monitor (`/monitor`) ────────────────────────────────────────────────────────────

/** One point's tile: everything the grid shows. */
export const PointTileSchema = z.object({
  id: Id,
  name: z.string(),
  level: z.string(),
  /** Code of the point's province: itself or its nearest ancestor of level `province`. */
  province: z.string().nullable(),
  district: z.string().nullable(),
  districtName: z.string(),
  status: HealthStatusSchema,
  statusSince: Iso.nullable(),
  /** 0-100, higher is better; null without media statistics. */
  quality: z.number().nullable(),
  rttMs: z.number().nullable(),
  lossPct: z.number().nullable(),
  bitrateKbps: z.number().nullable(),
  connected: z.boolean(),
  disconnects: z.number().int(),
  headcount: z.number().int().nullable(),
  expected: z.number().int(),
  checkedIn: z.number().int(),
  openAlerts: z.number().int(),
  /** The media path of the point's last report; absent from older servers. */
  mediaPath: MediaPathSchema.nullable().optional(),
  /** The verdict of the point's latest pre-flight check; null while it has not run one. */
  preflight: z.enum(['pass', 'warn', 'fail']).nullable().optional(),
  /** Its answer to "did you hear the tone?" in that check; null while it has not answered one. */
  tone: ToneAnswerSchema.nullable().optional(),
});
export type PointTile = z.infer<typeof PointTileSchema>;

export const RollupSchema = z.object({
  /** District code, or `province` for the whole. */
  code: z.string(),
  name: z.string(),
  invited: z.number().int(),
  connected: z.number().int(),
  delegates: z.number().int(),
  expected: z.number().int(),
  checkedIn: z.number().int(),
  byStatus: z.record(z.string(), z.number().int()),
});
export type Rollup = z.infer<typeof RollupSchema>;

export const MonitorSessionSchema = z.object({
  id: Id,
  title: z.string(),
  state: SessionStateSchema,
  scheduledStart: Iso,
  plannedEnd: Iso,
});
export type MonitorSession = z.infer<typeof MonitorSessionSchema>;

/** A province or district code, as in the registry; `_province` is the group of points outside any district. */
const AreaCode = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(40, 'at most 40 characters')
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, dash and underscore only');

/**
 * Which points a monitor watches: those of a province (at any depth below it), of a
 * district, or both; neither is every point. Its snapshot and deltas carry only those
 * points, their alerts and their totals.
 */
export const MonitorFilterSchema = z.object({ province: AreaCode.optional(), district: AreaCode.optional() }).strict();
export type MonitorFilter = z.infer<typeof MonitorFilterSchema>;

/** The session's provinces and districts (every invited point's), for the monitor's filter selectors. */
export const MonitorAreasSchema = z.object({
  provinces: z.array(z.object({ code: z.string(), name: z.string() })),
  districts: z.array(z.object({ code: z.string(), name: z.string(), province: z.string().nullable() })),
});
export type MonitorAreas = z.infer<typeof MonitorAreasSchema>;

export const MonitorSnapshotSchema = z.object({
  session: MonitorSessionSchema,
  /** The points the filter matches (every invited point without one). */
  points: z.array(PointTileSchema),
  /** The totals of those points (the whole session without a filter). */
  province: RollupSchema,
  districts: z.array(RollupSchema),
  /** Their alerts, and the alerts of no point (the recorder's). */
  alerts: z.array(AlertSchema),
  serverTime: Iso,
  /** Every province and district of the session, whatever the filter. */
  areas: MonitorAreasSchema,
  /** The filter this snapshot and the deltas after it follow ({} for every point). */
  filter: MonitorFilterSchema,
});
export type MonitorSnapshot = z.infer<typeof MonitorSnapshotSchema>;

/** About once a second: only the tiles and alerts that changed, and the new totals. */
export const MonitorDeltaSchema = z.object({
  sessionId: Id,
  seq: z.number().int(),
  /** When the server read the state this delta carries (older than a snapshot: ignore it). */
  at: Iso,
  points: z.array(PointTileSchema),
  province: RollupSchema,
  districts: z.array(RollupSchema),
  alerts: z.array(AlertSchema),
  session: MonitorSessionSchema.optional(),
});
export type MonitorDelta = z.infer<typeof MonitorDeltaSchema>;

export const ConnectionEventSchema = z.object({
  at: Iso,
  /** `media`: the point's media path was rebuilt by the server (e.g. its SFU worker died). */
  type: z.enum(['join', 'leave', 'status', 'headcount', 'problem', 'checkin', 'preflight', 'media']),
  /** Words for people, never parsed; the pages say `code` and `params` when the event has them. */
  detail: z.string(),
  /** For a `status` event: the health status it moved from and to. */
  status: z.object({ from: HealthStatusSchema, to: HealthStatusSchema }).optional(),
  /** What happened within the type, e.g. `worker-died`, `video-back`, `watchdog` for media. */
  code: z.string().optional(),
  params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
});
export type ConnectionEvent = z.infer<typeof ConnectionEventSchema>;

/** A media incident the server saw for a point: its worker died, or its video came back after `ms`. */
export type MediaEvent =
  { code: 'worker-died'; params: Record<string, never> } | { code: 'video-back'; params: { ms: number } };

export const PreflightSummarySchema = z.object({
  at: Iso,
  result: z.enum(['pass', 'warn', 'fail']),
  transport: z.string(),
  rttMs: z.number().nullable(),
  downlinkKbps: z.number().nullable(),
  reasons: z.array(z.string()),
  tone: ToneAnswerSchema.nullable().optional(),
});

export const PointDetailSchema = z.object({
  tile: PointTileSchema,
  contactName: z.string(),
  contactPhone: z.string(),
  /** Its room system's SIP address in the registry (dial-out); absent: none. */
  sipAddress: z.string().optional(),
  presence: z.object({
    firstJoin: Iso.nullable(),
    lastLeave: Iso.nullable(),
    connectedSeconds: z.number(),
    disconnects: z.number().int(),
  }),
  headcount: HeadcountSchema.nullable(),
  history: z.array(HealthSampleSchema),
  events: z.array(ConnectionEventSchema),
  preflight: PreflightSummarySchema.nullable(),
  alerts: z.array(AlertSchema),
  /** The point's check-ins, newest first, voided ones included (at most 500). */
  checkins: z.array(CheckinEntrySchema),
});
export type PointDetail = z.infer<typeof PointDetailSchema>;

const SessionRef = z.object({ sessionId: Id }).strict();

export const monitorRequests = defineRequests({
  'monitor:sessions': { input: z.object({}).strict().optional(), output: z.array(MonitorSessionSchema) },
  /**
   * Start watching a session (leaves any other, or the same one under another filter):
   * answers the snapshot of the points the filter matches; deltas of those points follow.
   */
  'monitor:watch': { input: SessionRef.extend(MonitorFilterSchema.shape).strict(), output: MonitorSnapshotSchema },
  'monitor:detail': { input: SessionRef.extend({ pointId: Id }).strict(), output: PointDetailSchema },
  /** Close the open detail view: its point's samples stop coming. */
  'monitor:undetail': { input: SessionRef, output: z.object({}) },
  'alert:ack': { input: SessionRef.extend({ alertId: Id }).strict(), output: AlertSchema },
  'alert:assign': {
    input: SessionRef.extend({ alertId: Id, assignee: z.string().trim().min(1).max(80) }).strict(),
    output: AlertSchema,
  },
  'alert:clear': { input: SessionRef.extend({ alertId: Id }).strict(), output: AlertSchema },
  'checkin:void': {
    input: SessionRef.extend({ pointId: Id, checkinId: Id, ...CheckinVoidSchema.shape }).strict(),
    output: CheckinEntrySchema,
  },
  /** Ask one point (`pointId`) or every point of the session to run its pre-flight check again. */
  'preflight:rerun': {
    input: SessionRef.extend({ pointId: Id.optional() }).strict(),
    output: z.object({}),
  },
  /** A point's mode (full, low, audio only): read it, or with `mode`, set it for the point. */
  'point:mode': {
    input: SessionRef.extend({ pointId: Id, mode: ViewerModeSchema.optional() }).strict(),
    output: PointModeSchema,
  },
});
export type MonitorRequests = typeof monitorRequests;

export const MonitorSampleSchema = z.object({ sessionId: Id, pointId: Id, sample: HealthSampleSchema });
export type MonitorSample = z.infer<typeof MonitorSampleSchema>;

/** Pushes to the monitor (`/monitor`); the namespace's event maps are in namespaces.ts. */
export const monitorPushes = {
  delta: MonitorDeltaSchema,
  /** A watched point's new sample, for an open detail view (only the watched point). */
  sample: MonitorSampleSchema,
};
export type MonitorPushes = typeof monitorPushes;

// ── REST: reports ───────────────────────────────────────────────────────────────────────

export const ReportRowSchema = z.object({
  pointId: z.string(),
  code: z.string(),
  name: z.string(),
  level: z.string(),
  district: z.string(),
  firstJoin: Iso.nullable(),
  lastLeave: Iso.nullable(),
  connectedMinutes: z.number(),
  disconnects: z.number().int(),
  headcount: z.number().int().nullable(),
  expected: z.number().int(),
  checkedIn: z.number().int(),
  worstStatus: HealthStatusSchema,
  alerts: z.number().int(),
  /** The latest pre-flight verdict and tone answer (absent from reports written before them). */
  preflight: z.enum(['pass', 'warn', 'fail']).nullable().optional(),
  tone: ToneAnswerSchema.nullable().optional(),
  /** Per item of `timeline.items`: seconds of it the point was away or lost. */
  missedSeconds: z.array(z.number()),
});
export type ReportRow = z.infer<typeof ReportRowSchema>;

export const ReportSchema = z.object({
  sessionId: z.string(),
  title: z.string(),
  generatedAt: Iso,
  startedAt: Iso.nullable(),
  endedAt: Iso.nullable(),
  rows: z.array(ReportRowSchema),
  province: RollupSchema,
  districts: z.array(RollupSchema),
  incidents: z.array(AlertSchema),
  timeline: ReportTimelineSchema,
});
export type Report = z.infer<typeof ReportSchema>;

export const ReportStatusSchema = z.object({
  sessionId: z.string(),
  state: z.enum(['none', 'queued', 'ready']),
  generatedAt: Iso.nullable(),
  csvUrl: z.string().nullable(),
  htmlUrl: z.string().nullable(),
});
export type ReportStatus = z.infer<typeof ReportStatusSchema>;
