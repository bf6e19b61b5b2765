// The messages between the desk and the points of a session, kept with the session in
// Redis: one list per session in the order written, a count of each point's messages the
// desk has not read, and each point's sending window. A full session refuses new
// messages rather than dropping old ones.
//
// Redis keys:
//   talk:{sessionId}                 list    JSON TalkMessage, oldest first (TALK_SESSION_MAX at most)
//   talk:{sessionId}:unread          hash    pointId → messages from the point not read by the desk
//   talk:{sessionId}:rate:{pointId}  string  messages the point sent in the current window
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { TALK_POINT_RATE, TALK_SESSION_MAX, TalkMessageSchema, type TalkMessage } from '../../contract/desk';
import { AppError, why } from '../../errors';

const KEEP_SECONDS = 30 * 24 * 3600;

export const TALK_KEYS = {
  list: (s: string) => `talk:${s}`,
  unread: (s: string) => `talk:${s}:unread`,
  rate: (s: string, p: string) => `talk:${s}:rate:${p}`,
};

// Appends unless the list holds `max` already: the check and the push are one step.
const APPEND = `
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`;

// Counts one message in the point's window; the window starts with its first message.
const COUNT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

export class TalkStore {
  constructor(
    private readonly redis: Redis,
    private readonly limits = { sessionMax: TALK_SESSION_MAX, pointRate: TALK_POINT_RATE },
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws `rate_limited` when the point has sent its window's share already. */
  async countPointMessage(sessionId: string, pointId: string): Promise<void> {
    const { messages, windowMs } = this.limits.pointRate;
    const n = Number(await this.redis.eval(COUNT, 1, TALK_KEYS.rate(sessionId, pointId), windowMs));
    if (n > messages) {
      throw new AppError('rate_limited', `at most ${messages} messages every ${windowMs / 1000} s; wait a moment`);
    }
  }

  /** Stores a new message (its id and time given here); `talk_full` when the session holds its maximum. */
  async add(m: Omit<TalkMessage, 'id' | 'at'>): Promise<TalkMessage> {
    const message: TalkMessage = { id: randomUUID(), at: new Date(this.now()).toISOString(), ...m };
    const max = this.limits.sessionMax;
    const added = await this.redis.eval(
      APPEND,
      1,
      TALK_KEYS.list(m.sessionId),
      JSON.stringify(message),
      max,
      KEEP_SECONDS,
    );
    if (Number(added) !== 1) {
      throw new AppError(
        'limit_exceeded',
        `the session holds ${max} messages and takes no more`,
        why('talk_full', { max }),
      );
    }
    if (m.from === 'point' && m.pointId) {
      await this.redis
        .multi()
        .hincrby(TALK_KEYS.unread(m.sessionId), m.pointId, 1)
        .expire(TALK_KEYS.unread(m.sessionId), KEEP_SECONDS)
        .exec();
    }
    return message;
  }

  /** Every message of the session, oldest first (an unreadable entry is skipped). */
  async all(sessionId: string): Promise<TalkMessage[]> {
    const raw = await this.redis.lrange(TALK_KEYS.list(sessionId), 0, -1);
    const out: TalkMessage[] = [];
    for (const j of raw) {
      try {
        const m = TalkMessageSchema.safeParse(JSON.parse(j));
        if (m.success) out.push(m.data);
      } catch {
        /* not JSON: skipped */
      }
    }
    return out;
  }

  async unread(sessionId: string): Promise<Record<string, number>> {
    const h = await this.redis.hgetall(TALK_KEYS.unread(sessionId));
    return Object.fromEntries(Object.entries(h).map(([p, n]) => [p, Number(n)]));
  }

  /** True when the point had unread messages. */
  async markRead(sessionId: string, pointId: string): Promise<boolean> {
    return (await this.redis.hdel(TALK_KEYS.unread(sessionId), pointId)) > 0;
  }
}
