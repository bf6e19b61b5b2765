// The presence of points: their sockets joining and leaving the ledger, the per-session
// tick (status ageing, socket liveness, the session's end), and closing a session.
//
// Presence changes come from socket events nobody waits for, so they go through an
// in-order retry queue and survive a Redis restart.
//
// Several nodes: socket entries in the ledger carry their node's id (`<node>|<socket>`),
// so when a node leaves the cluster any survivor closes its points' presence at once and
// they turn lost everywhere, instead of after the 60-second sweep.
import { AppError } from '../../errors';
import { nextHealth } from '../health/status';
import type { AttendanceJobs } from '../../jobs/attendance-jobs';
import type { HealthTracker } from './health-tracker';
import {
  socketNode,
  type AttendanceCore,
  type HealthCluster,
  type PointIdentity,
  type SessionRuntime,
} from './runtime';

/** A socket not seen for this long belonged to a process that died: swept. */
const SOCKET_STALE_MS = 60_000;
const TOUCH_EVERY_TICKS = 15;
const SESSION_CHECK_EVERY_TICKS = 5;
/** With several nodes: how long a page let go by the server leaves its point's presence open. */
const HANDOVER_GRACE_MS = 2000;
/** With several nodes, sockets of nodes gone are looked for at least this often (ticks). */
const NODE_SWEEP_EVERY_TICKS = 5;

export class PointPresence {
  /** Presence writes waiting for Redis, in order. */
  readonly #queue: { run: () => Promise<void>; what: string }[] = [];
  #draining = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly core: AttendanceCore,
    private readonly health: HealthTracker,
    private readonly jobs: AttendanceJobs,
  ) {}

  /** A socket of the point connected (call once per socket). */
  pointConnected(id: PointIdentity, socketId: string): void {
    const { core } = this;
    const rt = core.runtime(id.sessionId);
    const at = core.now();
    void core
      .local(rt, id.pointId)
      .then((h) => h.sockets.add(socketId))
      .catch(() => undefined);
    this.#enqueue(`join ${id.sessionId}/${id.pointId}`, async () => {
      const s = await core.session(id.sessionId);
      if (s.state === 'ended' || s.state === 'cancelled') return;
      // The newest page's node computes the point's status from now on.
      if (core.cluster) await core.health.claim(id.sessionId, id.pointId, core.cluster.nodeId);
      const joined = await core.ledger.join(id.sessionId, id.pointId, core.member(socketId), at);
      if (joined) await this.health.apply(rt, id.pointId, { type: 'connect', at }, null);
      core.changed(id);
    });
  }

  /** A socket of the point went away. */
  pointDisconnected(id: PointIdentity, socketId: string, reason: string): void {
    const { core } = this;
    const rt = core.runtime(id.sessionId);
    const at = core.now();
    const local = rt.points.get(id.pointId);
    if (local) {
      local.sockets.delete(socketId);
      if (local.sockets.size === 0) local.owned = false;
    }
    const leave = () =>
      this.#enqueue(`leave ${id.sessionId}/${id.pointId}`, async () => {
        const left = await core.ledger.leave(id.sessionId, id.pointId, core.member(socketId), at, reason);
        if (left) await this.health.apply(rt, id.pointId, { type: 'disconnect', at }, null);
        core.changed(id);
      });
    // A page let go by the server was most often replaced by a newer one of the same point.
    // In one process the newer page's join is queued before this leave; across nodes it
    // is written by another process, after this socket was already kicked. Leaving a
    // little later lets it land first, so a page moving between nodes is not counted as a
    // disconnect and does not blink lost (the leave keeps its time).
    if (core.cluster && reason === 'server namespace disconnect') {
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
          this.core.log.warn(
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
    const deadline = this.core.now() + timeoutMs;
    while (this.#queue.length > 0 && this.core.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.#queue.length === 0;
  }

  /** Each second, per session runtime: ageing, liveness, the session's end. */
  async tick(rt: SessionRuntime, tick: number): Promise<void> {
    const { core } = this;
    const at = core.now();
    try {
      for (const [pointId, h] of rt.points) {
        if (h.sockets.size === 0) continue;
        const next = nextHealth(h.state, { type: 'tick', at }, core.config.health);
        if (next.status !== h.state.status) await this.health.apply(rt, pointId, { type: 'tick', at }, null);
      }
      if (tick % TOUCH_EVERY_TICKS === 0) {
        const entries = [...rt.points].flatMap(([pointId, h]) =>
          [...h.sockets].map((socketId) => ({ pointId, socketId: core.member(socketId) })),
        );
        await core.ledger.touch(rt.sessionId, entries, at);
        for (const p of await core.ledger.sweep(rt.sessionId, at - SOCKET_STALE_MS, at)) {
          await this.health.apply(rt, p, { type: 'disconnect', at }, null);
          core.changed({ sessionId: rt.sessionId, pointId: p });
        }
      }
      if (core.cluster) await this.#sweepGoneNodes(rt, core.cluster, tick, at);
      if (tick % SESSION_CHECK_EVERY_TICKS === 0) {
        const s = await core.session(rt.sessionId, true);
        if (s.state === 'ended' || s.state === 'cancelled') {
          await this.endSession(s.id, Date.parse(s.endedAt ?? new Date(at).toISOString()));
        }
      }
    } catch (err) {
      core.log.debug({ err: (err as Error).message, sessionId: rt.sessionId }, 'attendance tick failed');
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
    for (const p of await this.core.ledger.sweepWhere(rt.sessionId, gone, at, 'node gone')) {
      await this.health.apply(rt, p, { type: 'disconnect', at }, null);
      this.core.changed({ sessionId: rt.sessionId, pointId: p });
      this.core.log.info({ sessionId: rt.sessionId, pointId: p }, "the point's node left the cluster: lost");
    }
  }

  /** Watchers keep a session's timer running even when no point is connected here. */
  watch(sessionId: string, delta: 1 | -1): void {
    const rt = this.core.runtime(sessionId);
    rt.watchers = Math.max(0, rt.watchers + delta);
  }

  /**
   * At the session's end: closes every point's presence (not a disconnect), puts every
   * status offline, clears quality alerts, queues the report. Idempotent.
   */
  async endSession(sessionId: string, endedAt: number): Promise<void> {
    const { core } = this;
    if (await core.ledger.isClosed(sessionId)) return;
    await core.ledger.closeAll(sessionId, endedAt);
    const rt = core.runtime(sessionId);
    for (const [p] of await core.health.all(sessionId)) {
      await this.health.apply(rt, p, { type: 'end', at: endedAt }, null);
    }
    for (const a of await core.alerts.list(sessionId)) {
      if (a.kind === 'quality' && a.state !== 'cleared') {
        await core.alerts.clear(sessionId, a.id, 'hệ thống · system', new Date(endedAt));
      }
    }
    await this.jobs.queueReport(sessionId, 'ended');
    core.log.info({ sessionId }, 'session ended: attendance closed, report queued');
  }

  /** No more writes; says how many presence writes were not stored. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    if (this.#queue.length > 0) {
      this.core.log.warn({ pending: this.#queue.length }, 'presence writes not stored at shutdown');
    }
  }
}
