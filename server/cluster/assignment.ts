// Which node serves a point's page (socket and media) in a session. Edges first; a
// district's points go together to one edge, to the edge of their region if one is
// named so, unless that edge already carries well over its share; otherwise the least
// loaded edge. A point whose edge stopped beating is given a live one when it asks again.
//
// Each decision is one Lua script in Redis (read the loads, choose, write), so decisions of
// one session never interleave, whichever control process takes them. Without that, a
// join storm of 420 points read the same loads concurrently and split 271/149 where the
// districts allow 210/210 (docs/benchmarks.md, run G).
import type { Redis } from 'ioredis';
import type { NodeInfo } from '../contract/cluster';
import type { PointRegistry } from '../domain/points/registry';
import { clusterKeys } from './keys';
import type { NodeRegistry } from './node-registry';

/** A district stays on its edge until that edge has this much more than an even share. */
const DISTRICT_SLACK = 1.25;
/** One decision, atomically: KEYS assign hash, district hash; ARGV point, district key,
 * invited, slack, then "id<TAB>region" of each alive node in tie-break order. */
const DECIDE = `
local pointId, district, invited, slack = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local ids, regionOf, load = {}, {}, {}
for i = 5, #ARGV do
  local id, region = string.match(ARGV[i], '^([^\t]*)\t(.*)$')
  ids[#ids + 1] = id
  regionOf[id] = region
  load[id] = 0
end
local current = redis.call('HGET', KEYS[1], pointId)
if current and load[current] ~= nil then return current end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local n = all[i + 1]
  if all[i] ~= pointId and load[n] ~= nil then load[n] = load[n] + 1 end
end
local share = math.ceil(math.max(invited, #all / 2 + 1) / #ids * slack) + 1
local chosen = nil
if district ~= '' then
  local dn = redis.call('HGET', KEYS[2], district)
  if dn and load[dn] ~= nil and load[dn] < share then chosen = dn end
  if not chosen then
    for _, id in ipairs(ids) do
      if regionOf[id] == district and load[id] < share then chosen = id break end
    end
  end
end
if not chosen then
  chosen = ids[1]
  for _, id in ipairs(ids) do
    if load[id] < load[chosen] then chosen = id end
  end
end
redis.call('HSET', KEYS[1], pointId, chosen)
if district ~= '' then redis.call('HSET', KEYS[2], district, chosen) end
return chosen
`;

export class PointAssignment {
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
    const district = ((await this.points.get(pointId))?.district ?? '').trim().toLowerCase();
    // Ties go to the node with fewer points connected (all sessions).
    const order = [...alive].sort((a, b) => a.load.points - b.load.points);
    const nodeArgs = order.map((n) => `${n.id}\t${(n.region ?? '').trim().toLowerCase()}`);
    const chosen = (await this.redis.eval(
      DECIDE,
      2,
      clusterKeys.assign(sessionId),
      clusterKeys.assignDistrict(sessionId),
      pointId,
      district,
      String(invited),
      String(DISTRICT_SLACK),
      ...nodeArgs,
    )) as string;
    return alive.find((n) => n.id === chosen);
  }

  /** The point connected to `nodeId` (wherever it was sent): that is where it is now. */
  async claim(sessionId: string, pointId: string, nodeId: string): Promise<void> {
    await this.redis.hset(clusterKeys.assign(sessionId), pointId, nodeId);
  }

  async all(sessionId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(clusterKeys.assign(sessionId));
  }
}
