// Who holds the floor of a session, as the node that gave it records it (sealed, see
// sealed.ts): the point, the node serving that point, the granting node. The origin
// adopts a floor stream coming up from an edge (uplink-pipes.ts) only for the point
// recorded here and from the node recorded here, so holding the cluster's bearer token
// is not enough to put a stream on every screen.
//
// Written before the grant is enacted (the edge's uplink comes after); cleared by the
// granting node when it takes the floor back or the floor it gave here ends; expires
// after a day at most.
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { clusterKeys } from './keys';
import type { RecordSeal } from './sealed';

const GRANT_TTL_MS = 24 * 3600_000;
const GrantSchema = z.object({
  pointId: z.string().min(1).max(200),
  nodeId: z.string().min(1).max(64),
  grantedBy: z.string().min(1).max(64),
  at: z.string(),
});
export type FloorGrant = z.infer<typeof GrantSchema>;

/** Deletes the key only if it still holds ARGV[1] (a newer grant is left alone). */
const DELETE_IF_SAME = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

export class FloorGrants {
  constructor(
    private readonly redis: Redis,
    private readonly seal: RecordSeal,
    private readonly selfId: string,
  ) {}

  /** This node gives `pointId`, served by `nodeId`, the floor. */
  async grant(sessionId: string, pointId: string, nodeId: string): Promise<void> {
    const key = clusterKeys.floorGrant(sessionId);
    const grant: FloorGrant = { pointId, nodeId, grantedBy: this.selfId, at: new Date().toISOString() };
    await this.redis.set(key, this.seal.seal(key, grant), 'PX', GRANT_TTL_MS);
  }

  async get(sessionId: string): Promise<FloorGrant | undefined> {
    const key = clusterKeys.floorGrant(sessionId);
    const parsed = GrantSchema.safeParse(this.seal.open(key, await this.redis.get(key)));
    return parsed.success ? parsed.data : undefined;
  }

  /** The floor of `pointId` ended: its grant goes, if this node gave it and it is still the current one. */
  async end(sessionId: string, pointId: string): Promise<void> {
    const key = clusterKeys.floorGrant(sessionId);
    const raw = await this.redis.get(key);
    const parsed = GrantSchema.safeParse(this.seal.open(key, raw));
    if (!raw || !parsed.success || parsed.data.pointId !== pointId || parsed.data.grantedBy !== this.selfId) return;
    await this.redis.eval(DELETE_IF_SAME, 1, key, raw);
  }
}
