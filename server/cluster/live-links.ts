// Scale-out: what a live session needs from the other nodes, so the host on one node
// runs the briefing of points spread over all of them.
//
// - Raised hands: each node stores its own under `cluster:hands:<session>` (field = its
//   node id, with its registry start time, so a node restarted under the same id does not
//   bring back hands from before) and announces the change on the session-event relay
//   (`handsChanged`); every node then pushes the merged list to its own hosts. Hands of a
//   node that stopped beating are dropped from the list (and hosts told) by `nodesChanged`.
// - Numbers: "points receiving video" adds up the registry's per-node lists (as of each
//   node's last heartbeat) and this node's own, current one.
// - Floor: the host's grant or revoke for a point served elsewhere goes to that node as a
//   `floorOrder` event; that node enacts it on its own room and reports the end of the
//   floor (`floorEnded`), or at once when the point is not there after all. Carrying the
//   point's media back to the host's node is not here. Every grant given from this node
//   is recorded first (floor-grants.ts): the origin adopts a floor stream only for it.
// - The host's settings (agenda item, pauses, slides, the hall's source): the node that
//   stores a change announces it (`liveChanged`); the others read `live:<session>` again,
//   so their views and their points' hall switch follow the host.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { HandSchema, type Hand } from '../contract/broadcast';
import type { NodeInfo, NodeRole } from '../contract/cluster';
import type { SessionEventMap, SessionEvents } from '../domain/sessions/events';
import type { ClusterPort } from '../realtime/cluster-port';
import type { LiveSession } from '../realtime/live-session';
import type { OnAirView } from '../realtime/on-air';
import type { FloorGrants } from './floor-grants';
import { clusterKeys } from './keys';
import type { NodeRegistry } from './node-registry';

/** Long enough for any briefing; a session's entry is rewritten at each change. */
const HANDS_TTL_MS = 12 * 3600_000;

const StoredHandsSchema = z.object({ startedAt: z.string(), hands: z.array(HandSchema) });
const Ids = { sessionId: z.string().min(1).max(200), nodeId: z.string().min(1).max(64) };
const HandsChangedSchema = z.object({ ...Ids });
const FloorOrderSchema = z.object({ ...Ids, pointId: z.string().min(1).max(200), granted: z.boolean() });
const FloorEndedSchema = z.object({ ...Ids, pointId: z.string().min(1).max(200) });
const LiveChangedSchema = z.object({ ...Ids });

export interface LiveLinksDeps {
  /** This node's role: an edge's rooms mirror the origin's hall. */
  role: NodeRole;
  redis: Redis;
  registry: NodeRegistry;
  events: SessionEvents;
  /** This node's sessions on the air, which relayed events are applied to. */
  onAir: Pick<OnAirView, 'peek'>;
  grants: FloorGrants;
  logger: Logger;
}

export class LiveLinks {
  readonly #d: LiveLinksDeps;
  readonly #log: Logger;
  readonly #self: string;
  /** Sessions whose hands some node shared, for a refresh when a node goes. */
  readonly #handSessions = new Set<string>();
  /** Floors this node ordered on another node, by session: ended here if that node dies. */
  readonly #ordered = new Map<string, { pointId: string; nodeId: string }>();
  #alive: Set<string> | undefined;
  readonly #offs: (() => void)[] = [];

  constructor(d: LiveLinksDeps) {
    this.#d = d;
    this.#self = d.registry.selfId;
    this.#log = d.logger.child({ component: 'live-links' });
    this.#on('handsChanged', HandsChangedSchema, ({ sessionId, nodeId }) => {
      this.#handSessions.add(sessionId);
      // The node that changed pushed to its own hosts already.
      if (nodeId !== this.#self) this.#withLive(sessionId, (live) => live.hands.push());
    });
    this.#on('liveChanged', LiveChangedSchema, ({ sessionId, nodeId }) => {
      if (nodeId !== this.#self) this.#withLive(sessionId, (live) => live.reloadState());
    });
    this.#on('floorOrder', FloorOrderSchema, ({ sessionId, pointId, nodeId, granted }) => {
      if (nodeId !== this.#self) return;
      this.#withLive(sessionId, async (live) => {
        if (await live.floor.ordered(pointId, granted)) return;
        this.#log.info({ sessionId, pointId, granted }, 'floor order for a point no longer here');
        // The host's node shows the floor as given: it is told it did not happen.
        if (granted) this.#d.events.emit('floorEnded', { sessionId, pointId, nodeId: this.#self });
      });
    });
    this.#on('floorEnded', FloorEndedSchema, ({ sessionId, pointId, nodeId }) => {
      if (nodeId === this.#self) return;
      if (this.#ordered.get(sessionId)?.pointId === pointId) this.#ordered.delete(sessionId);
      this.#withLive(sessionId, (live) => live.floor.remoteEnded(pointId));
    });
  }

  /** What a LiveSession asks of the other nodes (server/realtime/cluster-port.ts). */
  port(): ClusterPort {
    return {
      makesHall: this.#d.role !== 'edge',
      // The host's live numbers count the points of every node (as of their last heartbeat).
      connectedPoints: async (sessionId) => {
        const ids = new Set<string>();
        for (const n of await this.#d.registry.list()) for (const p of n.sessions[sessionId] ?? []) ids.add(p);
        return ids.size;
      },
      receivingVideo: async (sessionId, local) => {
        const ids = new Set(local);
        for (const n of await this.#d.registry.list())
          if (n.id !== this.#self) for (const p of n.receiving?.[sessionId] ?? []) ids.add(p);
        return ids.size;
      },
      handsChanged: async (sessionId, local) => {
        const key = clusterKeys.hands(sessionId);
        const startedAt = this.#d.registry.startedAt;
        const m = this.#d.redis.multi();
        if (local.length)
          m.hset(key, this.#self, JSON.stringify({ startedAt, hands: local })).pexpire(key, HANDS_TTL_MS);
        else m.hdel(key, this.#self);
        await m.exec();
        this.#handSessions.add(sessionId);
        this.#d.events.emit('handsChanged', { sessionId, nodeId: this.#self });
      },
      allHands: async (sessionId, local) => {
        const [stored, nodes] = await Promise.all([
          this.#d.redis.hgetall(clusterKeys.hands(sessionId)),
          this.#d.registry.list(),
        ]);
        return mergeHands(this.#self, local, stored, nodes);
      },
      remoteFloor: async (sessionId, pointId, granted) => {
        // This node is skipped: the point is not among its sockets, whatever its last
        // heartbeat said (an order to itself would come straight back here). A point that
        // connected since the last heartbeats is found by the claim its node made then.
        const [nodes, claimed] = await Promise.all([
          this.#d.registry.list(),
          this.#d.redis.hget(clusterKeys.assign(sessionId), pointId),
        ]);
        const candidates = nodes.filter((n) => n.id !== this.#self && n.role !== 'control');
        const node =
          candidates.find((n) => n.sessions[sessionId]?.includes(pointId)) ?? candidates.find((n) => n.id === claimed);
        if (!node) return false;
        if (granted) {
          await this.#d.grants.grant(sessionId, pointId, node.id);
          this.#ordered.set(sessionId, { pointId, nodeId: node.id });
        } else {
          await this.#d.grants.end(sessionId, pointId);
          if (this.#ordered.get(sessionId)?.pointId === pointId) this.#ordered.delete(sessionId);
        }
        this.#d.events.emit('floorOrder', { sessionId, pointId, nodeId: node.id, granted });
        return true;
      },
      floorGranted: (sessionId, pointId) => this.#d.grants.grant(sessionId, pointId, this.#self),
      liveChanged: (sessionId) => this.#d.events.emit('liveChanged', { sessionId, nodeId: this.#self }),
      floorEnded: (sessionId, pointId) => {
        this.#d.events.emit('floorEnded', { sessionId, pointId, nodeId: this.#self });
        this.#d.grants
          .end(sessionId, pointId)
          .catch((err: unknown) => this.#log.warn({ err, sessionId, pointId }, 'could not clear a floor grant'));
      },
    };
  }

  /**
   * Called with the live node ids at each sweep: a node gone takes its hands with it, and
   * the floor it held for the host here (it can no longer report its end).
   */
  nodesChanged(alive: ReadonlySet<string>): void {
    for (const [sessionId, { pointId, nodeId }] of this.#ordered) {
      if (alive.has(nodeId)) continue;
      this.#ordered.delete(sessionId);
      this.#withLive(sessionId, (live) => live.floor.remoteEnded(pointId));
    }
    const before = this.#alive;
    this.#alive = new Set(alive);
    if (!before || ![...before].some((id) => !alive.has(id))) return;
    for (const sessionId of this.#handSessions) this.#withLive(sessionId, (live) => live.hands.push());
  }

  close(): void {
    for (const off of this.#offs.splice(0)) off();
  }

  #on<K extends 'handsChanged' | 'floorOrder' | 'floorEnded' | 'liveChanged'>(
    name: K,
    schema: z.ZodType<SessionEventMap[K][0]>,
    fn: (payload: SessionEventMap[K][0]) => void,
  ): void {
    // Relayed payloads come from other processes through Redis: checked before use.
    const listener = (payload: unknown) => {
      const parsed = schema.safeParse(payload);
      if (parsed.success) fn(parsed.data);
      else this.#log.warn({ event: name, issues: parsed.error.issues }, 'malformed relayed event ignored');
    };
    this.#d.events.on(name, listener as never);
    this.#offs.push(() => this.#d.events.off(name, listener as never));
  }

  /** Runs `fn` on this node's live session of `sessionId`, if it has one. */
  #withLive(sessionId: string, fn: (live: LiveSession) => unknown): void {
    void this.#d.onAir
      .peek(sessionId)
      ?.then(async (live) => {
        if (!live.closed) await fn(live);
      })
      .catch((err: unknown) => this.#log.warn({ err, sessionId }, 'could not apply a cluster event to a live session'));
  }
}

/**
 * Every node's hands, each point once (its earliest raising), in order of raising.
 * `stored`: the hash of `cluster:hands:<session>`; only live nodes' entries from their
 * current run count, and this node's own come from `local` (fresher than Redis).
 */
export function mergeHands(
  selfId: string,
  local: readonly Hand[],
  stored: Record<string, string>,
  nodes: readonly Pick<NodeInfo, 'id' | 'startedAt'>[],
): Hand[] {
  const started = new Map(nodes.map((n) => [n.id, n.startedAt]));
  const byPoint = new Map<string, Hand>();
  const add = (h: Hand) => {
    const seen = byPoint.get(h.pointId);
    if (!seen || h.raisedAt < seen.raisedAt) byPoint.set(h.pointId, h);
  };
  local.forEach(add);
  for (const [nodeId, raw] of Object.entries(stored)) {
    if (nodeId === selfId || !started.has(nodeId)) continue;
    let parsed;
    try {
      parsed = StoredHandsSchema.safeParse(JSON.parse(raw));
    } catch {
      continue;
    }
    if (parsed.success && parsed.data.startedAt === started.get(nodeId)) parsed.data.hands.forEach(add);
  }
  return [...byPoint.values()].sort((a, b) => (a.raisedAt < b.raisedAt ? -1 : a.raisedAt > b.raisedAt ? 1 : 0));
}
