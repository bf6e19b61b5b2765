// Attendance and connection health of every session, around the Redis stores: what the
// point sockets report, what check-in records, what the monitor reads, the alerts and
// the report. Nothing here knows Socket.IO or Express; realtime/ and http/ call it.
//
// This is the one object the rest of the server holds. It builds the stores and the five
// parts that own the work, all sharing one AttendanceCore (runtime.ts):
//   presence.ts        sockets joining and leaving, the per-session tick, a session's end
//   health-tracker.ts  the status machine (fenced by node with several nodes), alert checks
//   checkins.ts        check-in codes, the phone's form and device, the cap, voids, headcount
//   monitor-view.ts    tiles, totals, a point's detail, the desk's alert actions
//   report-writer.ts   the attendance and quality report
//
// Writes a client waits for (headcount, health report, problem, check-in) resolve only
// once stored; the 'store' connection fails at once while Redis is down, so the client
// gets `unavailable` and retries.
import { EventEmitter } from 'node:events';
import type { Point, Session, SessionState } from '../../contract/api';
import type {
  Alert,
  CheckinEntry,
  CheckinInfo,
  CheckinQr,
  CheckinResult,
  CheckinSubmit,
  Headcount,
  HealthReport,
  HealthStatus,
  MediaEvent,
  MonitorSession,
  MonitorSnapshot,
  PointDetail,
  PointTile,
  Report,
  Rollup,
} from '../../contract/attendance';
import { RECORDER_ALERT_POINT } from '../../contract/attendance';
import type { PreflightReport } from '../../contract/broadcast';
import { AlertStore } from '../health/alerts';
import { HealthStore } from '../health/store';
import { CheckinLedger } from './checkin-ledger';
import { CheckinTokens } from './checkin-token';
import { Checkins } from './checkins';
import { AttendanceJobs } from '../../jobs/attendance-jobs';
import { AttendanceLedger } from './ledger';
import { MonitorView } from './monitor-view';
import { HealthTracker } from './health-tracker';
import { PointPresence } from './presence';
import { ReportStore } from './report';
import { ReportWriter } from './report-writer';
import { TimelineStore } from '../timeline/store';
import { RosterStore } from './roster';
import { AttendanceCore, type AttendanceEventMap, type AttendanceOptions, type PointIdentity } from './runtime';

export {
  socketNode,
  type AttendanceEventMap,
  type AttendanceOptions,
  type HealthCluster,
  type PointIdentity,
  type PointLookup,
  type SessionLookup,
  type SfuStatsSource,
} from './runtime';

export class AttendanceService extends EventEmitter<AttendanceEventMap> {
  readonly ledger: AttendanceLedger;
  readonly health: HealthStore;
  readonly alerts: AlertStore;
  readonly rosters: RosterStore;
  readonly reports: ReportStore;
  readonly tokens: CheckinTokens;
  readonly checkinLedger: CheckinLedger;
  readonly jobs: AttendanceJobs;
  readonly #o: AttendanceOptions;
  readonly #core: AttendanceCore;
  readonly #health: HealthTracker;
  readonly #presence: PointPresence;
  readonly #checkins: Checkins;
  readonly #monitor: MonitorView;
  readonly #reports: ReportWriter;
  #closed = false;
  readonly #onState = (e: { sessionId: string; to: SessionState; at: string }) => {
    this.#core.forgetSession(e.sessionId);
    if (e.to === 'ended' || e.to === 'cancelled') {
      this.endSession(e.sessionId, Date.parse(e.at)).catch((err) =>
        this.#core.log.warn(
          { err, sessionId: e.sessionId },
          'closing attendance at the end failed; the runtime retries',
        ),
      );
    }
  };

  constructor(o: AttendanceOptions) {
    super();
    this.setMaxListeners(100);
    this.#o = o;
    this.ledger = new AttendanceLedger(o.redis);
    this.health = new HealthStore(o.redis, o.config.health.historyMaxLen);
    this.alerts = new AlertStore(o.redis, o.alertWebhooks && ((e, a) => o.alertWebhooks!.send(e, a)));
    this.rosters = new RosterStore(o.redis);
    this.reports = new ReportStore(o.redis, o.config.timeZone);
    this.tokens = new CheckinTokens(
      o.checkinKey,
      o.config.checkin.rotateSeconds,
      o.config.checkin.graceSeconds,
      o.now ?? Date.now,
      o.config.checkin.ticketSeconds,
    );
    this.checkinLedger = new CheckinLedger(o.redis);
    this.jobs = new AttendanceJobs(o.redisUrl, o.logger);
    // A runtime ticks only after this constructor returned, so #presence is set by then.
    this.#core = new AttendanceCore(
      o,
      { ledger: this.ledger, health: this.health, alerts: this.alerts },
      this,
      (rt, tick) => this.#presence.tick(rt, tick),
    );
    this.#health = new HealthTracker(this.#core, this.jobs, o.sfu);
    this.#presence = new PointPresence(this.#core, this.#health, this.jobs);
    this.#checkins = new Checkins(this.#core, this.tokens, this.rosters, this.checkinLedger);
    this.#monitor = new MonitorView(this.#core, this.checkinLedger);
    this.#reports = new ReportWriter(this.#core, this.reports, new TimelineStore(o.redis, o.logger));
  }

  start(): void {
    if (this.#o.worker !== false) {
      this.jobs.start({
        alertCheck: (d) => this.#health.alertCheck(d),
        report: async (d) => {
          const r = await this.generateReport(d.sessionId);
          return { points: r.rows.length };
        },
      });
    }
    this.#o.events?.on('stateChanged', this.#onState);
  }

  /** The briefing's time zone (BRIEFING_TZ), for the printed pages. */
  get timeZone(): string {
    return this.#o.config.timeZone;
  }

  point(id: string): Promise<Point | undefined> {
    return this.#o.points.get(id);
  }

  requireSession(id: string): Promise<Session> {
    return this.#core.session(id, true);
  }

  // ── point sockets and their reports ─────────────────────────────────────────────────

  pointConnected(id: PointIdentity, socketId: string): void {
    this.#presence.pointConnected(id, socketId);
  }

  pointDisconnected(id: PointIdentity, socketId: string, reason: string): void {
    this.#presence.pointDisconnected(id, socketId, reason);
  }

  /** Resolves once the presence writes queued so far are stored (tests, shutdown). */
  flushed(timeoutMs?: number): Promise<boolean> {
    return this.#presence.flushed(timeoutMs);
  }

  /** The 2-second report: graded, merged with the SFU's view, stored; answers the status. */
  async healthReport(id: PointIdentity, socketId: string, r: HealthReport): Promise<HealthStatus> {
    const { status, swept } = await this.#health.report(id, socketId, r);
    if (swept) this.#presence.pointConnected(id, socketId);
    return status;
  }

  reportHeadcount(id: PointIdentity, count: number, by: string | undefined): Promise<Headcount> {
    return this.#checkins.reportHeadcount(id, count, by);
  }

  reportProblem(id: PointIdentity, kind: 'no-video' | 'no-audio' | 'other', note: string | undefined) {
    return this.#health.reportProblem(id, kind, note);
  }

  checkinQr(id: PointIdentity): Promise<CheckinQr> {
    return this.#checkins.checkinQr(id);
  }

  mine(id: PointIdentity): Promise<{ headcount: Headcount | null; checkedIn: number }> {
    return this.#checkins.mine(id);
  }

  recordPreflight(id: PointIdentity, r: PreflightReport): Promise<void> {
    return this.#health.recordPreflight(id, r);
  }

  recordMediaEvent(id: PointIdentity, e: MediaEvent): Promise<void> {
    return this.#health.recordMediaEvent(id, e);
  }

  watch(sessionId: string, delta: 1 | -1): void {
    this.#presence.watch(sessionId, delta);
  }

  endSession(sessionId: string, endedAt: number): Promise<void> {
    return this.#presence.endSession(sessionId, endedAt);
  }

  // ── delegate check-in ───────────────────────────────────────────────────────────────

  /** The form for a phone that scanned a QR code; `device` is its device cookie's id. */
  checkinInfo(token: string, device: string): Promise<CheckinInfo> {
    return this.#checkins.checkinInfo(token, device);
  }

  /** `device`: the id in the phone's device cookie, undefined without a valid one. */
  checkinSubmit(body: CheckinSubmit, device: string | undefined): Promise<CheckinResult> {
    return this.#checkins.checkinSubmit(body, device);
  }

  checkins(sessionId: string, pointId?: string): Promise<CheckinEntry[]> {
    return this.#checkins.list(sessionId, pointId);
  }

  voidCheckin(id: PointIdentity, checkinId: string, reason: string, by: string): Promise<CheckinEntry> {
    return this.#checkins.voidCheckin(id, checkinId, reason, by);
  }

  // ── the monitor's reads and the desk's alert actions ────────────────────────────────

  monitorSessions(): Promise<MonitorSession[]> {
    return this.#monitor.monitorSessions();
  }

  tiles(
    sessionId: string,
  ): Promise<{ session: MonitorSession; tiles: PointTile[]; province: Rollup; districts: Rollup[] }> {
    return this.#monitor.tiles(sessionId);
  }

  alertsOpenCount(sessionId: string): Promise<Map<string, number>> {
    return this.#monitor.alertsOpenCount(sessionId);
  }

  snapshot(sessionId: string): Promise<MonitorSnapshot> {
    return this.#monitor.snapshot(sessionId);
  }

  detail(sessionId: string, pointId: string): Promise<PointDetail> {
    return this.#monitor.detail(sessionId, pointId);
  }

  requireInvited(sessionId: string, pointId: string): Promise<void> {
    return this.#monitor.requireInvited(sessionId, pointId);
  }

  acknowledgeAlert(sessionId: string, alertId: string, by: string): Promise<Alert> {
    return this.#monitor.acknowledgeAlert(sessionId, alertId, by);
  }

  assignAlert(sessionId: string, alertId: string, assignee: string, by: string): Promise<Alert> {
    return this.#monitor.assignAlert(sessionId, alertId, assignee, by);
  }

  clearAlert(sessionId: string, alertId: string, by: string): Promise<Alert> {
    return this.#monitor.clearAlert(sessionId, alertId, by);
  }

  /** The recorder's alert (not a point's): free space for the recordings ran low, or out. */
  async recordingDiskAlert(sessionId: string, level: 'low' | 'full', freeBytes: number): Promise<Alert> {
    const mb = Math.floor(freeBytes / (1024 * 1024));
    const note =
      level === 'full'
        ? `Đĩa ghi hình còn ${mb} MB: đã dừng ghi hình, buổi phát vẫn tiếp tục · ${mb} MB free: recording stopped, the broadcast goes on`
        : `Đĩa ghi hình sắp đầy, còn ${mb} MB · The recordings' disk is filling up: ${mb} MB free`;
    const { alert } = await this.alerts.raise({
      sessionId,
      pointId: RECORDER_ALERT_POINT,
      pointName: 'Máy ghi hình · Recorder',
      kind: 'disk',
      status: null,
      note,
      lastSample: null,
      at: new Date(this.#core.now()),
    });
    return alert;
  }

  /** Free space for the recordings is back above the warning threshold: the open disk alert clears. */
  recordingDiskResolved(sessionId: string): Promise<Alert | null> {
    return this.alerts.clearOpen(
      sessionId,
      RECORDER_ALERT_POINT,
      'disk',
      'hệ thống · system',
      new Date(this.#core.now()),
    );
  }

  // ── reports ─────────────────────────────────────────────────────────────────────────

  generateReport(sessionId: string): Promise<Report> {
    return this.#reports.generate(sessionId);
  }

  /** Stops timers and the job worker and queue (a running job finishes). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.events?.off('stateChanged', this.#onState);
    this.#presence.close();
    this.#core.stopRuntimes();
    await this.jobs.close();
  }
}
