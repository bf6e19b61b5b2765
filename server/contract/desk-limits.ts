// The talk channel's limits (server/contract/desk.ts), apart from its zod schemas: a page
// that only needs these numbers (the point page) loads no zod.
/** Characters of one message, after trimming. */
export const TALK_TEXT_MAX = 500;
/**
 * Messages one session keeps from its points; beyond it their new ones are refused
 * (`talk_full`), none dropped. The desk may write TALK_DESK_RESERVE more.
 */
export const TALK_SESSION_MAX = 5000;
/** Room kept for the desk's messages past TALK_SESSION_MAX, so a full session still hears it. */
export const TALK_DESK_RESERVE = 1000;
/** Messages one point may send in one session (`talk_point_full` beyond). */
export const TALK_POINT_MAX = 200;
/** `talk:history` requests a page may make: a few when it opens, not a poll. */
export const TALK_HISTORY_RATE = { perSecond: 1, burst: 5, disconnectAfter: 100 };
/** A point may send this many messages per window (`rate_limited` beyond). */
export const TALK_POINT_RATE = { messages: 5, windowMs: 10_000 };
