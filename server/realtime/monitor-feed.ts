// One watched session's feed on the `/monitor` namespace (./monitor-namespace.ts): what
// this process's watchers watch of it, and the deltas of the filters watched anywhere.
//
// Every watcher watches under a filter (server/domain/attendance/monitor-filter.ts; the
// empty one is every point) and sits in the filter's delta room `mon:<session>:<key>`. At
// each tick the computing process (the lease holder with several nodes) reads the tiles
// and alerts once, finds what changed, and sends each filter watched anywhere only its
// own changed tiles, alerts and totals: a district's desk gets its district, not the
// country. A filter the computing process had not seen yet gets every tile it matches
// once, since its watchers' snapshots may be older than what was last sent.
import type { Logger } from 'pino';
import type { Alert, MonitorDelta, MonitorSnapshot, PointTile } from '../contract/attendance';
import type { AttendanceService } from '../domain/attendance/service';
import { alertsFor, cut, filterOfKey, isEveryPoint, matches } from '../domain/attendance/monitor-filter';
import type { MonitorNamespace } from './sockets';

/** One delta computer per session across processes, and what every process watches (server/cluster/monitor-lease.ts). */
export interface FeedLease {
  /** Takes or renews the session's lease; true while this process holds it. */
  hold(sessionId: string): Promise<boolean>;
  /** Lets it go (this process's last watcher of the session left). */
  release(sessionId: string): Promise<void>;
  /** What this process's watchers watch of the session (filter and detail keys); none withdraws it. */
  announce(sessionId: string, keys: readonly string[]): Promise<void>;
  /** The keys every process announced for the session, read now. */
  watched(sessionId: string): Promise<ReadonlySet<string>>;
  /** Whether some process announced `key`, as read at most a second ago (false before the first read). */
  watching(sessionId: string, key: string): boolean;
}

/** The room of a watch key: a filter's deltas (`f:…`) or a point's samples (`p:<point>`). */
export const keyRoom = (sessionId: string, key: string) => `mon:${sessionId}:${key}`;
export const detailKey = (pointId: string) => `p:${pointId}`;

export class SessionFeed {
  /** This process's watch keys with how many sockets hold each. */
  readonly #local = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #seq = 0;
  #tiles = new Map<string, string>();
  #alerts = new Map<string, string>();
  #session = '';
  /** Each filter sent to so far: its totals in the last delta it got. */
  readonly #sent = new Map<string, string>();
  /** This process held the lease at the last tick. */
  #leader = false;
  #announcing: Promise<void> = Promise.resolve();

  constructor(
    readonly sessionId: string,
    private readonly nsp: MonitorNamespace,
    private readonly service: AttendanceService,
    private readonly log: Logger,
    private readonly periodMs: number,
    private readonly lease: FeedLease | undefined,
  ) {}

  /** No watcher left in this process. */
  get empty(): boolean {
    return ![...this.#local.keys()].some((k) => filterOfKey(k));
  }

  add(key: string): void {
    this.#local.set(key, (this.#local.get(key) ?? 0) + 1);
    if (this.#local.get(key) === 1) this.#announce();
  }

  remove(key: string): void {
    const n = (this.#local.get(key) ?? 0) - 1;
    if (n > 0) return void this.#local.set(key, n);
    this.#local.delete(key);
    this.#announce();
  }

  /** Whether a socket of this process watches `key`. */
  has(key: string): boolean {
    return this.#local.has(key);
  }

  /**
   * A new feed starts from the snapshot its first watcher got (of every point), so its
   * first delta is small: that watcher's filter counts as sent.
   */
  seed(snap: MonitorSnapshot, key: string): void {
    if (this.#seq > 0 || this.#tiles.size > 0) return;
    for (const tile of snap.points) this.#tiles.set(tile.id, JSON.stringify(tile));
    for (const a of snap.alerts) this.#alerts.set(a.id, JSON.stringify(a));
    this.#session = JSON.stringify(snap.session);
    this.#sent.set(key, '');
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.tick(), this.periodMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#leader) {
      this.#leader = false;
      this.lease?.release(this.sessionId).catch(() => undefined);
    }
    this.#announce();
  }

  /** Announces this process's keys (in order, the last one wins); a failure waits for the next tick. */
  #announce(): void {
    const lease = this.lease;
    if (!lease) return;
    this.#announcing = this.#announcing
      .then(() => lease.announce(this.sessionId, this.#timer ? [...this.#local.keys()] : []))
      .catch((err: unknown) =>
        this.log.debug({ err: (err as Error).message, sessionId: this.sessionId }, 'monitor announce failed'),
      );
  }

  /** The filters watched now: this process's, and with several nodes every process's. */
  async #filters(): Promise<Set<string>> {
    const keys = new Set([...this.#local.keys()].filter((k) => filterOfKey(k)));
    if (this.lease) for (const k of await this.lease.watched(this.sessionId)) if (filterOfKey(k)) keys.add(k);
    return keys;
  }

  async tick(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      let full = false;
      const lease = this.lease;
      if (lease) {
        this.#announce();
        if (!(await lease.hold(this.sessionId))) {
          this.#leader = false;
          return;
        }
        if (!this.#timer) return void (await lease.release(this.sessionId)); // stopped meanwhile
        full = !this.#leader;
        this.#leader = true;
      }
      const at = new Date().toISOString();
      const [t, alerts, filters] = await Promise.all([
        this.service.tiles(this.sessionId),
        this.service.alerts.list(this.sessionId),
        this.#filters(),
      ]);
      const changed: PointTile[] = [];
      for (const tile of t.tiles) {
        const j = JSON.stringify(tile);
        if (full || this.#tiles.get(tile.id) !== j) {
          this.#tiles.set(tile.id, j);
          changed.push(tile);
        }
      }
      const changedAlerts: Alert[] = [];
      for (const a of alerts) {
        const j = JSON.stringify(a);
        if (full || this.#alerts.get(a.id) !== j) {
          this.#alerts.set(a.id, j);
          changedAlerts.push(a);
        }
      }
      const session = JSON.stringify(t.session);
      const sessionChanged = session !== this.#session;
      this.#session = session;
      if (full) this.#sent.clear();
      for (const key of this.#sent.keys()) if (!filters.has(key)) this.#sent.delete(key);
      const byId = new Map(t.tiles.map((x) => [x.id, x]));
      let seq: number | undefined;
      for (const key of filters) {
        const f = filterOfKey(key)!;
        const fresh = !this.#sent.has(key);
        const every = isEveryPoint(f);
        const mine = every ? { points: t.tiles, province: t.province, districts: t.districts } : cut(f, t.tiles);
        const points = fresh ? mine.points : every ? changed : changed.filter((x) => matches(f, x));
        const forMe = alertsFor(f, fresh ? alerts : changedAlerts, byId);
        const totals = JSON.stringify([mine.province, mine.districts]);
        if (!fresh && !points.length && !forMe.length && !sessionChanged && totals === this.#sent.get(key)) continue;
        this.#sent.set(key, totals);
        seq ??= ++this.#seq;
        const delta: MonitorDelta = {
          sessionId: this.sessionId,
          seq,
          at,
          points,
          province: mine.province,
          districts: mine.districts,
          alerts: forMe,
          ...(sessionChanged || fresh ? { session: t.session } : {}),
        };
        this.nsp.to(keyRoom(this.sessionId, key)).emit('delta', delta);
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message, sessionId: this.sessionId }, 'monitor tick failed');
    } finally {
      this.#running = false;
    }
  }
}
