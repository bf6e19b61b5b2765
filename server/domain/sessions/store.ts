// Briefing sessions in Redis.
//
// Keys:
//   session:<id>        string  Session JSON; `rev` inside it is incremented by every write,
//                               and writes are compare-and-set on it (Lua), so two hosts
//                               editing, or a host and a job, never overwrite each other
//   sessions:byStart    zset    session id scored by scheduledStart (ms), for lists
// Deleting a session deletes its timeline too (server/domain/timeline/store.ts).
import type { Redis } from 'ioredis';
import type { Session } from '../../contract/api';
import { TIMELINE_KEYS } from '../timeline/store';

export const SESSION_KEYS = {
  doc: (id: string) => `session:${id}`,
  byStart: 'sessions:byStart',
} as const;

// KEYS[1] doc, KEYS[2] byStart; ARGV[1] expected rev (0: must not exist), ARGV[2] JSON,
// ARGV[3] score, ARGV[4] id. Returns 1, or 0 when the stored rev differs.
const CAS_PUT = `
local cur = redis.call('GET', KEYS[1])
local rev = 0
if cur then rev = cjson.decode(cur)['rev'] end
if tostring(rev) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1
`;
// KEYS[1] doc, KEYS[2] byStart, KEYS[3..] the session's other keys; ARGV[1] expected rev, ARGV[2] id.
const CAS_DEL = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if tostring(cjson.decode(cur)['rev']) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`;

export class SessionStore {
  constructor(private readonly redis: Redis) {}

  async get(id: string): Promise<Session | undefined> {
    const json = await this.redis.get(SESSION_KEYS.doc(id));
    return json ? (JSON.parse(json) as Session) : undefined;
  }

  /** Newest start first. */
  async all(): Promise<Session[]> {
    const ids = await this.redis.zrevrange(SESSION_KEYS.byStart, 0, -1);
    if (ids.length === 0) return [];
    const docs = await this.redis.mget(ids.map(SESSION_KEYS.doc));
    return docs.filter((d): d is string => d !== null).map((d) => JSON.parse(d) as Session);
  }

  /** Writes `next` if the stored revision is still `expectedRev` (0 for a new session). */
  async put(next: Session, expectedRev: number): Promise<boolean> {
    const ok = await this.redis.eval(
      CAS_PUT,
      2,
      SESSION_KEYS.doc(next.id),
      SESSION_KEYS.byStart,
      String(expectedRev),
      JSON.stringify(next),
      String(Date.parse(next.scheduledStart)),
      next.id,
    );
    return ok === 1;
  }

  async delete(id: string, expectedRev: number): Promise<boolean> {
    const ok = await this.redis.eval(
      CAS_DEL,
      4,
      SESSION_KEYS.doc(id),
      SESSION_KEYS.byStart,
      TIMELINE_KEYS.entries(id),
      TIMELINE_KEYS.last(id),
      String(expectedRev),
      id,
    );
    return ok === 1;
  }
}
