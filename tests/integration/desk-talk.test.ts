// Talking to a point with real components: the orchestrator, Redis, socket.io clients of
// `/point` (join tokens), `/monitor` (a technician's and an admin's login) and `/host`.
// Messages both ways, to one point, a district and all; history kept across a new socket;
// the unread count; every bad input refused with its code; the floor's controls refused
// to a technician and without a floor.
import { io as connect, type Socket } from 'socket.io-client';
import { TALK_POINT_RATE, TALK_TEXT_MAX, type TalkMessage } from '../../server/contract/desk';
import { TalkStore } from '../../server/domain/talk/store';
import { loginCookie, monitorSocket } from '../helpers/attendance';
import { ADMIN_ENV, connectSocket, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

type Res<T = unknown> = {
  ok: boolean;
  data?: T;
  error?: { code: string; reason?: string; issues?: { issue: string }[] };
};
const ask = <T = unknown>(s: Socket, event: string, payload: unknown = {}): Promise<Res<T>> =>
  s.timeout(5000).emitWithAck(event, payload);
async function ok<T = unknown>(s: Socket, event: string, payload: unknown = {}): Promise<T> {
  const res = await ask<T>(s, event, payload);
  if (!res.ok) throw new Error(`${event} failed: ${JSON.stringify(res.error)}`);
  return res.data!;
}
/** Every `talk` push a socket receives. */
function inbox(s: Socket): TalkMessage[] {
  const got: TalkMessage[] = [];
  s.on('talk', (m: TalkMessage) => got.push(m));
  return got;
}
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!cond()) throw new Error(`never: ${what}`);
}

jest.setTimeout(60_000);

describe('talking to a point (real server, Redis and sockets)', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  let other: PreparedBriefing;
  /** Two communes of one district, and a point of another district. */
  let near1: string, near2: string, far: string, district: string, stranger: string;
  const sockets: Socket[] = [];
  // Each on its own connection: a point's newer page disconnects the older one's.
  const point = async (id: string, of = b) => {
    const s = connect(`${o.baseUrl}/point`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token: of.links.find((l) => l.pointId === id)!.token },
    });
    sockets.push(s);
    await new Promise<void>((resolve, reject) => s.once('connect', () => resolve()).once('connect_error', reject));
    return s;
  };
  let tech: Socket;
  let admin: Socket;
  let host: Socket;

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, ADMIN_ENV);
    const all = await o.orchestrator.control.points.all();
    const communes = all.filter((p) => p.level === 'commune' && p.district);
    const first = communes[0]!;
    district = first.district!;
    const sameDistrict = communes.filter((p) => p.district === district);
    near1 = sameDistrict[0]!.id;
    near2 = sameDistrict[1]!.id;
    far = communes.find((p) => p.district !== district)!.id;
    stranger = communes.find((p) => p.district !== district && p.id !== far)!.id;
    b = await prepareBriefing(o.baseUrl, [near1, near2, far]);
    other = await prepareBriefing(o.baseUrl, [stranger]);
    // Its own connection: a shared one would carry the first socket's cookie.
    tech = await monitorSocket(o, await loginCookie(o, 'technician'));
    admin = await connectSocket(o.baseUrl, '/monitor', { cookie: b.cookie });
    host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    sockets.push(tech, admin, host);
    await ok(tech, 'monitor:watch', { sessionId: b.sessionId });
    await ok(admin, 'monitor:watch', { sessionId: b.sessionId });
    await ok(host, 'host:attach', { sessionId: b.sessionId });
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await o?.stop();
    await r?.cleanup();
  });

  test('a point writes to the desk: monitors and the console see it, unread until read', async () => {
    const p = await point(near1);
    const monitorGot = inbox(tech);
    const hostGot = inbox(host);
    const read: unknown[] = [];
    admin.on('talk:read', (e) => read.push(e));
    const m = await ok<TalkMessage>(p, 'talk:send', { text: '  Mất tiếng từ phút 12, đang kiểm tra loa  ' });
    expect(m).toMatchObject({
      from: 'point',
      pointId: near1,
      to: null,
      text: 'Mất tiếng từ phút 12, đang kiểm tra loa',
    });
    await until(() => monitorGot.length === 1 && hostGot.length === 1, 'the desk heard the point');
    expect(monitorGot[0]).toEqual(m);
    expect(await ok(tech, 'talk:unread', { sessionId: b.sessionId })).toEqual({ [near1]: 1 });

    // Opening the point's conversation reads it, for every desk.
    const h = await ok<{ messages: TalkMessage[] }>(tech, 'talk:history', { sessionId: b.sessionId, pointId: near1 });
    expect(h.messages.map((x) => x.id)).toEqual([m.id]);
    await until(() => read.length === 1, 'the other monitor told it was read');
    expect(await ok(admin, 'talk:unread', { sessionId: b.sessionId })).toEqual({});
  });

  test('the desk answers one point, a district, all; each page gets what is its own, kept across a reload', async () => {
    const [p1, p2, p3] = [await point(near1), await point(near2), await point(far)];
    const [g1, g2, g3] = [inbox(p1), inbox(p2), inbox(p3)];
    const one = await ok<TalkMessage>(tech, 'talk:send', {
      sessionId: b.sessionId,
      to: { kind: 'point', pointId: near1 },
      text: 'Bàn kỹ thuật đã nhận, kiểm tra cáp âm thanh',
    });
    const dist = await ok<TalkMessage>(host, 'talk:send', {
      to: { kind: 'district', district },
      text: 'Các xã của huyện chuẩn bị báo cáo số đại biểu',
    });
    const all = await ok<TalkMessage>(admin, 'talk:send', {
      sessionId: b.sessionId,
      to: { kind: 'all' },
      text: 'Hội nghị bắt đầu sau 5 phút',
    });
    await until(() => g1.length === 3 && g2.length === 2 && g3.length === 1, 'every page got its own');
    expect(g1.map((m) => m.id)).toEqual([one.id, dist.id, all.id]);
    expect(g2.map((m) => m.id)).toEqual([dist.id, all.id]);
    expect(g3.map((m) => m.id)).toEqual([all.id]);
    expect(one.by).toMatch(/^technician-/);

    // A new socket (a reload) reads its conversation back: its own message first.
    p1.close();
    const again = await point(near1);
    const h = await ok<{ messages: TalkMessage[] }>(again, 'talk:history');
    expect(h.messages.map((m) => m.from)).toEqual(['point', 'desk', 'desk', 'desk']);
    expect(h.messages.slice(1).map((m) => m.id)).toEqual([one.id, dist.id, all.id]);
    // The console reads the session's latest messages, every point's.
    const recent = await ok<{ messages: TalkMessage[] }>(host, 'talk:history', {});
    expect(recent.messages.slice(-3).map((m) => m.id)).toEqual([one.id, dist.id, all.id]);
    expect(recent.messages.some((m) => m.from === 'point')).toBe(true);
    const farHistory = await ok<{ messages: TalkMessage[] }>(p3, 'talk:history');
    expect(farHistory.messages.map((m) => m.id)).toEqual([all.id]);
    // The other session's point heard nothing of it.
    const s = await point(stranger, other);
    expect((await ok<{ messages: TalkMessage[] }>(s, 'talk:history')).messages).toEqual([]);
  });

  test('bad inputs are refused with their code and nothing is stored', async () => {
    const p = await point(far);
    const before = (await ok<{ messages: TalkMessage[] }>(p, 'talk:history')).messages.length;
    const tooLong = await ask(p, 'talk:send', { text: 'x'.repeat(TALK_TEXT_MAX + 1) });
    expect(tooLong.error).toMatchObject({ code: 'bad_request', issues: [{ issue: 'too_big' }] });
    expect((await ask(p, 'talk:send', { text: '   ' })).error?.code).toBe('bad_request');
    expect((await ask(p, 'talk:send', { text: 'hi', pointId: near1 })).error?.code).toBe('bad_request');
    const send = (to: unknown, sessionId = b.sessionId) => ask(tech, 'talk:send', { sessionId, to, text: 'xin chào' });
    expect((await send({ kind: 'province' })).error?.code).toBe('bad_request');
    expect((await send({ kind: 'point' })).error?.code).toBe('bad_request');
    // Another session's point, a district with no invited point, a session not watched.
    expect((await send({ kind: 'point', pointId: stranger })).error?.code).toBe('not_found');
    expect((await send({ kind: 'district', district: 'HT-NOWHERE' })).error?.code).toBe('not_found');
    expect((await send({ kind: 'all' }, other.sessionId)).error?.code).toBe('bad_request');
    const theirs = await ask(tech, 'talk:history', { sessionId: b.sessionId, pointId: stranger });
    expect(theirs.error?.code).toBe('not_found');
    expect((await ask(host, 'talk:history', { pointId: stranger })).error?.code).toBe('not_found');
    expect((await ok<{ messages: TalkMessage[] }>(p, 'talk:history')).messages).toHaveLength(before);
  });

  test('a point flooding the desk is held to its window', async () => {
    const p = await point(near2);
    const codes: string[] = [];
    for (let i = 0; i < TALK_POINT_RATE.messages + 2; i++) {
      const res = await ask(p, 'talk:send', { text: `tin ${i}` });
      codes.push(res.ok ? 'ok' : res.error!.code);
    }
    expect(codes).toEqual([...Array<string>(TALK_POINT_RATE.messages).fill('ok'), 'rate_limited', 'rate_limited']);
    // Reconnecting does not reset it: the window is the point's, kept in Redis.
    p.close();
    const again = await point(near2);
    expect((await ask(again, 'talk:send', { text: 'lại' })).error?.code).toBe('rate_limited');
  });

  test('a full session refuses new messages and keeps the old ones', async () => {
    const store = new TalkStore(o.orchestrator.redis, {
      sessionMax: 3,
      deskReserve: 0,
      pointMax: 100,
      pointRate: { messages: 100, windowMs: 1000 },
    });
    const m = {
      sessionId: 'full-session',
      from: 'desk' as const,
      pointId: null,
      by: 'admin',
      to: { kind: 'all' as const },
    };
    for (let i = 0; i < 3; i++) await store.add({ ...m, text: `tin ${i}` });
    await expect(store.add({ ...m, text: 'thêm' })).rejects.toMatchObject({
      code: 'limit_exceeded',
      reason: 'talk_full',
      params: { max: 3 },
    });
    expect((await store.all('full-session')).map((x) => x.text)).toEqual(['tin 0', 'tin 1', 'tin 2']);
  });

  test('each point has its share of the session, and the desk has room past a full one', async () => {
    const store = new TalkStore(o.orchestrator.redis, {
      sessionMax: 3,
      deskReserve: 2,
      pointMax: 2,
      pointRate: { messages: 100, windowMs: 1000 },
    });
    const s = 'shared-session';
    const from = (pointId: string, text: string) =>
      store.add({ sessionId: s, from: 'point', pointId, by: pointId, to: null, text });
    const desk = (text: string) =>
      store.add({ sessionId: s, from: 'desk', pointId: null, by: 'admin', to: { kind: 'all' }, text });
    await from('P1', 'một');
    await from('P1', 'hai');
    await expect(from('P1', 'ba')).rejects.toMatchObject({
      code: 'limit_exceeded',
      reason: 'talk_point_full',
      params: { max: 2 },
    });
    // Another point still has its share, until the session is full.
    await from('P2', 'bốn');
    await expect(from('P3', 'năm')).rejects.toMatchObject({ code: 'limit_exceeded', reason: 'talk_full' });
    // The desk still reaches everyone, within its reserve.
    await desk('cả tỉnh 1');
    await desk('cả tỉnh 2');
    await expect(desk('cả tỉnh 3')).rejects.toMatchObject({ code: 'limit_exceeded', reason: 'talk_full' });
    expect((await store.conversation(s, 'P1', null)).map((m) => m.text)).toEqual([
      'một',
      'hai',
      'cả tỉnh 1',
      'cả tỉnh 2',
    ]);
    expect((await store.recent(s, 2)).map((m) => m.text)).toEqual(['cả tỉnh 1', 'cả tỉnh 2']);
  });

  test("a page's history requests are held to a tighter limit than its other requests", async () => {
    const p = await point(far);
    const codes = await Promise.all(
      Array.from({ length: 12 }, () => ask(p, 'talk:history').then((x) => (x.ok ? 'ok' : x.error!.code))),
    );
    expect(codes.filter((c) => c === 'ok').length).toBeGreaterThan(0);
    expect(codes.filter((c) => c === 'rate_limited').length).toBeGreaterThan(0);
    expect(codes.every((c) => c === 'ok' || c === 'rate_limited')).toBe(true);
  });

  test('the floor from the monitor: hosts and admins only, and only with a floor to act on', async () => {
    const state = await ok<{ mayControl: boolean; floor: unknown }>(tech, 'floor:state', { sessionId: b.sessionId });
    expect(state).toMatchObject({ mayControl: false, floor: null });
    expect((await ask(tech, 'floor:grant', { sessionId: b.sessionId, pointId: near1 })).error?.code).toBe('forbidden');
    expect((await ask(tech, 'floor:revoke', { sessionId: b.sessionId })).error?.code).toBe('forbidden');
    expect((await ok<{ mayControl: boolean }>(admin, 'floor:state', { sessionId: b.sessionId })).mayControl).toBe(true);
    // The lobby: nobody speaks yet.
    expect((await ask(admin, 'floor:grant', { sessionId: b.sessionId, pointId: near1 })).error?.code).toBe('not_open');
    expect((await ask(admin, 'floor:grant', { sessionId: b.sessionId, pointId: stranger })).error?.code).toBe(
      'not_found',
    );
    const mute = await ask(admin, 'floor:mute', { sessionId: b.sessionId, muted: true });
    expect(mute.error).toMatchObject({ code: 'conflict', reason: 'no_floor' });
    const hostMute = await ask(host, 'floor:mute', { muted: true });
    expect(hostMute.error).toMatchObject({ code: 'conflict', reason: 'no_floor' });
    expect((await ask(host, 'floor:mute', { muted: 'yes' })).error?.code).toBe('bad_request');
  });
});
