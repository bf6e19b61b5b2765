// What the parts of attendance share (presence, health, check-ins, the monitor view and
// the report): the options, the Redis stores, the event emitter, the cluster port, and
// the per-session runtimes with their cached session.
//
// Per session and process there is one SessionRuntime with ONE 1-second timer (never one
// per point). What a tick does belongs to presence (presence.ts), which the runtimes are
// given as their tick handler.
import type { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Point, Session, SessionState, SessionSummary, Page } from '../../contract/api';
import type { HealthSample, SfuViewerStats } from '../../contract/attendance';
import type { SilenceWatch } from '../health/media-silence';
import type { Config } from '../../config';
import { AppError, notFound } from '../../errors';
import type { SessionEvents } from '../sessions/events';
import type { AlertStore } from '../health/alerts';
import type { AlertWebhooks } from '../health/alert-webhooks';
import type { HealthStore, StoredHealth } from '../health/store';
import { initialHealth } from '../health/status';
import type { AttendanceLedger } from './ledger';

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

/** Several nodes share the points (server/cluster/health-sharing.ts). */
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
  /** Sends each raise and change of an alert (ALERT_WEBHOOK_URLS). */
  alertWebhooks?: AlertWebhooks;
  /** Run the job worker in this process (default true). */
  worker?: boolean;
  now?: () => number;
  /** The SFU's view of each point (its consumers' score, layer, bytes sent). */
  sfu?: SfuStatsSource;
  /** Several nodes share the points (server/cluster/health-sharing.ts); unset for one process. */
  cluster?: HealthCluster;
}

export interface AttendanceEventMap {
  /** Something about a point changed (status, presence, headcount, check-in, alert). */
  changed: [{ sessionId: string; pointId: string }];
  /** A new sample of a point, for an open detail view. */
  sample: [{ sessionId: string; pointId: string; sample: HealthSample }];
}

export const ACTIVE: readonly SessionState[] = ['lobby', 'live'];
const SESSION_CACHE_MS = 2000;
/** A runtime with no local socket and no watcher stops after this many idle ticks. */
const IDLE_TICKS = 60;

export interface LocalHealth extends StoredHealth {
  /** Socket ids of this point on this process. */
  sockets: Set<string>;
  /** Status changes of one point run one after the other (join, report and tick race). */
  lock: Promise<unknown>;
  /**
   * With several nodes: the machine above is this node's own (loaded after it took the
   * point). False while another node may own it: the next change reloads it first.
   */
  owned: boolean;
  /** What the SFU received from the point's media, as last observed (media-silence.ts). */
  silence?: SilenceWatch;
}

export class SessionRuntime {
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

export interface CoreStores {
  ledger: AttendanceLedger;
  health: HealthStore;
  alerts: AlertStore;
}

/** The shared state of one process's attendance; each part gets it in its constructor. */
export class AttendanceCore {
  readonly log: Logger;
  readonly now: () => number;
  readonly config: Config;
  readonly sessions: SessionLookup;
  readonly points: PointLookup;
  readonly ledger: AttendanceLedger;
  readonly health: HealthStore;
  readonly alerts: AlertStore;
  /** Several nodes share the points. */
  readonly cluster: HealthCluster | undefined;
  readonly #runtimes = new Map<string, SessionRuntime>();

  constructor(
    readonly o: AttendanceOptions,
    stores: CoreStores,
    private readonly events: EventEmitter<AttendanceEventMap>,
    /** What a runtime does each second (presence.ts); called only once a runtime ticks. */
    private readonly onTick: (rt: SessionRuntime, tick: number) => Promise<void>,
  ) {
    this.log = o.logger.child({ component: 'attendance' });
    this.now = o.now ?? Date.now;
    this.config = o.config;
    this.sessions = o.sessions;
    this.points = o.points;
    this.cluster = o.cluster;
    ({ ledger: this.ledger, health: this.health, alerts: this.alerts } = stores);
  }

  changed(id: PointIdentity): void {
    this.events.emit('changed', { sessionId: id.sessionId, pointId: id.pointId });
  }

  sample(id: PointIdentity, sample: HealthSample): void {
    this.events.emit('sample', { sessionId: id.sessionId, pointId: id.pointId, sample });
  }

  /** The ledger's entry for a socket of this process. */
  member(socketId: string): string {
    return this.cluster ? `${this.cluster.nodeId}|${socketId}` : socketId;
  }

  async session(id: string, fresh = false): Promise<Session> {
    const rt = this.#runtimes.get(id);
    if (!fresh && rt?.session.value && this.now() - rt.session.at < SESSION_CACHE_MS) return rt.session.value;
    const s = await this.sessions.get(id);
    if (!s) throw notFound(`session ${id}`);
    if (rt) rt.session = { value: s, at: this.now() };
    return s;
  }

  /** The session's cached state is stale (it changed). */
  forgetSession(id: string): void {
    const rt = this.#runtimes.get(id);
    if (rt) rt.session = { value: undefined, at: 0 };
  }

  async requireOpen(id: string, what: string): Promise<Session> {
    const s = await this.session(id);
    if (!ACTIVE.includes(s.state)) {
      throw new AppError('not_open', `${what} is open only from the lobby to the end of the briefing`);
    }
    return s;
  }

  runtime(sessionId: string): SessionRuntime {
    let rt = this.#runtimes.get(sessionId);
    if (!rt) {
      rt = new SessionRuntime(sessionId, this.onTick, (r) => {
        r.stop();
        this.#runtimes.delete(r.sessionId);
      });
      this.#runtimes.set(sessionId, rt);
    }
    rt.ensureTimer();
    return rt;
  }

  async local(rt: SessionRuntime, pointId: string): Promise<LocalHealth> {
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

  stopRuntimes(): void {
    for (const rt of this.#runtimes.values()) rt.stop();
    this.#runtimes.clear();
  }
}
