// A snapshot of everything a request could change, to prove a refused one changed
// nothing: every Redis key and value (BullMQ's own bookkeeping aside: its workers move
// it on their timers) plus what the live session holds in memory.
import { Redis } from 'ioredis';

/**
 * `ignore`: keys left out. Hashes of live sockets (`att:*:sockets:*`) are compared by
 * their socket ids only: their scores are heartbeats the server refreshes on a timer.
 */
export async function redisSnapshot(url: string, ignore: RegExp = /^bull:/): Promise<Map<string, string>> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const out = new Map<string, string>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        if (ignore.test(key)) continue;
        const type = await redis.type(key);
        let value: unknown;
        if (type === 'string') value = await redis.get(key);
        else if (/^att:[^:]+:sockets:/.test(key)) value = type === 'zset' ? await redis.zrange(key, '0', '-1') : type;
        else if (type === 'hash') value = Object.entries(await redis.hgetall(key)).sort();
        else if (type === 'list') value = await redis.lrange(key, 0, -1);
        else if (type === 'set') value = (await redis.smembers(key)).sort();
        else if (type === 'zset') value = await redis.zrange(key, '0', '-1', 'WITHSCORES');
        else if (type === 'stream') value = [await redis.xlen(key), await redis.xrevrange(key, '+', '-', 'COUNT', '1')];
        else value = type;
        out.set(key, JSON.stringify(value));
      }
    } while (cursor !== '0');
    return out;
  } finally {
    redis.disconnect();
  }
}

/** Keys added, removed or changed between two snapshots, with the values. */
export function snapshotDiff(a: Map<string, string>, b: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of a) if (b.get(k) !== v) out.push(`${k}: ${v.slice(0, 200)} → ${b.get(k)?.slice(0, 200)}`);
  for (const [k, v] of b) if (!a.has(k)) out.push(`${k}: (none) → ${v.slice(0, 200)}`);
  return out;
}
