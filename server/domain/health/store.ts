// Health history and the current status per point, in Redis.
//
// Keys (s = session id, p = point id):
//   health:<s>:<p>      stream  one sample per report (field `c`: the compact form of
//                               sample-codec.ts; `j`, keyed JSON, in older entries),
//                               XADD MAXLEN ~ HEALTH_HISTORY_MAXLEN (default 10,800 =
//                               6 hours at one sample every 2 s)
//   health:<s>:state    hash    p → { state: HealthState, last: HealthSample | null,
//                               badSince: ms | null } JSON: where a restarted server or
//                               another process picks the status machine up
//   health:<s>:owner    hash    p → node id: the one process that computes the point's
//                               status (set only when several nodes share the work,
//                               server/cluster/health-sharing.ts); a report or an ageing
//                               tick from any other process is refused, so a page moving
//                               between nodes never has two machines writing its state
import type { Redis } from 'ioredis';
import type { HealthSample } from '../../contract/attendance';
import { decodeSample, encodeSample, SAMPLE_FIELD } from './sample-codec';
import type { HealthState } from './status';

export const HEALTH_KEYS = {
  history: (s: string, p: string) => `health:${s}:${p}`,
  state: (s: string) => `health:${s}:state`,
  owner: (s: string) => `health:${s}:owner`,
} as const;

/** Who writes a point's state: only its owner, or anyone taking the point over. */
export type Fence = { node: string; take: boolean };

// KEYS: history, state, owner; ARGV: point, node, take ('1' makes this node the owner),
// stored JSON, maxlen, encoded sample ('' for none). Returns 1 when written, 0 when another
// node owns the point.
const RECORD_FENCED = `
local owner = redis.call('HGET', KEYS[3], ARGV[1])
if ARGV[3] == '1' then
  if owner ~= ARGV[2] then redis.call('HSET', KEYS[3], ARGV[1], ARGV[2]) end
elseif owner and owner ~= ARGV[2] then
  return 0
end
if ARGV[6] ~= '' then redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '*', '${SAMPLE_FIELD.compact}', ARGV[6]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
return 1
`;

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

  /**
   * Appends a sample and the new state in one MULTI; with a fence, in one script that
   * first checks (or takes) the point's ownership. False when another node owns it.
   */
  async record(
    s: string,
    p: string,
    sample: HealthSample | null,
    stored: StoredHealth,
    fence?: Fence,
  ): Promise<boolean> {
    if (fence) {
      const r = await this.redis.eval(
        RECORD_FENCED,
        3,
        HEALTH_KEYS.history(s, p),
        HEALTH_KEYS.state(s),
        HEALTH_KEYS.owner(s),
        p,
        fence.node,
        fence.take ? '1' : '0',
        JSON.stringify(stored),
        String(this.maxLen),
        sample ? encodeSample(sample) : '',
      );
      return r === 1;
    }
    const multi = this.redis.multi();
    if (sample)
      multi.xadd(
        HEALTH_KEYS.history(s, p),
        'MAXLEN',
        '~',
        String(this.maxLen),
        '*',
        SAMPLE_FIELD.compact,
        encodeSample(sample),
      );
    multi.hset(HEALTH_KEYS.state(s), p, JSON.stringify(stored));
    const res = await multi.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0];
    return true;
  }

  /** This node serves the point now: its status machine is computed here from now on. */
  async claim(s: string, p: string, node: string): Promise<void> {
    await this.redis.hset(HEALTH_KEYS.owner(s), p, node);
  }

  async owner(s: string, p: string): Promise<string | null> {
    return this.redis.hget(HEALTH_KEYS.owner(s), p);
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
    const all = raw.map(([, f]) => decodeSample(f)).filter((x): x is HealthSample => x !== null);
    if (all.length <= maxPoints) return all;
    const step = all.length / maxPoints;
    const out: HealthSample[] = [];
    for (let i = 0; i < maxPoints; i++) out.push(all[Math.floor(i * step)]!);
    out[out.length - 1] = all[all.length - 1]!;
    return out;
  }
}
