// Health history and the current status per point, in Redis.
//
// Keys (s = session id, p = point id):
//   health:<s>:<p>      stream  one sample per report (field `j`: HealthSample JSON),
//                               XADD MAXLEN ~ HEALTH_HISTORY_MAXLEN (default 10,800 =
//                               6 hours at one sample every 2 s)
//   health:<s>:state    hash    p → { state: HealthState, last: HealthSample | null,
//                               badSince: ms | null } JSON: where a restarted server or
//                               another process picks the status machine up
import type { Redis } from 'ioredis';
import type { HealthSample } from '../../contract/attendance';
import type { HealthState } from './status';

export const HEALTH_KEYS = {
  history: (s: string, p: string) => `health:${s}:${p}`,
  state: (s: string) => `health:${s}:state`,
} as const;

export interface StoredHealth {
  state: HealthState;
  last: HealthSample | null;
  /** Since when the point has been poor or lost without a break (for alerts). */
  badSince: number | null;
}

export class HealthStore {
  constructor(
    private readonly redis: Redis,
    private readonly maxLen: number,
  ) {}

  /** Appends a sample and the new state in one MULTI. */
  async record(s: string, p: string, sample: HealthSample | null, stored: StoredHealth): Promise<void> {
    const multi = this.redis.multi();
    if (sample)
      multi.xadd(HEALTH_KEYS.history(s, p), 'MAXLEN', '~', String(this.maxLen), '*', 'j', JSON.stringify(sample));
    multi.hset(HEALTH_KEYS.state(s), p, JSON.stringify(stored));
    const res = await multi.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async get(s: string, p: string): Promise<StoredHealth | null> {
    const j = await this.redis.hget(HEALTH_KEYS.state(s), p);
    return j ? (JSON.parse(j) as StoredHealth) : null;
  }

  async all(s: string): Promise<Map<string, StoredHealth>> {
    const all = await this.redis.hgetall(HEALTH_KEYS.state(s));
    return new Map(Object.entries(all).map(([p, j]) => [p, JSON.parse(j) as StoredHealth]));
  }

  async length(s: string, p: string): Promise<number> {
    return this.redis.xlen(HEALTH_KEYS.history(s, p));
  }

  /** The session's samples, thinned to at most `maxPoints` (evenly, the newest kept). */
  async history(s: string, p: string, maxPoints = 900): Promise<HealthSample[]> {
    const raw = await this.redis.xrange(HEALTH_KEYS.history(s, p), '-', '+');
    const all = raw.map(([, f]) => JSON.parse(f[1] ?? 'null') as HealthSample).filter(Boolean);
    if (all.length <= maxPoints) return all;
    const step = all.length / maxPoints;
    const out: HealthSample[] = [];
    for (let i = 0; i < maxPoints; i++) out.push(all[Math.floor(i * step)]!);
    out[out.length - 1] = all[all.length - 1]!;
    return out;
  }
}
