// The messages between the desk and the points of a session, kept with the session in
// Redis: one list per session in the order written, and one per conversation a point can
// read (its own with the desk, its district's, everyone's), so a point's history reads only
// its own. Each point has a share of the session (TALK_POINT_MAX) and a sending window;
// the desk has room past the session's maximum (TALK_DESK_RESERVE), so one busy point can
// neither silence the others nor the desk. Full refuses new messages, none dropped.
//
// Redis keys:
//   talk:{sessionId}                 list    JSON TalkMessage, oldest first (every message)
//   talk:{sessionId}:p:{pointId}     list    the point's messages and the desk's to it
//   talk:{sessionId}:d:{district}    list    the desk's messages to a district
//   talk:{sessionId}:all             list    the desk's messages to every point
//   talk:{sessionId}:sent            hash    pointId → messages the point sent
//   talk:{sessionId}:unread          hash    pointId → messages from the point not read by the desk
//   talk:{sessionId}:rate:{pointId}  string  messages the point sent in the current window
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  TALK_DESK_RESERVE,
  TALK_POINT_MAX,
  TALK_POINT_RATE,
  TALK_SESSION_MAX,
  TalkMessageSchema,
  type TalkMessage,
} from '../../contract/desk';
import { AppError, why } from '../../errors';

const KEEP_SECONDS = 30 * 24 * 3600;

export const TALK_KEYS = {
  list: (s: string) => `talk:${s}`,
  point: (s: string, p: string) => `talk:${s}:p:${p}`,
  district: (s: string, d: string) => `talk:${s}:d:${d}`,
  everyone: (s: string) => `talk:${s}:all`,
  sent: (s: string) => `talk:${s}:sent`,
  unread: (s: string) => `talk:${s}:unread`,
  rate: (s: string, p: string) => `talk:${s}:rate:${p}`,
};

// Appends to the session's list and the conversation's unless the session holds ARGV[2]
// already (0) or, for a point's message, the point has sent ARGV[4] (-1): one step.
// KEYS: session list, conversation list, sent hash. ARGV: json, session max, ttl, point max, point.
const APPEND = `
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
if ARGV[5] ~= '' and tonumber(redis.call('HGET', KEYS[3], ARGV[5]) or '0') >= tonumber(ARGV[4]) then return -1 end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[1])
if ARGV[5] ~= '' then
  redis.call('HINCRBY', KEYS[3], ARGV[5], 1)
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1`;

// Counts one message in the point's window; the window starts with its first message.
const COUNT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

export interface TalkLimits {
  /** Messages of the points a session keeps. */
  sessionMax: number;
  /** Room for the desk past `sessionMax`. */
  deskReserve: number;
  /** Messages one point may send in a session. */
  pointMax: number;
  pointRate: { messages: number; windowMs: number };
}

const DEFAULT_LIMITS: TalkLimits = {
  sessionMax: TALK_SESSION_MAX,
  deskReserve: TALK_DESK_RESERVE,
  pointMax: TALK_POINT_MAX,
  pointRate: TALK_POINT_RATE,
};

/** The messages of JSON entries, in order; an unreadable entry is skipped. */
function parse(raw: string[]): TalkMessage[] {
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

export class TalkStore {
  constructor(
    private readonly redis: Redis,
    private readonly limits: TalkLimits = DEFAULT_LIMITS,
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

  /**
   * Stores a new message (its id and time given here): `talk_full` when the session holds
   * its maximum (the desk's reserve besides), `talk_point_full` when the point sent its share.
   */
  async add(m: Omit<TalkMessage, 'id' | 'at'>): Promise<TalkMessage> {
    const message: TalkMessage = { id: randomUUID(), at: new Date(this.now()).toISOString(), ...m };
    const { sessionMax, deskReserve, pointMax } = this.limits;
    const s = m.sessionId;
    const fromPoint = m.from === 'point' && m.pointId ? m.pointId : '';
    const conversation = fromPoint
      ? TALK_KEYS.point(s, fromPoint)
      : m.to?.kind === 'point'
        ? TALK_KEYS.point(s, m.to.pointId)
        : m.to?.kind === 'district'
          ? TALK_KEYS.district(s, m.to.district)
          : TALK_KEYS.everyone(s);
    const added = Number(
      await this.redis.eval(
        APPEND,
        3,
        TALK_KEYS.list(s),
        conversation,
        TALK_KEYS.sent(s),
        JSON.stringify(message),
        fromPoint ? sessionMax : sessionMax + deskReserve,
        KEEP_SECONDS,
        pointMax,
        fromPoint,
      ),
    );
    if (added === -1) {
      throw new AppError(
        'limit_exceeded',
        `a point sends at most ${pointMax} messages in a session`,
        why('talk_point_full', { max: pointMax }),
      );
    }
    if (added !== 1) {
      throw new AppError(
        'limit_exceeded',
        `the session holds ${sessionMax} messages and takes no more`,
        why('talk_full', { max: sessionMax }),
      );
    }
    if (fromPoint) {
      await this.redis
        .multi()
        .hincrby(TALK_KEYS.unread(s), fromPoint, 1)
        .expire(TALK_KEYS.unread(s), KEEP_SECONDS)
        .exec();
    }
    return message;
  }

  /** Every message of the session, oldest first. */
  async all(sessionId: string): Promise<TalkMessage[]> {
    return parse(await this.redis.lrange(TALK_KEYS.list(sessionId), 0, -1));
  }

  /** The session's latest `n` messages, oldest first. */
  async recent(sessionId: string, n: number): Promise<TalkMessage[]> {
    return parse(await this.redis.lrange(TALK_KEYS.list(sessionId), -n, -1));
  }

  /**
   * A point's conversation, oldest first: its messages and the desk's to it, to its
   * district (`district`, if it has one) and to all. Reads only those lists.
   */
  async conversation(sessionId: string, pointId: string, district: string | null | undefined): Promise<TalkMessage[]> {
    const lists = [TALK_KEYS.point(sessionId, pointId), TALK_KEYS.everyone(sessionId)];
    if (district) lists.push(TALK_KEYS.district(sessionId, district));
    const pipe = this.redis.pipeline();
    for (const k of lists) pipe.lrange(k, 0, -1);
    const res = (await pipe.exec()) ?? [];
    const raw: string[] = [];
    for (const [err, got] of res) {
      if (err) throw err;
      raw.push(...(got as string[]));
    }
    // ISO times of one clock sort as text; the sort is stable within each list.
    return parse(raw).sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : 0));
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
