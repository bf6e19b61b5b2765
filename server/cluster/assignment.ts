// Which node serves a point's page (socket and media) in a session. Edges first; a
// district's points go together to one edge, to the edge of their region if one is
// named so, unless that edge already carries well over its share; otherwise the least
// loaded edge. A point whose edge stopped beating is given a live one when it asks again.
//
// Each decision is one Lua script in Redis (read the loads, choose, write), so decisions of
// one session never interleave, whichever control process takes them. Without that, a
// join storm of 420 points read the same loads concurrently and split 271/149 where the
// districts allow 210/210 (docs/benchmarks/media-path.md, run G). The loads are per-node
// counts kept beside the assignments, so a decision costs the same at 10,000 points as at
// 10; each write checks them against the assignments' number and rebuilds them when they
// differ. The session's three hashes expire together, ASSIGN_KEEP_SECONDS after the
// session's last decision or claim, and go when the session ends.
import type { Redis } from 'ioredis';
import type { NodeInfo } from '../contract/cluster';
import type { PointRegistry } from '../domain/points/registry';
import { clusterKeys } from './keys';
import type { NodeRegistry } from './node-registry';

/** A district stays on its edge until that edge has this much more than an even share. */
const DISTRICT_SLACK = 1.25;

/** How long a session's assignment hashes outlive their last write (a briefing's day and more). */
export const ASSIGN_KEEP_SECONDS = 2 * 24 * 3600;

// The per-node counts (KEYS[c]): every write keeps them, so a decision reads a few fields.
// Their sum (one field per node) must be the number of assignments; when it is not (a
// session placed before they were kept, a hash lost or expired alone, a write that did
// not go through these scripts) they are rebuilt from the assignments.
const COUNTS = (assign: number, counts: number) => `
local sum = 0
for _, n in ipairs(redis.call('HVALS', KEYS[${counts}])) do sum = sum + tonumber(n) end
if sum ~= redis.call('HLEN', KEYS[${assign}]) then
  redis.call('DEL', KEYS[${counts}])
  local all = redis.call('HGETALL', KEYS[${assign}])
  for i = 2, #all, 2 do redis.call('HINCRBY', KEYS[${counts}], all[i], 1) end
end
`;

// A point leaving node KEYS[c] (ARGV: its id): a count down to nothing is dropped, so the
// hash holds the nodes that carry points.
const LEAVE = (counts: number, node: string) => `
if redis.call('HINCRBY', KEYS[${counts}], ${node}, -1) <= 0 then redis.call('HDEL', KEYS[${counts}], ${node}) end
`;

/** The hashes of KEYS expire ARGV[i] seconds after this write. */
const KEEP = (keys: number, seconds: string) => `
for k = 1, ${keys} do redis.call('EXPIRE', KEYS[k], ${seconds}) end
`;

/** One decision, atomically: KEYS assign hash, district hash, counts hash; ARGV point,
 * district key, invited, slack, seconds kept, then "id<TAB>region" of each alive node in
 * tie-break order.
 * It reads the point's and its district's fields, the alive nodes' counts and the number of
 * points placed: O(nodes), whatever the number of points. */
const DECIDE = `
local pointId, district, invited, slack = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local ids, regionOf, load = {}, {}, {}
for i = 6, #ARGV do
  local id, region = string.match(ARGV[i], '^([^\t]*)\t(.*)$')
  ids[#ids + 1] = id
  regionOf[id] = region
end
local current = redis.call('HGET', KEYS[1], pointId)
if current and regionOf[current] ~= nil then return current end
${COUNTS(1, 3)}
local counts = redis.call('HMGET', KEYS[3], unpack(ids))
for i, id in ipairs(ids) do load[id] = tonumber(counts[i]) or 0 end
local share = math.ceil(math.max(invited, redis.call('HLEN', KEYS[1]) + 1) / #ids * slack) + 1
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
if current then ${LEAVE(3, 'current')} end
redis.call('HINCRBY', KEYS[3], chosen, 1)
if district ~= '' then redis.call('HSET', KEYS[2], district, chosen) end
${KEEP(3, 'ARGV[5]')}
return chosen
`;

/** The point is where it connected: KEYS assign hash, counts hash, district hash (not
 * written, only kept as long as the other two); ARGV point, node, seconds kept. */
const CLAIM = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current == ARGV[2] then return 0 end
${COUNTS(1, 2)}
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if current then ${LEAVE(2, 'current')} end
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
${KEEP(3, 'ARGV[3]')}
return 1
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
      3,
      clusterKeys.assign(sessionId),
      clusterKeys.assignDistrict(sessionId),
      clusterKeys.assignCounts(sessionId),
      pointId,
      district,
      String(invited),
      String(DISTRICT_SLACK),
      String(ASSIGN_KEEP_SECONDS),
      ...nodeArgs,
    )) as string;
    return alive.find((n) => n.id === chosen);
  }

  /** The point connected to `nodeId` (wherever it was sent): that is where it is now. */
  async claim(sessionId: string, pointId: string, nodeId: string): Promise<void> {
    await this.redis.eval(
      CLAIM,
      3,
      clusterKeys.assign(sessionId),
      clusterKeys.assignCounts(sessionId),
      clusterKeys.assignDistrict(sessionId),
      pointId,
      nodeId,
      String(ASSIGN_KEEP_SECONDS),
    );
  }

  /** The session ended: its assignments go (a point that asks again is placed anew). */
  async forget(sessionId: string): Promise<void> {
    await this.redis.del(
      clusterKeys.assign(sessionId),
      clusterKeys.assignDistrict(sessionId),
      clusterKeys.assignCounts(sessionId),
    );
  }

  async all(sessionId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(clusterKeys.assign(sessionId));
  }
}
