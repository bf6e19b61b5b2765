// Briefing sessions in Redis.
//
// Keys:
//   session:<id>        string  Session JSON; `rev` inside it is incremented by every write,
//                               and writes are compare-and-set on it (Lua), so two hosts
//                               editing, or a host and a job, never overwrite each other
//   session:<id>:rev    string  the `rev` of session:<id>, written with it: a process keeps
//                               the sessions it read and fetches the document again only when
//                               this changed (a national session lists 10,000 points, 200 KB)
//   sessions:byStart    zset    session id scored by scheduledStart (ms), for lists
// Deleting a session deletes its timeline too (server/domain/timeline/store.ts).
import type { Redis } from 'ioredis';
import type { Session } from '../../contract/api';
import { TIMELINE_KEYS } from '../timeline/store';

export const SESSION_KEYS = {
  doc: (id: string) => `session:${id}`,
  rev: (id: string) => `session:${id}:rev`,
  byStart: 'sessions:byStart',
} as const;

// KEYS[1] doc, KEYS[2] byStart; ARGV[1] expected rev (0: must not exist), ARGV[2] JSON,
// ARGV[3] score, ARGV[4] id, ARGV[5] the new rev (KEYS[3]). Returns 1, or 0 when the
// stored rev differs.
const CAS_PUT = `
local cur = redis.call('GET', KEYS[1])
local rev = 0
if cur then rev = cjson.decode(cur)['rev'] end
if tostring(rev) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
return 1
`;
// KEYS[1] doc, KEYS[2] rev; ARGV[1] the rev this process holds ('' for none). Answers {rev}
// when that is still the stored one, else {rev or '', doc or ''}.
const GET_FRESH = `
local rev = redis.call('GET', KEYS[2])
if rev and rev == ARGV[1] then return {rev} end
return {rev or '', redis.call('GET', KEYS[1]) or ''}
`;
/** Sessions kept parsed per process (the open ones are a handful). */
const KEPT = 64;
// KEYS[1] doc, KEYS[2] byStart, KEYS[3..] the session's other keys; ARGV[1] expected rev, ARGV[2] id.
const CAS_DEL = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if tostring(cjson.decode(cur)['rev']) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[3], KEYS[4], KEYS[5])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`;

export class SessionStore {
  /** Sessions read, by id, with their rev: shared by every reader, never changed in place. */
  readonly #kept = new Map<string, Session>();

  constructor(private readonly redis: Redis) {}

  /**
   * The session, fetched and parsed again only when its rev changed since this process
   * last read it. The object answered is shared: read it, copy it to change it.
   */
  async get(id: string): Promise<Session | undefined> {
    const held = this.#kept.get(id);
    const [rev, json] = (await this.redis.eval(
      GET_FRESH,
      2,
      SESSION_KEYS.doc(id),
      SESSION_KEYS.rev(id),
      held ? String(held.rev) : '',
    )) as [string, string?];
    if (held && json === undefined) return held;
    this.#kept.delete(id);
    if (!json) return undefined;
    const s = JSON.parse(json) as Session;
    if (rev === String(s.rev)) {
      if (this.#kept.size >= KEPT) this.#kept.delete(this.#kept.keys().next().value!);
      this.#kept.set(id, s);
    }
    return s;
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
      3,
      SESSION_KEYS.doc(next.id),
      SESSION_KEYS.byStart,
      SESSION_KEYS.rev(next.id),
      String(expectedRev),
      JSON.stringify(next),
      String(Date.parse(next.scheduledStart)),
      next.id,
      String(next.rev),
    );
    return ok === 1;
  }

  async delete(id: string, expectedRev: number): Promise<boolean> {
    const ok = await this.redis.eval(
      CAS_DEL,
      5,
      SESSION_KEYS.doc(id),
      SESSION_KEYS.byStart,
      TIMELINE_KEYS.entries(id),
      TIMELINE_KEYS.last(id),
      SESSION_KEYS.rev(id),
      String(expectedRev),
      id,
    );
    return ok === 1;
  }
}
