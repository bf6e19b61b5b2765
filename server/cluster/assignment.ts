// Which node serves a point's page (socket and media) in a session. Edges first; a
// district's points go together to one edge, to the edge of their region if one is
// named so, unless that edge already carries well over its share; otherwise the least
// loaded edge. A point whose edge stopped beating is given a live one when it asks again.
//
// Decisions of one session are taken one at a time (an in-process queue, then a short
// Redis lock shared by every control process): each reads the loads the previous one
// wrote. Without it, a join storm of 420 points read the same loads concurrently and
// split 271/149 where the districts allow 210/210 (docs/benchmarks.md, run G).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { NodeInfo } from '../contract/cluster';
import type { PointRegistry } from '../domain/points/registry';
import { clusterKeys } from './keys';
import type { NodeRegistry } from './node-registry';

/** A district stays on its edge until that edge has this much more than an even share. */
const DISTRICT_SLACK = 1.25;
/** The lock outlives a crashed holder by this much at most. */
const LOCK_TTL_MS = 2000;
/** After this long waiting for the lock, decide anyway: an uneven split beats a refused point. */
const LOCK_WAIT_MS = 3000;
/** Releases the lock only if it is still ours (it may have expired and been retaken). */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class PointAssignment {
  /** The tail of each session's in-process queue of decisions. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly redis: Redis,
    private readonly nodes: Pick<NodeRegistry, 'list'>,
    private readonly points: Pick<PointRegistry, 'get'>,
  ) {}

  /** Nodes that serve points: edges if any are alive, else origins and all-in-one nodes. */
  static servers(nodes: NodeInfo[]): NodeInfo[] {
    const edges = nodes.filter((n) => n.role === 'edge');
    return edges.length ? edges : nodes.filter((n) => n.role === 'origin' || n.role === 'all');
  }

  async assign(sessionId: string, pointId: string, invited: number): Promise<NodeInfo | undefined> {
    const alive = PointAssignment.servers(await this.nodes.list());
    if (alive.length === 0) return undefined;
    // A point asking again (a reload, a reconnect) keeps its live node without queueing.
    const current = await this.redis.hget(clusterKeys.assign(sessionId), pointId);
    const known = alive.find((n) => n.id === current);
    if (known) return known;
    return this.#oneAtATime(sessionId, () => this.#decide(sessionId, pointId, invited, alive));
  }

  async #decide(sessionId: string, pointId: string, invited: number, alive: NodeInfo[]): Promise<NodeInfo> {
    const byId = new Map(alive.map((n) => [n.id, n]));
    const current = await this.redis.hget(clusterKeys.assign(sessionId), pointId);
    if (current && byId.has(current)) return byId.get(current)!;

    const all = await this.redis.hgetall(clusterKeys.assign(sessionId));
    const load = new Map(alive.map((n) => [n.id, 0]));
    for (const [p, nodeId] of Object.entries(all))
      if (p !== pointId && load.has(nodeId)) load.set(nodeId, load.get(nodeId)! + 1);
    const share = Math.ceil((Math.max(invited, Object.keys(all).length + 1) / alive.length) * DISTRICT_SLACK) + 1;

    const district = (await this.points.get(pointId))?.district ?? '';
    const key = district.trim().toLowerCase();
    let chosen: NodeInfo | undefined;
    const districtNode = key ? await this.redis.hget(clusterKeys.assignDistrict(sessionId), key) : null;
    if (districtNode && byId.has(districtNode) && load.get(districtNode)! < share) chosen = byId.get(districtNode);
    if (!chosen && key) {
      chosen = alive.find((n) => n.region && n.region.trim().toLowerCase() === key && load.get(n.id)! < share);
    }
    chosen ??= [...alive].sort((a, b) => load.get(a.id)! - load.get(b.id)! || a.load.points - b.load.points)[0]!;
    const m = this.redis.multi().hset(clusterKeys.assign(sessionId), pointId, chosen.id);
    if (key) m.hset(clusterKeys.assignDistrict(sessionId), key, chosen.id);
    await m.exec();
    return chosen;
  }

  #oneAtATime<T>(sessionId: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.#queues.get(sessionId) ?? Promise.resolve()).then(() => this.#locked(sessionId, fn));
    const tail = run.catch(() => undefined);
    this.#queues.set(sessionId, tail);
    void tail.then(() => {
      if (this.#queues.get(sessionId) === tail) this.#queues.delete(sessionId);
    });
    return run;
  }

  async #locked<T>(sessionId: string, fn: () => Promise<T>): Promise<T> {
    const key = clusterKeys.assignLock(sessionId);
    const token = randomUUID();
    const giveUpAt = Date.now() + LOCK_WAIT_MS;
    let held = false;
    while (!(held = (await this.redis.set(key, token, 'PX', LOCK_TTL_MS, 'NX')) === 'OK') && Date.now() < giveUpAt)
      await sleep(5 + Math.random() * 10);
    try {
      return await fn();
    } finally {
      if (held) await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  }

  /** The point connected to `nodeId` (wherever it was sent): that is where it is now. */
  async claim(sessionId: string, pointId: string, nodeId: string): Promise<void> {
    await this.redis.hset(clusterKeys.assign(sessionId), pointId, nodeId);
  }

  async all(sessionId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(clusterKeys.assign(sessionId));
  }
}
