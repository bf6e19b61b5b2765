// Alerts for the network desk. One open alert per point and kind: a second raise while
// one is open (the operator pressing "mất hình" again, the check job running twice) adds
// to its count instead of a new alert. Technicians acknowledge and assign; quality alerts
// clear themselves when the point recovers.
//
// Keys (s = session id):
//   alerts:<s>        hash   alert id → Alert JSON
//   alerts:<s>:open   hash   `<point>|<kind>` → alert id, while not cleared
//   alerts:<s>:seq    string counter for ids
import type { Redis } from 'ioredis';
import type { Alert, AlertKind, HealthSample, HealthStatus } from '../../contract/attendance';
import { AppError, notFound } from '../../errors';

export const ALERT_KEYS = {
  all: (s: string) => `alerts:${s}`,
  open: (s: string) => `alerts:${s}:open`,
  seq: (s: string) => `alerts:${s}:seq`,
} as const;

// KEYS: all, open, seq; ARGV: dedupe field, JSON template (id filled here), now ISO,
// status, note. Returns the stored JSON and 1 when new.
const RAISE = `
local id = redis.call('HGET', KEYS[2], ARGV[1])
if id then
  local a = cjson.decode(redis.call('HGET', KEYS[1], id))
  a['count'] = a['count'] + 1
  if ARGV[4] ~= '' then a['status'] = ARGV[4] end
  if ARGV[5] ~= '' then a['note'] = ARGV[5] end
  local j = cjson.encode(a)
  redis.call('HSET', KEYS[1], id, j)
  return {j, 0}
end
local n = redis.call('INCR', KEYS[3])
local a = cjson.decode(ARGV[2])
a['id'] = 'A' .. n
local j = cjson.encode(a)
redis.call('HSET', KEYS[1], a['id'], j)
redis.call('HSET', KEYS[2], ARGV[1], a['id'])
return {j, 1}
`;

// KEYS: all, open; ARGV: id, JSON patch, clears ('1' removes it from the open index).
const PATCH = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return false end
local a = cjson.decode(cur)
if a['state'] == 'cleared' then return cur end
for k, v in pairs(cjson.decode(ARGV[2])) do a[k] = v end
local j = cjson.encode(a)
redis.call('HSET', KEYS[1], ARGV[1], j)
if ARGV[3] == '1' then redis.call('HDEL', KEYS[2], a['pointId'] .. '|' .. a['kind']) end
return j
`;

/** cjson writes empty Lua tables as {} and nulls as cjson.null; normalise on the way out. */
function parseAlert(json: string): Alert {
  const a = JSON.parse(json) as Alert & { lastSample: unknown };
  if (a.lastSample && typeof a.lastSample === 'object' && Object.keys(a.lastSample).length === 0) a.lastSample = null;
  return a as Alert;
}

export interface RaiseInput {
  sessionId: string;
  pointId: string;
  pointName: string;
  kind: AlertKind;
  status: HealthStatus | null;
  note: string;
  lastSample: HealthSample | null;
  at: Date;
}

/** Told of each raise and change (the webhooks); must not throw nor wait. */
export type AlertListener = (event: 'alert.raised' | 'alert.updated', alert: Alert) => void;

export class AlertStore {
  constructor(
    private readonly redis: Redis,
    private readonly listener?: AlertListener,
  ) {}

  async raise(i: RaiseInput): Promise<{ alert: Alert; created: boolean }> {
    const template: Omit<Alert, 'id'> & { id: string } = {
      id: '',
      sessionId: i.sessionId,
      pointId: i.pointId,
      pointName: i.pointName,
      kind: i.kind,
      status: i.status,
      state: 'open',
      raisedAt: i.at.toISOString(),
      count: 1,
      note: i.note,
      acknowledgedAt: null,
      acknowledgedBy: null,
      assignee: null,
      clearedAt: null,
      clearedBy: null,
      lastSample: i.lastSample,
    };
    const [json, created] = (await this.redis.eval(
      RAISE,
      3,
      ALERT_KEYS.all(i.sessionId),
      ALERT_KEYS.open(i.sessionId),
      ALERT_KEYS.seq(i.sessionId),
      `${i.pointId}|${i.kind}`,
      JSON.stringify(template),
      i.at.toISOString(),
      i.status ?? '',
      i.note,
    )) as [string, number];
    const alert = parseAlert(json);
    this.listener?.(created === 1 ? 'alert.raised' : 'alert.updated', alert);
    return { alert, created: created === 1 };
  }

  async #patch(s: string, id: string, patch: Partial<Alert>, clears: boolean): Promise<Alert> {
    const json = (await this.redis.eval(
      PATCH,
      2,
      ALERT_KEYS.all(s),
      ALERT_KEYS.open(s),
      id,
      JSON.stringify(patch),
      clears ? '1' : '0',
    )) as string | null;
    if (!json) throw notFound(`alert ${id}`);
    const alert = parseAlert(json);
    this.listener?.('alert.updated', alert);
    return alert;
  }

  async acknowledge(s: string, id: string, by: string, at: Date): Promise<Alert> {
    const cur = await this.get(s, id);
    if (cur?.state === 'cleared') throw new AppError('conflict', 'this alert is already cleared');
    return this.#patch(s, id, { state: 'acknowledged', acknowledgedAt: at.toISOString(), acknowledgedBy: by }, false);
  }

  async assign(s: string, id: string, assignee: string, by: string, at: Date): Promise<Alert> {
    const cur = await this.get(s, id);
    if (cur?.state === 'cleared') throw new AppError('conflict', 'this alert is already cleared');
    // Assigning someone implies the desk has seen it.
    const ack = cur?.acknowledgedAt
      ? {}
      : { state: 'acknowledged' as const, acknowledgedAt: at.toISOString(), acknowledgedBy: by };
    return this.#patch(s, id, { ...ack, assignee }, false);
  }

  async clear(s: string, id: string, by: string, at: Date): Promise<Alert> {
    return this.#patch(s, id, { state: 'cleared', clearedAt: at.toISOString(), clearedBy: by }, true);
  }

  /** Clears the point's open alert of that kind, if any. */
  async clearOpen(s: string, pointId: string, kind: AlertKind, by: string, at: Date): Promise<Alert | null> {
    const id = await this.redis.hget(ALERT_KEYS.open(s), `${pointId}|${kind}`);
    return id ? this.clear(s, id, by, at) : null;
  }

  async get(s: string, id: string): Promise<Alert | null> {
    const j = await this.redis.hget(ALERT_KEYS.all(s), id);
    return j ? parseAlert(j) : null;
  }

  /** Every alert of the session, newest first. */
  async list(s: string): Promise<Alert[]> {
    const all = Object.values(await this.redis.hgetall(ALERT_KEYS.all(s))).map(parseAlert);
    return all.sort((a, b) => Number(b.id.slice(1)) - Number(a.id.slice(1)));
  }
}
