// Delegates' check-ins of one session in Redis: each delegate once, each phone (device)
// one delegate, each point at most its cap, and check-ins the desk voided kept with who,
// when and why but no longer counted. Every write is one Lua script.
//
// Keys (s = session id; the count and event keys are the attendance ledger's):
//   att:<s>:checkins        hash    delegate key → check-in JSON; a voided one moves to `v:<id>`
//   att:<s>:checkinIds      hash    check-in id → its key in att:<s>:checkins
//   att:<s>:checkinCount    hash    p → delegates checked in (voided ones not counted)
//   att:<s>:devices         hash    phone's device id → the key of the delegate it checked in
//   att:<s>:qr:<p>:<minute> string  QR codes asked for by the point in that minute (expires)
import type { Redis } from 'ioredis';
import type { CheckinEntry } from '../../contract/attendance';
import { ATT_KEYS } from './ledger';

const EVENTS_MAXLEN = 2000;

export const CHECKIN_KEYS = {
  ids: (s: string) => `att:${s}:checkinIds`,
  qr: (s: string, p: string, minute: number) => `att:${s}:qr:${p}:${minute}`,
} as const;

/** What is stored per check-in: the entry the desk sees, and the phone that made it. */
export interface StoredCheckin extends CheckinEntry {
  device: string;
}

export type CheckinOutcome =
  | { kind: 'new' | 'already'; record: StoredCheckin }
  /** The point is at its cap. */
  | { kind: 'full' }
  /** This phone already checked in another delegate (or its check-in was voided). */
  | { kind: 'device-used'; record: StoredCheckin };

// KEYS: checkins, counts, devices, events, ids
// ARGV: delegate key, JSON, point, device, now ms, maxlen, event detail, cap (0: none), id
// Returns {0 new | 1 already | 2 full | 3 device used, stored JSON}.
const CHECKIN = `
local byDev = redis.call('HGET', KEYS[3], ARGV[4])
if byDev then
  local rec = redis.call('HGET', KEYS[1], byDev)
  if rec then
    if byDev == ARGV[1] then return {1, rec} end
    return {3, rec}
  end
end
local existing = redis.call('HGET', KEYS[1], ARGV[1])
if existing then
  redis.call('HSET', KEYS[3], ARGV[4], ARGV[1])
  return {1, existing}
end
local cap = tonumber(ARGV[8])
if cap > 0 and tonumber(redis.call('HGET', KEYS[2], ARGV[3]) or '0') >= cap then return {2, ''} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[9], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[1])
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[6], '*', 'type', 'checkin', 'at', ARGV[5], 'detail', ARGV[7])
return {0, ARGV[2]}
`;

// KEYS: checkins, counts, devices, events, ids
// ARGV: id, point, voided JSON {by, at, reason}, now ms, maxlen, event detail
// Returns {0 unknown | 1 voided now | 2 was already, stored JSON}.
const VOID = `
local key = redis.call('HGET', KEYS[5], ARGV[1])
if not key then return {0, ''} end
local json = redis.call('HGET', KEYS[1], key)
if not json then return {0, ''} end
local rec = cjson.decode(json)
if rec['pointId'] ~= ARGV[2] then return {0, ''} end
if type(rec['voided']) == 'table' then return {2, json} end
rec['voided'] = cjson.decode(ARGV[3])
local out = cjson.encode(rec)
local vkey = 'v:' .. ARGV[1]
redis.call('HDEL', KEYS[1], key)
redis.call('HSET', KEYS[1], vkey, out)
redis.call('HSET', KEYS[5], ARGV[1], vkey)
redis.call('HSET', KEYS[3], rec['device'], vkey)
redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', 'type', 'checkin', 'at', ARGV[4], 'detail', ARGV[6])
return {1, out}
`;

const keysOf = (s: string, p: string) =>
  [
    ATT_KEYS.checkins(s),
    ATT_KEYS.checkinCount(s),
    ATT_KEYS.devices(s),
    ATT_KEYS.events(s, p),
    CHECKIN_KEYS.ids(s),
  ] as const;

export class CheckinLedger {
  constructor(private readonly redis: Redis) {}

  /**
   * Records a delegate once per session (by the delegate's key) and a phone once (by its
   * device id); refuses a new delegate once the point holds `cap` (0: no cap).
   */
  async checkin(s: string, delegateKey: string, rec: StoredCheckin, cap: number): Promise<CheckinOutcome> {
    const [code, json] = (await this.redis.eval(
      CHECKIN,
      5,
      ...keysOf(s, rec.pointId),
      delegateKey,
      JSON.stringify(rec),
      rec.pointId,
      rec.device,
      String(Date.parse(rec.at)),
      String(EVENTS_MAXLEN),
      rec.name.slice(0, 120),
      String(cap),
      rec.id,
    )) as [number, string];
    if (code === 2) return { kind: 'full' };
    const record = JSON.parse(json) as StoredCheckin;
    return { kind: code === 0 ? 'new' : code === 1 ? 'already' : 'device-used', record };
  }

  /** Voids a check-in of the point: kept, marked, no longer counted. Undefined when unknown. */
  async void(
    s: string,
    p: string,
    id: string,
    voided: NonNullable<CheckinEntry['voided']>,
  ): Promise<{ record: StoredCheckin; now: boolean } | undefined> {
    const detail = `voided by ${voided.by}: ${voided.reason}`.slice(0, 300);
    const [code, json] = (await this.redis.eval(
      VOID,
      5,
      ...keysOf(s, p),
      id,
      p,
      JSON.stringify(voided),
      String(Date.parse(voided.at)),
      String(EVENTS_MAXLEN),
      detail,
    )) as [number, string];
    if (code === 0) return undefined;
    return { record: JSON.parse(json) as StoredCheckin, now: code === 1 };
  }

  /** Every check-in of the session (voided ones included), newest first; of one point if given. */
  async list(s: string, p?: string): Promise<CheckinEntry[]> {
    const all = Object.values(await this.redis.hgetall(ATT_KEYS.checkins(s))).map(
      (j) => JSON.parse(j) as StoredCheckin,
    );
    return all
      .filter((r) => p === undefined || r.pointId === p)
      .sort((a, b) => b.at.localeCompare(a.at))
      .map(entryOf);
  }

  /** The check-in this phone made in the session, if any (voided included). */
  async ofDevice(s: string, device: string): Promise<CheckinEntry | undefined> {
    const key = await this.redis.hget(ATT_KEYS.devices(s), device);
    const json = key ? await this.redis.hget(ATT_KEYS.checkins(s), key) : null;
    return json ? entryOf(JSON.parse(json) as StoredCheckin) : undefined;
  }

  /** Counts a QR code asked for by the point in this minute; answers the count. */
  async countQr(s: string, p: string, now: number): Promise<number> {
    const key = CHECKIN_KEYS.qr(s, p, Math.floor(now / 60_000));
    const [[, n]] = (await this.redis.multi().incr(key).expire(key, 120).exec()) as [[unknown, number]];
    return n;
  }
}

/** The entry without the phone's device id (the desk and the phone see this). */
export function entryOf(r: StoredCheckin): CheckinEntry {
  return {
    id: r.id,
    pointId: r.pointId,
    name: r.name,
    position: r.position,
    rosterId: r.rosterId ?? null,
    at: r.at,
    voided: r.voided ?? null,
  };
}
