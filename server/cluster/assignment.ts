// Which node serves a point's page (socket and media) in a session. Edges first; a
// district's points go together to one edge, to the edge of their region if one is
// named so, unless that edge already carries well over its share; otherwise the least
// loaded edge. A point whose edge stopped beating is given a live one when it asks again.
import type { Redis } from 'ioredis';
import type { NodeInfo } from '../contract/cluster';
import type { PointRegistry } from '../domain/points/registry';
import { clusterKeys } from './keys';
import type { NodeRegistry } from './node-registry';

/** A district stays on its edge until that edge has this much more than an even share. */
const DISTRICT_SLACK = 1.25;

export class PointAssignment {
  constructor(
    private readonly redis: Redis,
    private readonly nodes: NodeRegistry,
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
    const byId = new Map(alive.map((n) => [n.id, n]));
    const current = await this.redis.hget(clusterKeys.assign(sessionId), pointId);
    if (current && byId.has(current)) return byId.get(current);

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

  /** The point connected to `nodeId` (wherever it was sent): that is where it is now. */
  async claim(sessionId: string, pointId: string, nodeId: string): Promise<void> {
    await this.redis.hset(clusterKeys.assign(sessionId), pointId, nodeId);
  }

  async all(sessionId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(clusterKeys.assign(sessionId));
  }
}
