// The /monitor feed's lease: with several nodes, one process per session reads
// the tiles and computes the deltas, and the Socket.IO Redis adapter carries them to the
// technicians on every node (server/realtime/monitor-namespace.ts). A process with a
// watcher of the session takes the lease when nobody holds it; the holder renews it at
// every tick, and lets it go when its last watcher leaves. A holder that dies loses it
// after LEASE_TTL_MS, and another process with watchers takes over.
//
// What the monitors watch, across processes: each process with watchers of a session
// announces, at every tick and when it changes, what they watch: a filter's key
// (`f:<province>/<district>`, server/domain/attendance/monitor-filter.ts) per desk and
// `p:<point>` per open detail view. The holder sends a filter's deltas only while someone
// watches it, and a node sends a point's samples only while someone has its detail open:
// a point's health report costs no PUBLISH when nobody looks at it. A node reads the
// announcements of a session at most once a second (`watching`), never per report.
//
// Redis: `cluster:monitor-feed:<session>` string, the holder's id, expiring (PX);
// `cluster:monitor-watch:<session>` hash, holder → "<until ms>\n<key>\n<key>…" (Redis
// time), the key expiring LEASE_TTL_MS after the last announcement.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { FeedLease } from '../realtime/monitor-namespace';

/** Three missed one-second ticks: long enough for a slow tick, short for a dead holder. */
export const LEASE_TTL_MS = 3000;

export const monitorFeedKey = (sessionId: string) => `cluster:monitor-feed:${sessionId}`;
export const monitorWatchKey = (sessionId: string) => `cluster:monitor-watch:${sessionId}`;

/** How long a node answers `watching` from what it read last. */
export const WATCH_READ_MS = 1000;

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

const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

// KEYS: watch hash; ARGV: holder, ttl, then the keys (none: withdraw). Drops the entries
// of holders that stopped announcing (a process that died).
const ANNOUNCE = `${NOW_MS}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local untilMs = tonumber(string.match(all[i + 1], '^(%d+)'))
  if all[i] ~= ARGV[1] and (not untilMs or untilMs <= now) then redis.call('HDEL', KEYS[1], all[i]) end
end
if #ARGV <= 2 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], (now + tonumber(ARGV[2])) .. '\\n' .. table.concat(ARGV, '\\n', 3))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

// KEYS: watch hash. The keys of every holder that announced within its ttl, each once.
const WATCHED = `${NOW_MS}
local out, seen = {}, {}
local all = redis.call('HGETALL', KEYS[1])
for i = 2, #all, 2 do
  local live = nil
  for part in string.gmatch(all[i], '[^\\n]+') do
    if live == nil then
      live = (tonumber(part) or 0) > now
    elseif live and not seen[part] then
      seen[part] = true
      out[#out + 1] = part
    end
  end
end
return out
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

  async announce(sessionId: string, keys: readonly string[]): Promise<void> {
    await this.redis.eval(ANNOUNCE, 1, monitorWatchKey(sessionId), this.holder, String(this.ttlMs), ...keys);
  }

  async watched(sessionId: string): Promise<ReadonlySet<string>> {
    return new Set((await this.redis.eval(WATCHED, 1, monitorWatchKey(sessionId))) as string[]);
  }

  readonly #seen = new Map<string, { at: number; asked: number; keys: ReadonlySet<string>; reading: boolean }>();

  watching(sessionId: string, key: string): boolean {
    const now = Date.now();
    let e = this.#seen.get(sessionId);
    if (!e) {
      // Sessions nobody asked about for a minute are forgotten.
      for (const [id, old] of this.#seen) if (now - old.asked > 60_000) this.#seen.delete(id);
      e = { at: 0, asked: now, keys: new Set(), reading: false };
      this.#seen.set(sessionId, e);
    }
    e.asked = now;
    if (now - e.at >= WATCH_READ_MS && !e.reading) {
      const entry = e;
      entry.reading = true;
      // A failed read keeps what was read before, and is retried after WATCH_READ_MS.
      this.watched(sessionId)
        .then(
          (keys) => (entry.keys = keys),
          () => undefined,
        )
        .finally(() => {
          entry.at = Date.now();
          entry.reading = false;
        });
    }
    return e.keys.has(key);
  }
}
