// Attendance of one session, per point, in Redis: presence (first join, every leave and
// return, connected time, disconnects), the reported headcount, delegates' check-ins, the
// pre-flight result and a bounded log of connection events. Every write is one Lua script
// or MULTI, so it is all-or-nothing, and a caller acknowledges only after it resolved.
//
// Presence counts points, not sockets: a point is present while it has at least one
// socket (a refreshed page or a second tab is the same point). Sockets are kept in a
// sorted set scored by when they were last seen, so a process that died without saying
// goodbye leaves entries that a sweep removes.
//
// Keys (s = session id, p = point id):
//   att:<s>:p:<p>           hash    firstJoin, lastJoin, lastLeave, since (ms; '' while away),
//                                   connectedMs (closed intervals), disconnects
//   att:<s>:sockets:<p>     zset    socket id → last seen (ms)
//   att:<s>:present         set     points with a socket now (for sweeps and totals)
//   att:<s>:events:<p>      stream  type, at, detail (MAXLEN ~ 2000)
//   att:<s>:headcount       hash    p → Headcount JSON
//   att:<s>:checkins        hash    delegate key → check-in JSON (written by checkin-ledger.ts)
//   att:<s>:checkinCount    hash    p → delegates checked in (written by checkin-ledger.ts)
//   att:<s>:devices         hash    phone's device id → delegate key (checkin-ledger.ts)
//   att:<s>:preflight       hash    p → pre-flight summary JSON
//   att:<s>:closed          string  set when the session's presence was closed at its end
import type { Redis } from 'ioredis';
import { HealthStatusSchema, type ConnectionEvent, type Headcount } from '../../contract/attendance';
import { ToneAnswerSchema, type ToneAnswer } from '../../contract/broadcast';

/** A point's latest pre-flight: its verdict and its answer to "did you hear the tone?". */
export interface PreflightVerdict {
  result: 'pass' | 'warn' | 'fail';
  tone: ToneAnswer | null;
}

export const ATT_KEYS = {
  point: (s: string, p: string) => `att:${s}:p:${p}`,
  sockets: (s: string, p: string) => `att:${s}:sockets:${p}`,
  present: (s: string) => `att:${s}:present`,
  events: (s: string, p: string) => `att:${s}:events:${p}`,
  headcount: (s: string) => `att:${s}:headcount`,
  checkins: (s: string) => `att:${s}:checkins`,
  checkinCount: (s: string) => `att:${s}:checkinCount`,
  devices: (s: string) => `att:${s}:devices`,
  preflight: (s: string) => `att:${s}:preflight`,
  closed: (s: string) => `att:${s}:closed`,
} as const;

const EVENTS_MAXLEN = 2000;

// KEYS: point, sockets, present, events; ARGV: socket, now, maxlen, point id.
// Returns 1 when the point became present (first join or a return).
const JOIN = `
local had = redis.call('ZCARD', KEYS[2])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
if had > 0 then return 0 end
local first = redis.call('HSETNX', KEYS[1], 'firstJoin', ARGV[2])
redis.call('HSET', KEYS[1], 'lastJoin', ARGV[2], 'since', ARGV[2])
redis.call('SADD', KEYS[3], ARGV[4])
local detail = 'return'
if first == 1 then detail = 'first' end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', 'type', 'join', 'at', ARGV[2], 'detail', detail)
return 1
`;

// KEYS: point, sockets, present, events; ARGV: socket, now, maxlen, point id, reason,
// count ('1' counts a disconnect). Returns 1 when the point left (its last socket went).
const LEAVE = `
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
if redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
local since = redis.call('HGET', KEYS[1], 'since')
if since and since ~= '' then
  local d = tonumber(ARGV[2]) - tonumber(since)
  if d > 0 then redis.call('HINCRBY', KEYS[1], 'connectedMs', d) end
end
redis.call('HSET', KEYS[1], 'lastLeave', ARGV[2], 'since', '')
if ARGV[6] == '1' then redis.call('HINCRBY', KEYS[1], 'disconnects', 1) end
redis.call('SREM', KEYS[3], ARGV[4])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[3], '*', 'type', 'leave', 'at', ARGV[2], 'detail', ARGV[5])
return 1
`;

// KEYS: headcount, events; ARGV: point, count, at (ISO), by, maxlen.
const HEADCOUNT = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
local n = 1
local prev = ''
if old then
  local o = cjson.decode(old)
  n = o['reports'] + 1
  prev = ' (was ' .. o['count'] .. ')'
end
local v = cjson.encode({count = tonumber(ARGV[2]), at = ARGV[3], by = ARGV[4], reports = n})
redis.call('HSET', KEYS[1], ARGV[1], v)
local params = {count = tonumber(ARGV[2]), by = ARGV[4]}
if old then params['was'] = cjson.decode(old)['count'] end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*', 'type', 'headcount', 'at', ARGV[6], 'detail', ARGV[2] .. prev .. ' by ' .. ARGV[4],
  'code', 'reported', 'params', cjson.encode(params))
return v
`;

export interface Presence {
  firstJoin: number | null;
  lastJoin: number | null;
  lastLeave: number | null;
  /** Start of the current connection, null while away. */
  since: number | null;
  connectedMs: number;
  disconnects: number;
}

const num = (v: string | undefined): number | null => (v === undefined || v === '' ? null : Number(v));

function parsePresence(h: Record<string, string>): Presence {
  return {
    firstJoin: num(h.firstJoin),
    lastJoin: num(h.lastJoin),
    lastLeave: num(h.lastLeave),
    since: num(h.since),
    connectedMs: Number(h.connectedMs ?? 0),
    disconnects: Number(h.disconnects ?? 0),
  };
}

/** Connected time up to `now`, the open interval included. */
export function connectedMs(p: Presence, now: number): number {
  return p.connectedMs + (p.since !== null ? Math.max(0, now - p.since) : 0);
}

/** The four keys the JOIN and LEAVE scripts touch, in their KEYS order. */
const presenceKeys = (s: string, p: string) =>
  [ATT_KEYS.point(s, p), ATT_KEYS.sockets(s, p), ATT_KEYS.present(s), ATT_KEYS.events(s, p)] as const;

export class AttendanceLedger {
  constructor(private readonly redis: Redis) {}

  /** A socket of the point connected. True when the point became present. */
  async join(s: string, p: string, socketId: string, at: number): Promise<boolean> {
    const r = await this.redis.eval(JOIN, 4, ...presenceKeys(s, p), socketId, String(at), String(EVENTS_MAXLEN), p);
    return r === 1;
  }

  /**
   * A socket of the point went. True when it was the point's last one: the point left.
   * `countAsDisconnect` is false for the close at the session's end.
   */
  async leave(s: string, p: string, socketId: string, at: number, reason: string, countAsDisconnect = true) {
    const r = await this.redis.eval(
      LEAVE,
      4,
      ...presenceKeys(s, p),
      socketId,
      String(at),
      String(EVENTS_MAXLEN),
      p,
      reason.slice(0, 100),
      countAsDisconnect ? '1' : '0',
    );
    return r === 1;
  }

  async hasSocket(s: string, p: string, socketId: string): Promise<boolean> {
    return (await this.redis.zscore(ATT_KEYS.sockets(s, p), socketId)) !== null;
  }

  /** Marks sockets as still alive (one round trip for many). */
  async touch(s: string, entries: { pointId: string; socketId: string }[], at: number): Promise<void> {
    if (entries.length === 0) return;
    const pipe = this.redis.pipeline();
    for (const e of entries) pipe.zadd(ATT_KEYS.sockets(s, e.pointId), 'XX', String(at), e.socketId);
    await pipe.exec();
  }

  /**
   * Removes sockets not seen since `olderThan` (their process died) and closes the
   * presence of points left without any. Returns the points that left.
   */
  async sweep(s: string, olderThan: number, at: number): Promise<string[]> {
    const present = await this.redis.smembers(ATT_KEYS.present(s));
    const left: string[] = [];
    for (const p of present) {
      const stale = await this.redis.zrangebyscore(ATT_KEYS.sockets(s, p), '-inf', `(${olderThan}`);
      for (const id of stale) {
        if (await this.leave(s, p, id, at, 'no sign of life')) left.push(p);
      }
    }
    return left;
  }

  /**
   * Removes the sockets `gone(socketId)` names (their node left the cluster, see
   * server/cluster/health-sharing.ts) and closes the presence of points left without any.
   * One read for every present point. Returns the points that left.
   */
  async sweepWhere(s: string, gone: (socketId: string) => boolean, at: number, reason: string): Promise<string[]> {
    const present = await this.redis.smembers(ATT_KEYS.present(s));
    if (present.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const p of present) pipe.zrange(ATT_KEYS.sockets(s, p), '0', '-1');
    const res = (await pipe.exec()) ?? [];
    const left: string[] = [];
    for (const [i, p] of present.entries()) {
      const [err, ids] = res[i] ?? [];
      if (err) throw err;
      for (const id of (ids as string[] | undefined) ?? []) {
        if (gone(id) && (await this.leave(s, p, id, at, reason))) left.push(p);
      }
    }
    return left;
  }

  /** At the session's end: closes every open interval (not counted as a disconnect). */
  async closeAll(s: string, at: number): Promise<boolean> {
    const first = await this.redis.set(ATT_KEYS.closed(s), String(at), 'NX');
    const present = await this.redis.smembers(ATT_KEYS.present(s));
    for (const p of present) {
      for (const id of await this.redis.zrange(ATT_KEYS.sockets(s, p), '0', '-1')) {
        await this.leave(s, p, id, at, 'session ended', false);
      }
    }
    return first === 'OK';
  }

  async isClosed(s: string): Promise<boolean> {
    return (await this.redis.exists(ATT_KEYS.closed(s))) === 1;
  }

  async presence(s: string, p: string): Promise<Presence> {
    return parsePresence(await this.redis.hgetall(ATT_KEYS.point(s, p)));
  }

  /** Presence of many points in one round trip. */
  async presenceMany(s: string, points: string[]): Promise<Map<string, Presence>> {
    const pipe = this.redis.pipeline();
    for (const p of points) pipe.hgetall(ATT_KEYS.point(s, p));
    const res = (await pipe.exec()) ?? [];
    const out = new Map<string, Presence>();
    points.forEach((p, i) => {
      const [err, h] = res[i] ?? [];
      if (err) throw err;
      out.set(p, parsePresence((h as Record<string, string>) ?? {}));
    });
    return out;
  }

  async presentPoints(s: string): Promise<Set<string>> {
    return new Set(await this.redis.smembers(ATT_KEYS.present(s)));
  }

  async reportHeadcount(s: string, p: string, count: number, by: string, at: Date): Promise<Headcount> {
    const json = (await this.redis.eval(
      HEADCOUNT,
      2,
      ATT_KEYS.headcount(s),
      ATT_KEYS.events(s, p),
      p,
      String(count),
      at.toISOString(),
      by,
      String(EVENTS_MAXLEN),
      String(at.getTime()),
    )) as string;
    return JSON.parse(json) as Headcount;
  }

  async headcounts(s: string): Promise<Map<string, Headcount>> {
    const all = await this.redis.hgetall(ATT_KEYS.headcount(s));
    return new Map(Object.entries(all).map(([p, j]) => [p, JSON.parse(j) as Headcount]));
  }

  async headcount(s: string, p: string): Promise<Headcount | null> {
    const j = await this.redis.hget(ATT_KEYS.headcount(s), p);
    return j ? (JSON.parse(j) as Headcount) : null;
  }

  async checkinCounts(s: string): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(ATT_KEYS.checkinCount(s));
    return new Map(Object.entries(all).map(([p, n]) => [p, Number(n)]));
  }

  async checkinCount(s: string, p: string): Promise<number> {
    return Number((await this.redis.hget(ATT_KEYS.checkinCount(s), p)) ?? 0);
  }

  /** One event of a point; a `status` event also carries its change (`status`), kept as fields of its own. */
  async event(
    s: string,
    p: string,
    type: ConnectionEvent['type'],
    detail: string,
    at: number,
    what: Pick<ConnectionEvent, 'code' | 'params' | 'status'> = {},
  ): Promise<void> {
    const { status } = what;
    const coded = [
      ...(what.code ? ['code', what.code] : []),
      ...(what.params ? ['params', JSON.stringify(what.params)] : []),
    ];
    await this.redis.xadd(
      ATT_KEYS.events(s, p),
      'MAXLEN',
      '~',
      String(EVENTS_MAXLEN),
      '*',
      'type',
      type,
      'at',
      String(at),
      'detail',
      detail.slice(0, 300),
      ...(status ? ['from', status.from, 'to', status.to] : []),
      ...coded,
    );
  }

  /** The newest `count` events, oldest first. */
  async events(s: string, p: string, count = 200): Promise<ConnectionEvent[]> {
    const raw = await this.redis.xrevrange(ATT_KEYS.events(s, p), '+', '-', 'COUNT', count);
    return raw.reverse().map(([, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      const from = HealthStatusSchema.safeParse(f.from);
      const to = HealthStatusSchema.safeParse(f.to);
      return {
        at: new Date(Number(f.at)).toISOString(),
        type: f.type as ConnectionEvent['type'],
        detail: f.detail ?? '',
        ...(from.success && to.success ? { status: { from: from.data, to: to.data } } : {}),
        ...(f.code ? { code: f.code } : {}),
        ...(f.params ? { params: parseParams(f.params) } : {}),
      };
    });
  }

  /** Every point's latest pre-flight verdict and tone answer, in two reads. */
  async preflightVerdicts(s: string): Promise<Map<string, PreflightVerdict>> {
    const [mine, broadcast] = await Promise.all([
      this.redis.hgetall(ATT_KEYS.preflight(s)),
      this.redis.hgetall(`preflight:${s}`),
    ]);
    const out = new Map<string, PreflightVerdict>();
    for (const [p, j] of Object.entries({ ...broadcast, ...mine })) {
      const { result, tone } = JSON.parse(j) as { result?: unknown; tone?: unknown };
      if (result === 'pass' || result === 'warn' || result === 'fail')
        out.set(p, { result, tone: ToneAnswerSchema.safeParse(tone).data ?? null });
    }
    return out;
  }

  async setPreflight(s: string, p: string, summary: unknown): Promise<void> {
    await this.redis.hset(ATT_KEYS.preflight(s), p, JSON.stringify(summary));
  }

  /**
   * The point's pre-flight result: recorded here by recordPreflight(), else the one the
   * broadcast's `/point` namespace keeps (`preflight:<s>`, server/realtime/live-state.ts).
   */
  async preflight(
    s: string,
    p: string,
  ): Promise<{
    at: string;
    result: 'pass' | 'warn' | 'fail';
    transport: string;
    rttMs: number | null;
    downlinkKbps: number | null;
    reasons: string[];
    tone: ToneAnswer | null;
  } | null> {
    const j = (await this.redis.hget(ATT_KEYS.preflight(s), p)) ?? (await this.redis.hget(`preflight:${s}`, p));
    if (!j) return null;
    const r = JSON.parse(j) as Record<string, unknown>;
    return {
      at: String(r.at ?? ''),
      result: r.result as 'pass' | 'warn' | 'fail',
      transport: String(r.transport ?? ''),
      rttMs: typeof r.rttMs === 'number' ? r.rttMs : null,
      downlinkKbps: typeof r.downlinkKbps === 'number' ? r.downlinkKbps : null,
      reasons: Array.isArray(r.reasons) ? r.reasons.map(String) : [],
      tone: ToneAnswerSchema.safeParse(r.tone).data ?? null,
    };
  }
}

/** An event's stored parameters; anything but strings and numbers is dropped. */
function parseParams(json: string): Record<string, string | number> | undefined {
  try {
    const raw = JSON.parse(json) as Record<string, unknown>;
    const out: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string' || typeof v === 'number') out[k] = v;
    return out;
  } catch {
    return undefined;
  }
}
