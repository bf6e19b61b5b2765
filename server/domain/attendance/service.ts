// Attendance and connection health of every session, around the Redis stores: what the
// point sockets report, what check-in records, what the monitor reads, the alerts and
// the report. Nothing here knows Socket.IO or Express; realtime/ and http/ call it.
//
// Per session and process there is one SessionRuntime with ONE 1-second timer (never one
// per point): it ages the status of this process's points (reports that stopped),
// refreshes and sweeps socket liveness, and notices the session's end.
//
// Several nodes (server/cluster/health-sharing.ts, `setCluster`): a point's status machine
// runs on the node that serves its socket, and only there: that node claims the point in
// `health:<s>:owner`, and its writes are fenced by that claim, so the reports and ageing
// ticks of a page that moved away are refused. A node that takes a point over (a page
// that moved to it, or a node that went away) reloads the machine from Redis and goes on
// from there. Socket entries in the ledger carry their node's id (`<node>|<socket>`), so
// when a node leaves the cluster any survivor closes its points' presence at once and
// they turn lost everywhere, instead of after the 60-second sweep.
//
// Writes a client waits for (headcount, health report, problem, check-in) resolve only
// once stored; the 'store' connection fails at once while Redis is down, so the client
// gets `unavailable` and retries. Presence changes come from socket events nobody waits
// for, so they go through an in-order retry queue and survive a Redis restart.
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Page, Point, Session, SessionState, SessionSummary } from '../../contract/api';
import type {
  Alert,
  CheckinInfo,
  CheckinQr,
  CheckinResult,
  CheckinSubmit,
  Headcount,
  HealthReport,
  HealthSample,
  HealthStatus,
  MonitorSession,
  MonitorSnapshot,
  PointDetail,
  PointTile,
  Report,
  Rollup,
  SfuViewerStats,
} from '../../contract/attendance';
import type { PreflightReport } from '../../contract/broadcast';
import type { Config } from '../../config';
import { AppError, badRequest, notFound } from '../../errors';
import { judgeHeadcount } from './headcount-bound';
import type { SessionEvents } from '../sessions/events';
import { searchKey } from '../points/validate';
import { AlertStore } from '../health/alerts';
import { HealthStore, type StoredHealth } from '../health/store';
import { gradeReport, initialHealth, nextHealth, type HealthEvent } from '../health/status';
import { CheckinTokens } from './checkin-token';
import { AttendanceJobs } from './jobs';
import { AttendanceLedger, connectedMs } from './ledger';
import { buildReport, ReportStore } from './report';
import { rollup } from './rollup';
import { RosterStore } from './roster';

/** The SFU's view of a point; implemented by the broadcast service (see README). */
export interface SfuStatsSource {
  getViewerStats(sessionId: string, pointId: string): Promise<SfuViewerStats | null> | SfuViewerStats | null;
}

export interface SessionLookup {
  get(id: string): Promise<Session | undefined>;
  list(q: { limit: number; offset: number; state?: SessionState }): Promise<Page<SessionSummary>>;
}

export interface PointLookup {
  get(id: string): Promise<Point | undefined>;
}

export interface PointIdentity {
  sessionId: string;
  pointId: string;
}

/** Several nodes share the points (set by server/cluster/health-sharing.ts). */
export interface HealthCluster {
  /** This process's node id (NODE_ID). */
  nodeId: string;
  /** The ids of the nodes alive now; rejects when that is unknown (Redis down). */
  aliveNodes(): Promise<ReadonlySet<string>>;
}

/** A ledger socket entry `<node>|<socket id>`: the node it is on, if it says. */
export function socketNode(member: string): string | undefined {
  const i = member.indexOf('|');
  return i > 0 ? member.slice(0, i) : undefined;
}

export interface AttendanceOptions {
  config: Config;
  logger: Logger;
  /** The 'store' connection (fails fast while Redis is down). */
  redis: Redis;
  /** For BullMQ's own connections. */
  redisUrl: string;
  sessions: SessionLookup;
  points: PointLookup;
  events?: SessionEvents;
  publicUrl: () => string;
  /** Signs check-in codes and tickets (server/security/keys.ts, purpose `checkin`). */
  checkinKey: Buffer;
  /** Run the job worker in this process (default true). */
  worker?: boolean;
  now?: () => number;
}

export interface AttendanceEventMap {
  /** Something about a point changed (status, presence, headcount, check-in, alert). */
  changed: [{ sessionId: string; pointId: string }];
  /** A new sample of a point, for an open detail view. */
  sample: [{ sessionId: string; pointId: string; sample: HealthSample }];
}

const BAD: readonly HealthStatus[] = ['poor', 'lost'];
const ACTIVE: readonly SessionState[] = ['lobby', 'live'];
/** A socket not seen for this long belonged to a process that died: swept. */
const SOCKET_STALE_MS = 60_000;
const TOUCH_EVERY_TICKS = 15;
const SESSION_CHECK_EVERY_TICKS = 5;
/** A runtime with no local socket and no watcher stops after this many idle ticks. */
const IDLE_TICKS = 60;
const SESSION_CACHE_MS = 2000;
/** With several nodes: how long a page let go by the server leaves its point's presence open. */
const HANDOVER_GRACE_MS = 2000;
/** With several nodes, sockets of nodes gone are looked for at least this often (ticks). */
const NODE_SWEEP_EVERY_TICKS = 5;

const STATUS_VI: Record<HealthStatus, string> = {
  offline: 'không kết nối',
  connecting: 'đang kết nối',
  good: 'tốt',
  degraded: 'giảm chất lượng',
  poor: 'kém',
  lost: 'mất kết nối',
};

interface LocalHealth extends StoredHealth {
  /** Socket ids of this point on this process. */
  sockets: Set<string>;
  /** Status changes of one point run one after the other (join, report and tick race). */
  lock: Promise<unknown>;
  /**
   * With several nodes: the machine above is this node's own (loaded after it took the
   * point). False while another node may own it: the next change reloads it first.
   */
  owned: boolean;
}

class SessionRuntime {
  readonly points = new Map<string, LocalHealth>();
  watchers = 0;
  #timer: NodeJS.Timeout | undefined;
  #ticks = 0;
  #idle = 0;
  #running = false;
  session: { value: Session | undefined; at: number } = { value: undefined, at: 0 };
  /** The live nodes at the last look, as one string, to notice one going. */
  alive = '';

  constructor(
    readonly sessionId: string,
    private readonly onTick: (rt: SessionRuntime, tick: number) => Promise<void>,
    private readonly onIdle: (rt: SessionRuntime) => void,
  ) {}

  ensureTimer(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#tick(), 1000);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#running) return; // a slow Redis must not pile ticks up
    this.#running = true;
    try {
      this.#ticks++;
      const localSockets = [...this.points.values()].reduce((n, p) => n + p.sockets.size, 0);
      this.#idle = localSockets === 0 && this.watchers === 0 ? this.#idle + 1 : 0;
      if (this.#idle >= IDLE_TICKS) return this.onIdle(this);
      await this.onTick(this, this.#ticks);
    } finally {
      this.#running = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

export class AttendanceService extends EventEmitter<AttendanceEventMap> {
  readonly ledger: AttendanceLedger;
  readonly health: HealthStore;
  readonly alerts: AlertStore;
  readonly rosters: RosterStore;
  readonly reports: ReportStore;
  readonly tokens: CheckinTokens;
  readonly jobs: AttendanceJobs;
  readonly #o: AttendanceOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #runtimes = new Map<string, SessionRuntime>();
  #sfu: SfuStatsSource | undefined;
  #cluster: HealthCluster | undefined;
  /** Presence writes waiting for Redis, in order. */
  readonly #queue: { run: () => Promise<void>; what: string }[] = [];
  #draining = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #onState = (e: { sessionId: string; to: SessionState; at: string }) => {
    const rt = this.#runtimes.get(e.sessionId);
    if (rt) rt.session = { value: undefined, at: 0 };
    if (e.to === 'ended' || e.to === 'cancelled') {
      this.endSession(e.sessionId, Date.parse(e.at)).catch((err) =>
        this.#log.warn({ err, sessionId: e.sessionId }, 'closing attendance at the end failed; the runtime retries'),
      );
    }
  };

  constructor(o: AttendanceOptions) {
    super();
    this.setMaxListeners(100);
    this.#o = o;
    this.#log = o.logger.child({ component: 'attendance' });
    this.#now = o.now ?? Date.now;
    this.ledger = new AttendanceLedger(o.redis);
    this.health = new HealthStore(o.redis, o.config.health.historyMaxLen);
    this.alerts = new AlertStore(o.redis);
    this.rosters = new RosterStore(o.redis);
    this.reports = new ReportStore(o.redis);
    this.tokens = new CheckinTokens(
      o.checkinKey,
      o.config.checkin.rotateSeconds,
      o.config.checkin.graceSeconds,
      this.#now,
    );
    this.jobs = new AttendanceJobs(o.redisUrl, o.logger);
  }

  start(): void {
    if (this.#o.worker !== false) {
      this.jobs.start({
        alertCheck: (d) => this.#alertCheck(d),
        report: async (d) => {
          const r = await this.generateReport(d.sessionId);
          return { points: r.rows.length };
        },
      });
    }
    this.#o.events?.on('stateChanged', this.#onState);
  }

  point(id: string): Promise<Point | undefined> {
    return this.#o.points.get(id);
  }

  requireSession(id: string): Promise<Session> {
    return this.#session(id, true);
  }

  /** Several nodes share the points: set before the server listens (server/cluster/health-sharing.ts). */
  setCluster(c: HealthCluster | undefined): void {
    this.#cluster = c;
  }

  /** The ledger's entry for a socket of this process. */
  #member(socketId: string): string {
    return this.#cluster ? `${this.#cluster.nodeId}|${socketId}` : socketId;
  }

  /** The broadcast service plugs the SFU's per-point statistics in here. */
  setSfuStatsSource(src: SfuStatsSource | undefined): void {
    this.#sfu = src;
  }

  // ── sessions and points ─────────────────────────────────────────────────────────────

  async #session(id: string, fresh = false): Promise<Session> {
    const rt = this.#runtimes.get(id);
    if (!fresh && rt?.session.value && this.#now() - rt.session.at < SESSION_CACHE_MS) return rt.session.value;
    const s = await this.#o.sessions.get(id);
    if (!s) throw notFound(`session ${id}`);
    if (rt) rt.session = { value: s, at: this.#now() };
    return s;
  }

  async #requireOpen(id: string, what: string): Promise<Session> {
    const s = await this.#session(id);
    if (!ACTIVE.includes(s.state)) {
      throw new AppError('not_open', `${what} is open only from the lobby to the end of the briefing`);
    }
    return s;
  }

  #runtime(sessionId: string): SessionRuntime {
    let rt = this.#runtimes.get(sessionId);
    if (!rt) {
      rt = new SessionRuntime(
        sessionId,
        (r, tick) => this.#tick(r, tick),
        (r) => {
          r.stop();
          this.#runtimes.delete(r.sessionId);
        },
      );
      this.#runtimes.set(sessionId, rt);
    }
    rt.ensureTimer();
    return rt;
  }

  async #local(rt: SessionRuntime, pointId: string): Promise<LocalHealth> {
    let h = rt.points.get(pointId);
    if (!h) {
      const stored = await this.health.get(rt.sessionId, pointId);
      h = rt.points.get(pointId) ?? {
        state: stored?.state ?? initialHealth(),
        last: stored?.last ?? null,
        badSince: stored?.badSince ?? null,
        sockets: new Set(),
        lock: Promise.resolve(),
        owned: false,
      };
      rt.points.set(pointId, h);
    }
    return h;
  }

  // ── point sockets ───────────────────────────────────────────────────────────────────

  /** A socket of the point connected (call once per socket). */
  pointConnected(id: PointIdentity, socketId: string): void {
    const rt = this.#runtime(id.sessionId);
    const at = this.#now();
    void this.#local(rt, id.pointId)
      .then((h) => h.sockets.add(socketId))
      .catch(() => undefined);
    this.#enqueue(`join ${id.sessionId}/${id.pointId}`, async () => {
      const s = await this.#session(id.sessionId);
      if (s.state === 'ended' || s.state === 'cancelled') return;
      // The newest page's node computes the point's status from now on.
      if (this.#cluster) await this.health.claim(id.sessionId, id.pointId, this.#cluster.nodeId);
      const joined = await this.ledger.join(id.sessionId, id.pointId, this.#member(socketId), at);
      if (joined) await this.#applyHealth(rt, id.pointId, { type: 'connect', at }, null);
      this.emit('changed', id);
    });
  }

  /** A socket of the point went away. */
  pointDisconnected(id: PointIdentity, socketId: string, reason: string): void {
    const rt = this.#runtime(id.sessionId);
    const at = this.#now();
    const local = rt.points.get(id.pointId);
    if (local) {
      local.sockets.delete(socketId);
      if (local.sockets.size === 0) local.owned = false;
    }
    const leave = () =>
      this.#enqueue(`leave ${id.sessionId}/${id.pointId}`, async () => {
        const left = await this.ledger.leave(id.sessionId, id.pointId, this.#member(socketId), at, reason);
        if (left) await this.#applyHealth(rt, id.pointId, { type: 'disconnect', at }, null);
        this.emit('changed', id);
      });
    // A page let go by the server was most often replaced by a newer one of the same point.
    // In one process the newer page's join is queued before this leave; across nodes it
    // is written by another process, after this socket was already kicked. Leaving a
    // little later lets it land first, so a page moving between nodes is not counted as a
    // disconnect and does not blink lost (the leave keeps its time).
    if (this.#cluster && reason === 'server namespace disconnect') {
      setTimeout(leave, HANDOVER_GRACE_MS).unref();
    } else {
      leave();
    }
  }

  #enqueue(what: string, run: () => Promise<void>): void {
    if (this.#closed) return;
    this.#queue.push({ run, what });
    void this.#drain();
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const job = this.#queue[0]!;
        try {
          await job.run();
          this.#queue.shift();
        } catch (err) {
          const e = err instanceof AppError ? err : undefined;
          if (e && e.code !== 'unavailable' && e.code !== 'internal') {
            this.#queue.shift(); // e.g. the session was deleted: nothing to retry
            continue;
          }
          this.#log.warn(
            { err: (err as Error).message, what: job.what, queued: this.#queue.length },
            'presence write failed; retrying',
          );
          this.#retryTimer = setTimeout(() => void this.#drain(), 1000);
          this.#retryTimer.unref();
          return;
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Resolves once the presence writes queued so far are stored (tests, shutdown). */
  async flushed(timeoutMs = 10_000): Promise<boolean> {
    const deadline = this.#now() + timeoutMs;
    while (this.#queue.length > 0 && this.#now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.#queue.length === 0;
  }

  /**
   * Applies a status event, stores it, and handles a change: the event log, alert checks
   * queued or cancelled, quality alerts cleared on recovery.
   */
  async #applyHealth(
    rt: SessionRuntime,
    pointId: string,
    e: HealthEvent,
    sample: HealthSample | null,
  ): Promise<HealthStatus> {
    return (await this.#applyHealthOwned(rt, pointId, e, sample)).status;
  }

  /** As #applyHealth; `written` is false when another node owns the point (nothing stored). */
  async #applyHealthOwned(
    rt: SessionRuntime,
    pointId: string,
    e: HealthEvent,
    sample: HealthSample | null,
  ): Promise<{ status: HealthStatus; written: boolean }> {
    const h = await this.#local(rt, pointId);
    const run = h.lock.then(() => this.#applyHealthNow(rt, pointId, h, e, sample));
    h.lock = run.catch(() => undefined);
    return run;
  }

  async #applyHealthNow(
    rt: SessionRuntime,
    pointId: string,
    h: LocalHealth,
    e: HealthEvent,
    sample: HealthSample | null,
  ): Promise<{ status: HealthStatus; written: boolean }> {
    const c = this.#cluster;
    if (c && !h.owned) {
      // Another node may have moved the machine on since this one last held the point.
      const stored = await this.health.get(rt.sessionId, pointId);
      h.state = stored?.state ?? initialHealth();
      h.last = stored?.last ?? null;
      h.badSince = stored?.badSince ?? null;
      h.owned = h.sockets.size > 0;
    }
    const prev = h.state;
    const next = nextHealth(prev, e, this.#o.config.health);
    const isBad = BAD.includes(next.status);
    const badSince = isBad ? (BAD.includes(prev.status) && h.badSince !== null ? h.badSince : e.at) : null;
    if (sample) sample.status = next.status;
    const stored: StoredHealth = { state: next, last: sample ?? h.last, badSince };
    // Presence changes are decided once by the ledger's scripts, so whoever sees one takes
    // the point; reports and ageing only count from its owner.
    const fence = c ? { node: c.nodeId, take: e.type !== 'report' && e.type !== 'tick' } : undefined;
    if (!(await this.health.record(rt.sessionId, pointId, sample, stored, fence))) {
      h.owned = false;
      const now = await this.health.get(rt.sessionId, pointId);
      return { status: now?.state.status ?? prev.status, written: false };
    }
    const prevBadSince = h.badSince;
    h.state = next;
    h.last = stored.last;
    h.badSince = badSince;
    if (prev.status !== next.status) {
      await this.#statusChanged(rt.sessionId, pointId, prev.status, next.status, e.at, badSince, prevBadSince).catch(
        (err) => this.#log.warn({ err, sessionId: rt.sessionId, pointId }, 'status change follow-up failed'),
      );
    }
    return { status: next.status, written: true };
  }

  async #statusChanged(
    s: string,
    p: string,
    from: HealthStatus,
    to: HealthStatus,
    at: number,
    badSince: number | null,
    prevBadSince: number | null,
  ): Promise<void> {
    await this.ledger.event(s, p, 'status', `${STATUS_VI[from]} → ${STATUS_VI[to]} · ${from} → ${to}`, at);
    if (badSince !== null && badSince === at) {
      await this.jobs.scheduleAlertCheck({ sessionId: s, pointId: p, badSince }, this.#o.config.health.alertAfterMs);
    }
    if (badSince === null && prevBadSince !== null) {
      await this.jobs.cancelAlertCheck({ sessionId: s, pointId: p, badSince: prevBadSince });
      if (to !== 'offline') await this.alerts.clearOpen(s, p, 'quality', 'hệ thống · system', new Date(at));
    }
    this.emit('changed', { sessionId: s, pointId: p });
  }

  /** The 2-second report: graded, merged with the SFU's view, stored; answers the status. */
  async healthReport(id: PointIdentity, socketId: string, r: HealthReport): Promise<HealthStatus> {
    const s = await this.#session(id.sessionId);
    if (!ACTIVE.includes(s.state)) return 'offline';
    const rt = this.#runtime(id.sessionId);
    const h = await this.#local(rt, id.pointId);
    h.sockets.add(socketId);
    let sfu: SfuViewerStats | null = null;
    try {
      sfu = (await this.#sfu?.getViewerStats(id.sessionId, id.pointId)) ?? null;
    } catch (err) {
      this.#log.debug({ err }, 'SFU stats unavailable');
    }
    const g = gradeReport(r, sfu, this.#o.config.health);
    const at = this.#now();
    const sample: HealthSample = {
      at: new Date(at).toISOString(),
      status: h.state.status,
      quality: g.quality,
      rttMs: r.rttMs ?? r.signalRttMs,
      lossPct: r.lossPct,
      jitterMs: r.jitterMs,
      bitrateKbps: r.bitrateKbps,
      freezeMs: r.freezeMs,
      freezeCount: r.freezeCount,
      framesDecoded: r.framesDecoded,
      width: r.width,
      height: r.height,
      audioConcealedPct: r.audioConcealedPct,
      protocol: r.protocol,
      sfuScore: sfu?.score ?? null,
      sfuLayer: sfu?.spatialLayer ?? null,
      mediaRebuilds: r.mediaRebuilds ?? null,
    };
    // The page's watchdog rebuilt its media since the last sample: one event per change,
    // so the point's detail on the monitor lists it (a reloaded page counts from 0 again).
    const rebuildsBefore = h.last?.mediaRebuilds ?? 0;
    const rebuilt = r.mediaRebuilds !== undefined && r.mediaRebuilds > 0 && r.mediaRebuilds !== rebuildsBefore;
    const { status, written } = await this.#applyHealthOwned(
      rt,
      id.pointId,
      { type: 'report', at, grade: g.grade },
      sample,
    );
    if (!written) {
      // Another node owns the point. If that is because this socket was swept (its node
      // was taken for gone), join again: the point is here, and is owned from here.
      if (!(await this.ledger.hasSocket(id.sessionId, id.pointId, this.#member(socketId)))) {
        this.pointConnected(id, socketId);
      }
      return status;
    }
    if (rebuilt) {
      await this.ledger.event(
        id.sessionId,
        id.pointId,
        'media',
        `watchdog: hình bị treo, trang đã tự dựng lại kết nối nhận (lần ${r.mediaRebuilds}) · media stalled, the page rebuilt its receive path (#${r.mediaRebuilds})`,
        at,
      );
    }
    this.emit('sample', { ...id, sample });
    this.emit('changed', id);
    return status;
  }

  async reportHeadcount(id: PointIdentity, count: number, by: string | undefined): Promise<Headcount> {
    await this.#requireOpen(id.sessionId, 'the headcount');
    const point = await this.#o.points.get(id.pointId);
    const expected = point?.expectedDelegates ?? 0;
    const judged = judgeHeadcount(count, expected);
    if (judged.outlier) {
      const at = new Date(this.#now());
      const what = judged.accepted ? 'kept' : `refused, at most ${judged.limit}`;
      await this.alerts.raise({
        sessionId: id.sessionId,
        pointId: id.pointId,
        pointName: point?.name ?? id.pointId,
        kind: 'headcount',
        status: null,
        note: `báo cáo ${count} đại biểu, dự kiến ${expected} · reported ${count} delegates, ${expected} expected (${what})`,
        lastSample: null,
        at,
      });
      this.emit('changed', id);
    }
    if (!judged.accepted) {
      throw badRequest(
        `a headcount of ${count} is not plausible here: at most ${judged.limit} for ${expected} expected delegates`,
        { limit: judged.limit, expected },
      );
    }
    const hc = await this.ledger.reportHeadcount(
      id.sessionId,
      id.pointId,
      count,
      by || 'kỹ thuật viên điểm cầu · point operator',
      new Date(this.#now()),
    );
    this.emit('changed', id);
    return hc;
  }

  /** "mất hình" / "mất tiếng": an alert at once, with the point's last statistics. */
  async reportProblem(id: PointIdentity, kind: 'no-video' | 'no-audio' | 'other', note: string | undefined) {
    await this.#requireOpen(id.sessionId, 'problem reports');
    const point = await this.#o.points.get(id.pointId);
    const rt = this.#runtime(id.sessionId);
    const h = await this.#local(rt, id.pointId);
    // With several nodes the last sample may have been taken on another one.
    const last = this.#cluster && !h.owned ? ((await this.health.get(id.sessionId, id.pointId))?.last ?? null) : h.last;
    const at = new Date(this.#now());
    const { alert } = await this.alerts.raise({
      sessionId: id.sessionId,
      pointId: id.pointId,
      pointName: point?.name ?? id.pointId,
      kind,
      status: null,
      note: note ?? '',
      lastSample: last,
      at,
    });
    await this.ledger.event(id.sessionId, id.pointId, 'problem', `${kind}${note ? `: ${note}` : ''}`, at.getTime());
    this.emit('changed', id);
    return { alertId: alert.id };
  }

  async checkinQr(id: PointIdentity): Promise<CheckinQr> {
    await this.#requireOpen(id.sessionId, 'check-in');
    const { token, rotateAt } = this.tokens.issue(id);
    return {
      token,
      url: `${this.#o.publicUrl()}/checkin/${token}`,
      rotateAt: rotateAt.toISOString(),
      checkedIn: await this.ledger.checkinCount(id.sessionId, id.pointId),
    };
  }

  async mine(id: PointIdentity): Promise<{ headcount: Headcount | null; checkedIn: number }> {
    const [headcount, checkedIn] = await Promise.all([
      this.ledger.headcount(id.sessionId, id.pointId),
      this.ledger.checkinCount(id.sessionId, id.pointId),
    ]);
    return { headcount, checkedIn };
  }

  /** The pre-flight result a point sent (called by the broadcast's `preflight:report`). */
  async recordPreflight(id: PointIdentity, r: PreflightReport): Promise<void> {
    const at = this.#now();
    await this.ledger.setPreflight(id.sessionId, id.pointId, {
      at: new Date(at).toISOString(),
      result: r.result,
      transport: r.transport,
      rttMs: r.rttMs,
      downlinkKbps: r.downlinkKbps,
      reasons: r.reasons,
    });
    await this.ledger.event(id.sessionId, id.pointId, 'preflight', `${r.result} (${r.transport})`, at);
    this.emit('changed', id);
  }

  /** A media incident the server saw (a worker death, the media back): into the point's events. */
  async recordMediaEvent(id: PointIdentity, detail: string): Promise<void> {
    await this.ledger.event(id.sessionId, id.pointId, 'media', detail, this.#now());
    this.emit('changed', id);
  }

  // ── the per-session timer ───────────────────────────────────────────────────────────

  async #tick(rt: SessionRuntime, tick: number): Promise<void> {
    const at = this.#now();
    try {
      for (const [pointId, h] of rt.points) {
        if (h.sockets.size === 0) continue;
        const next = nextHealth(h.state, { type: 'tick', at }, this.#o.config.health);
        if (next.status !== h.state.status) await this.#applyHealth(rt, pointId, { type: 'tick', at }, null);
      }
      if (tick % TOUCH_EVERY_TICKS === 0) {
        const entries = [...rt.points].flatMap(([pointId, h]) =>
          [...h.sockets].map((socketId) => ({ pointId, socketId: this.#member(socketId) })),
        );
        await this.ledger.touch(rt.sessionId, entries, at);
        for (const p of await this.ledger.sweep(rt.sessionId, at - SOCKET_STALE_MS, at)) {
          await this.#applyHealth(rt, p, { type: 'disconnect', at }, null);
          this.emit('changed', { sessionId: rt.sessionId, pointId: p });
        }
      }
      if (this.#cluster) await this.#sweepGoneNodes(rt, this.#cluster, tick, at);
      if (tick % SESSION_CHECK_EVERY_TICKS === 0) {
        const s = await this.#session(rt.sessionId, true);
        if (s.state === 'ended' || s.state === 'cancelled') {
          await this.endSession(s.id, Date.parse(s.endedAt ?? new Date(at).toISOString()));
        }
      }
    } catch (err) {
      this.#log.debug({ err: (err as Error).message, sessionId: rt.sessionId }, 'attendance tick failed');
    }
  }

  /**
   * The sockets of nodes that left the cluster: closed here, so their points turn lost on
   * every monitor within a heartbeat's TTL. At once when a node went since the last tick,
   * else every few ticks (for nodes that went before this runtime started). Every live
   * process may run it; the ledger's script gives each socket's leave to exactly one.
   */
  async #sweepGoneNodes(rt: SessionRuntime, c: HealthCluster, tick: number, at: number): Promise<void> {
    let alive: ReadonlySet<string>;
    try {
      alive = await c.aliveNodes();
    } catch {
      return; // unknown: never take live nodes for gone
    }
    const key = [...alive].sort().join(',');
    const went = rt.alive !== '' && rt.alive.split(',').some((n) => !alive.has(n));
    rt.alive = key;
    if (!went && tick % NODE_SWEEP_EVERY_TICKS !== 0) return;
    const gone = (member: string) => {
      const n = socketNode(member);
      return n !== undefined && n !== c.nodeId && !alive.has(n);
    };
    for (const p of await this.ledger.sweepWhere(rt.sessionId, gone, at, 'node gone')) {
      await this.#applyHealth(rt, p, { type: 'disconnect', at }, null);
      this.emit('changed', { sessionId: rt.sessionId, pointId: p });
      this.#log.info({ sessionId: rt.sessionId, pointId: p }, "the point's node left the cluster: lost");
    }
  }

  /** Watchers keep a session's timer running even when no point is connected here. */
  watch(sessionId: string, delta: 1 | -1): void {
    const rt = this.#runtime(sessionId);
    rt.watchers = Math.max(0, rt.watchers + delta);
  }

  /**
   * At the session's end: closes every point's presence (not a disconnect), puts every
   * status offline, clears quality alerts, queues the report. Idempotent.
   */
  async endSession(sessionId: string, endedAt: number): Promise<void> {
    if (await this.ledger.isClosed(sessionId)) return;
    await this.ledger.closeAll(sessionId, endedAt);
    const rt = this.#runtime(sessionId);
    for (const [p] of await this.health.all(sessionId)) {
      await this.#applyHealth(rt, p, { type: 'end', at: endedAt }, null);
    }
    for (const a of await this.alerts.list(sessionId)) {
      if (a.kind === 'quality' && a.state !== 'cleared') {
        await this.alerts.clear(sessionId, a.id, 'hệ thống · system', new Date(endedAt));
      }
    }
    await this.jobs.queueReport(sessionId, 'ended');
    this.#log.info({ sessionId }, 'session ended: attendance closed, report queued');
  }

  async #alertCheck(d: { sessionId: string; pointId: string; badSince: number }): Promise<string> {
    const stored = await this.health.get(d.sessionId, d.pointId);
    if (!stored || !BAD.includes(stored.state.status) || stored.badSince !== d.badSince) return 'recovered';
    const s = await this.#o.sessions.get(d.sessionId);
    if (!s || !ACTIVE.includes(s.state)) return 'session not active';
    const point = await this.#o.points.get(d.pointId);
    const secs = Math.round((this.#now() - d.badSince) / 1000);
    const { created } = await this.alerts.raise({
      sessionId: d.sessionId,
      pointId: d.pointId,
      pointName: point?.name ?? d.pointId,
      kind: 'quality',
      status: stored.state.status,
      note: `${STATUS_VI[stored.state.status]} ${secs} giây · ${stored.state.status} for ${secs} s`,
      lastSample: stored.last,
      at: new Date(this.#now()),
    });
    this.emit('changed', { sessionId: d.sessionId, pointId: d.pointId });
    return created ? 'raised' : 'already open';
  }

  // ── delegate check-in ───────────────────────────────────────────────────────────────

  async checkinInfo(token: string): Promise<CheckinInfo> {
    const b = this.tokens.verifyQr(token);
    const s = await this.#requireOpen(b.sessionId, 'check-in');
    if (!s.invitedPointIds.includes(b.pointId)) throw new AppError('token_invalid', 'not a valid check-in code');
    const point = await this.#o.points.get(b.pointId);
    return {
      ticket: this.tokens.ticket(b),
      session: { title: s.title, state: s.state },
      point: { id: b.pointId, name: point?.name ?? b.pointId },
      roster: await this.rosters.list(b.pointId),
    };
  }

  async checkinSubmit(body: CheckinSubmit): Promise<CheckinResult> {
    const b = this.tokens.verifyTicket(body.ticket);
    const s = await this.#requireOpen(b.sessionId, 'check-in');
    if (!s.invitedPointIds.includes(b.pointId)) throw new AppError('token_invalid', 'not a valid check-in code');
    let name: string;
    let position: string;
    let key: string;
    if (body.rosterId !== undefined) {
      const entry = await this.rosters.get(b.pointId, body.rosterId);
      if (!entry) throw new AppError('bad_request', 'this name is not on the list; type it instead');
      ({ name, position } = entry);
      key = `r:${b.pointId}:${entry.id}`;
    } else {
      name = body.name!.replace(/\s+/g, ' ');
      position = (body.position ?? '').replace(/\s+/g, ' ');
      // Same name at the same point is the same delegate, however it is accented or cased.
      key = `n:${b.pointId}:${searchKey(name)
        .replace(/[^a-z0-9]+/g, ' ')
        .trim()}`;
    }
    const point = await this.#o.points.get(b.pointId);
    const { already, record } = await this.ledger.checkin(b.sessionId, key, body.deviceId, {
      pointId: b.pointId,
      name,
      position,
      rosterId: body.rosterId ?? null,
      at: new Date(this.#now()).toISOString(),
    });
    if (!already) this.emit('changed', b);
    return {
      name: record.name,
      position: record.position,
      pointName: point?.name ?? b.pointId,
      at: record.at,
      already,
    };
  }

  // ── the monitor's reads ─────────────────────────────────────────────────────────────

  async monitorSessions(): Promise<MonitorSession[]> {
    const page = await this.#o.sessions.list({ limit: 100, offset: 0 });
    const order: Record<string, number> = { live: 0, lobby: 1, scheduled: 2, ended: 3, draft: 4, cancelled: 5 };
    return page.items
      .filter((s) => s.state !== 'draft')
      .sort((a, b) => (order[a.state] ?? 9) - (order[b.state] ?? 9))
      .map((s) => ({
        id: s.id,
        title: s.title,
        state: s.state,
        scheduledStart: s.scheduledStart,
        plannedEnd: s.plannedEnd,
      }));
  }

  /** Every invited point's tile and the totals, read from Redis in a few round trips. */
  async tiles(sessionId: string): Promise<{
    session: MonitorSession;
    tiles: PointTile[];
    province: Rollup;
    districts: Rollup[];
  }> {
    const s = await this.#session(sessionId, true);
    const ids = s.invitedPointIds;
    const [presence, present, headcounts, checkins, health, openIdx] = await Promise.all([
      this.ledger.presenceMany(sessionId, ids),
      this.ledger.presentPoints(sessionId),
      this.ledger.headcounts(sessionId),
      this.ledger.checkinCounts(sessionId),
      this.health.all(sessionId),
      this.alertsOpenCount(sessionId),
    ]);
    const ended = s.state === 'ended' || s.state === 'cancelled';
    const tiles: PointTile[] = [];
    for (const id of ids) {
      const p = await this.#o.points.get(id);
      const d = p?.district ? await this.#o.points.get(p.district) : undefined;
      const h = health.get(id);
      const pr = presence.get(id);
      tiles.push({
        id,
        name: p?.name ?? id,
        level: p?.level ?? 'commune',
        district: p?.district ?? null,
        districtName: d?.name ?? p?.district ?? '',
        status: ended ? 'offline' : (h?.state.status ?? 'offline'),
        statusSince: h?.state.since ? new Date(h.state.since).toISOString() : null,
        quality: h?.last?.quality ?? null,
        rttMs: h?.last?.rttMs ?? null,
        lossPct: h?.last?.lossPct ?? null,
        bitrateKbps: h?.last?.bitrateKbps ?? null,
        connected: present.has(id),
        disconnects: pr?.disconnects ?? 0,
        headcount: headcounts.get(id)?.count ?? null,
        expected: p?.expectedDelegates ?? 0,
        checkedIn: checkins.get(id) ?? 0,
        openAlerts: openIdx.get(id) ?? 0,
        mediaPath: (h?.last?.protocol as PointTile['mediaPath']) ?? null,
      });
    }
    const totals = rollup(tiles);
    return {
      session: {
        id: s.id,
        title: s.title,
        state: s.state,
        scheduledStart: s.scheduledStart,
        plannedEnd: s.plannedEnd,
      },
      tiles,
      ...totals,
    };
  }

  async alertsOpenCount(sessionId: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const a of await this.alerts.list(sessionId)) {
      if (a.state !== 'cleared') out.set(a.pointId, (out.get(a.pointId) ?? 0) + 1);
    }
    return out;
  }

  async snapshot(sessionId: string): Promise<MonitorSnapshot> {
    const [t, alerts] = await Promise.all([this.tiles(sessionId), this.alerts.list(sessionId)]);
    return {
      session: t.session,
      points: t.tiles,
      province: t.province,
      districts: t.districts,
      alerts: alerts.slice(0, 500),
      serverTime: new Date(this.#now()).toISOString(),
    };
  }

  async detail(sessionId: string, pointId: string): Promise<PointDetail> {
    const s = await this.#session(sessionId);
    if (!s.invitedPointIds.includes(pointId)) throw notFound(`point ${pointId} in this session`);
    const [t, presence, headcount, history, events, preflight, alerts] = await Promise.all([
      this.tiles(sessionId),
      this.ledger.presence(sessionId, pointId),
      this.ledger.headcount(sessionId, pointId),
      this.health.history(sessionId, pointId),
      this.ledger.events(sessionId, pointId),
      this.ledger.preflight(sessionId, pointId),
      this.alerts.list(sessionId),
    ]);
    const point = await this.#o.points.get(pointId);
    const tile = t.tiles.find((x) => x.id === pointId)!;
    return {
      tile,
      contactName: point?.contactName ?? '',
      contactPhone: point?.contactPhone ?? '',
      presence: {
        firstJoin: presence.firstJoin ? new Date(presence.firstJoin).toISOString() : null,
        lastLeave: presence.lastLeave ? new Date(presence.lastLeave).toISOString() : null,
        connectedSeconds: Math.round(connectedMs(presence, this.#now()) / 1000),
        disconnects: presence.disconnects,
      },
      headcount,
      history,
      events,
      preflight,
      alerts: alerts.filter((a) => a.pointId === pointId),
    };
  }

  async acknowledgeAlert(sessionId: string, alertId: string, by: string): Promise<Alert> {
    const a = await this.alerts.acknowledge(sessionId, alertId, by, new Date(this.#now()));
    this.emit('changed', { sessionId, pointId: a.pointId });
    return a;
  }

  async assignAlert(sessionId: string, alertId: string, assignee: string, by: string): Promise<Alert> {
    const a = await this.alerts.assign(sessionId, alertId, assignee, by, new Date(this.#now()));
    this.emit('changed', { sessionId, pointId: a.pointId });
    return a;
  }

  async clearAlert(sessionId: string, alertId: string, by: string): Promise<Alert> {
    const a = await this.alerts.clear(sessionId, alertId, by, new Date(this.#now()));
    this.emit('changed', { sessionId, pointId: a.pointId });
    return a;
  }

  // ── reports ─────────────────────────────────────────────────────────────────────────

  async generateReport(sessionId: string): Promise<Report> {
    const s = await this.#session(sessionId, true);
    const ids = s.invitedPointIds;
    const points = [];
    for (const id of ids) {
      const p = await this.#o.points.get(id);
      const d = p?.district ? await this.#o.points.get(p.district) : undefined;
      points.push({
        id,
        code: p?.code ?? id,
        name: p?.name ?? id,
        level: p?.level ?? '',
        district: p?.district ?? null,
        districtName: d?.name ?? p?.district ?? '',
        expected: p?.expectedDelegates ?? 0,
      });
    }
    const health = await this.health.all(sessionId);
    const report = buildReport({
      session: { id: s.id, title: s.title, startedAt: s.startedAt, endedAt: s.endedAt },
      points,
      presence: await this.ledger.presenceMany(sessionId, ids),
      headcounts: await this.ledger.headcounts(sessionId),
      checkins: await this.ledger.checkinCounts(sessionId),
      worst: new Map([...health].map(([p, h]) => [p, h.state.worst])),
      alerts: (await this.alerts.list(sessionId)).reverse(),
      now: new Date(this.#now()),
    });
    await this.reports.save(report);
    this.#log.info({ sessionId, points: report.rows.length }, 'attendance report written');
    return report;
  }

  /** Stops timers and the job worker and queue (a running job finishes). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.events?.off('stateChanged', this.#onState);
    clearTimeout(this.#retryTimer);
    for (const rt of this.#runtimes.values()) rt.stop();
    this.#runtimes.clear();
    if (this.#queue.length > 0) {
      this.#log.warn({ pending: this.#queue.length }, 'presence writes not stored at shutdown');
    }
    await this.jobs.close();
  }
}
