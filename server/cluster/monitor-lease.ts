// The /monitor feed's lease: with several nodes, one process per session reads
// the tiles and computes the deltas, and the Socket.IO Redis adapter carries them to the
// technicians on every node (server/realtime/monitor-namespace.ts). A process with a
// watcher of the session takes the lease when nobody holds it; the holder renews it at
// every tick, and lets it go when its last watcher leaves. A holder that dies loses it
// after LEASE_TTL_MS, and another process with watchers takes over.
//
// Redis: `cluster:monitor-feed:<session>` string, the holder's id, expiring (PX).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FeedLease } from '../realtime/monitor-namespace';

/** Three missed one-second ticks: long enough for a slow tick, short for a dead holder. */
export const LEASE_TTL_MS = 3000;

export const monitorFeedKey = (sessionId: string) => `cluster:monitor-feed:${sessionId}`;

// KEYS: lease; ARGV: holder, ttl. 1 when this holder has it (taken or renewed).
const HOLD = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

// KEYS: lease; ARGV: holder. Deletes it only if it is this holder's.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export class MonitorFeedLease implements FeedLease {
  /** Per process: two processes started with the same NODE_ID still hold apart. */
  readonly holder: string;

  constructor(
    private readonly redis: Redis,
    nodeId: string,
    private readonly ttlMs = LEASE_TTL_MS,
  ) {
    this.holder = `${nodeId}|${randomUUID()}`;
  }

  async hold(sessionId: string): Promise<boolean> {
    return (await this.redis.eval(HOLD, 1, monitorFeedKey(sessionId), this.holder, String(this.ttlMs))) === 1;
  }

  async release(sessionId: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, monitorFeedKey(sessionId), this.holder);
  }
}
