// The room view with a whole server, real Redis and real socket.io clients: a monitor
// watches points, the points watched are asked for snapshots, and each snapshot reaches
// the monitors watching that point only; a point without a camera says so, relayed the
// same way. Bad inputs are refused with their codes.
import { ROOM_VIEW } from '../../server/contract/room-view';
import type { Socket as ClientSocket } from 'socket.io-client';
import { loginCookie } from '../helpers/attendance';
import { connectSocket, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { startBriefingServer, type BriefingServer } from '../helpers/briefing-server';
import type { TestOrchestrator } from '../helpers/orchestrator';

jest.setTimeout(60_000);

const POINTS = ['HT-CX', 'HT-CL', 'HT-DT'];
/** The smallest thing that passes for a JPEG here: SOI, then a marker. */
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0xff, 0xd9]);

type AckRes = { ok: boolean; data?: Record<string, unknown>; error?: { code: string; message: string } };
const ask = (s: ClientSocket, event: string, payload: unknown = {}): Promise<AckRes> =>
  s.timeout(5000).emitWithAck(event, payload);

/** Resolves with the next `event` on `s`, or rejects after `ms`. */
function next<T = unknown>(s: ClientSocket, event: string, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    s.once(event, (p: T) => {
      clearTimeout(timer);
      resolve(p);
    });
  });
}

/** Collects every `event` on `s`. */
function collect<T = unknown>(s: ClientSocket, event: string): T[] {
  const got: T[] = [];
  s.on(event, (p: T) => got.push(p));
  return got;
}

describe('room view (real Redis, socket.io clients)', () => {
  let srv: BriefingServer;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  const point = (pointId: string) => srv.point(pointId, { own: true });
  /** A monitor page watching the briefing, as the page does before showing its rooms. */
  const monitor = async (cookie: string) => {
    const m = await srv.monitor(cookie);
    expect((await ask(m, 'monitor:watch', { sessionId: b.sessionId })).ok).toBe(true);
    return m;
  };

  beforeAll(async () => {
    srv = await startBriefingServer(POINTS);
    ({ o, b } = srv);
  });
  afterEach(() => srv.closeClients());
  afterAll(() => srv?.stop());

  test('a watched point is asked; its snapshot reaches the monitors watching it, no other', async () => {
    const [a, c] = [await point(POINTS[0]!), await point(POINTS[1]!)];
    const tech = await monitor(await loginCookie(o, 'technician'));
    const host = await monitor(await loginCookie(o, 'host'));
    const techFrames = collect<{ pointId: string; jpeg: Buffer; width: number }>(tech, 'roomview:frame');
    const hostFrames = collect<{ pointId: string }>(host, 'roomview:frame');
    const cAsked = collect(c, 'roomview:on');

    const asked = next<{ periodMs: number; forMs: number }>(a, 'roomview:on');
    const res = await ask(tech, 'roomview:watch', { sessionId: b.sessionId, pointIds: [POINTS[0]] });
    expect(res).toEqual({ ok: true, data: { pointIds: [POINTS[0]] } });
    expect(await asked).toEqual({ periodMs: ROOM_VIEW.periodMs, forMs: ROOM_VIEW.leaseMs });
    expect((await ask(host, 'roomview:watch', { sessionId: b.sessionId, pointIds: [POINTS[1]] })).ok).toBe(true);

    const arrived = next<{ sessionId: string; pointId: string; jpeg: Buffer; width: number }>(tech, 'roomview:frame');
    expect(await ask(a, 'roomview:frame', { jpeg: JPEG, width: 320, height: 180 })).toEqual({ ok: true, data: {} });
    const f = await arrived;
    expect(f).toMatchObject({ sessionId: b.sessionId, pointId: POINTS[0], width: 320 });
    expect(Buffer.from(f.jpeg)).toEqual(JPEG);
    // The host's monitor watches the other point: nothing of the first reaches it.
    await new Promise((res) => setTimeout(res, 300));
    expect(hostFrames).toEqual([]);
    expect(techFrames).toHaveLength(1);
    expect(cAsked).toHaveLength(1); // asked by the host's monitor only, once

    // The third point was never asked: its snapshots are refused.
    const d = await point(POINTS[2]!);
    expect((await ask(d, 'roomview:frame', { jpeg: JPEG, width: 320, height: 180 })).error?.code).toBe('forbidden');

    // Watching nothing stops the point, and its next snapshot is refused.
    const stopped = next(a, 'roomview:off');
    await ask(tech, 'roomview:watch', { sessionId: b.sessionId, pointIds: [] });
    await stopped;
    expect((await ask(a, 'roomview:frame', { jpeg: JPEG, width: 320, height: 180 })).error?.code).toBe('forbidden');
  });

  test('two monitors on one point: it stops when the last one leaves; a page back carries on', async () => {
    const a = await point(POINTS[0]!);
    const m1 = await monitor(b.cookie);
    const m2 = await monitor(await loginCookie(o, 'technician'));
    const asked = collect(a, 'roomview:on');
    const offs = collect(a, 'roomview:off');
    await ask(m1, 'roomview:watch', { sessionId: b.sessionId, pointIds: [POINTS[0]] });
    await ask(m2, 'roomview:watch', { sessionId: b.sessionId, pointIds: [POINTS[0], POINTS[1]] });
    await new Promise((res) => setTimeout(res, 300));
    expect(asked).toHaveLength(1);

    // The point's page reloads meanwhile: the new page is told to carry on at once.
    a.close();
    const again = await point(POINTS[0]!);
    const resumed = await next<{ forMs: number }>(again, 'roomview:on', 2000).catch(() => undefined);
    // The lease may be told before the listener is set: then the snapshot is the proof.
    if (resumed) expect(resumed.forMs).toBeGreaterThan(0);
    expect((await ask(again, 'roomview:frame', { jpeg: JPEG, width: 320, height: 180 })).ok).toBe(true);

    const off = collect(again, 'roomview:off');
    m1.close(); // one desk left
    await new Promise((res) => setTimeout(res, 300));
    expect(off).toHaveLength(0);
    m2.close(); // the last one
    await next(again, 'roomview:off');
    expect(offs).toHaveLength(0);
    expect((await ask(again, 'roomview:frame', { jpeg: JPEG, width: 320, height: 180 })).error?.code).toBe('forbidden');
  });

  test('a watch overlapping another, or a disconnect, still lets the point stop', async () => {
    const a = await point(POINTS[0]!);
    const settle = (ms: number) => new Promise((res) => setTimeout(res, ms));
    /** Nobody watches: no renewal asks the point again, and its snapshots are refused. */
    const stopped = async () => {
      await settle(1000);
      const asked = collect(a, 'roomview:on');
      await settle(ROOM_VIEW.renewMs + 1500);
      expect(asked).toEqual([]);
      expect((await ask(a, 'roomview:frame', { jpeg: JPEG, width: 320, height: 180 })).error?.code).toBe('forbidden');
    };
    // Watch, then leave while the watch is still checking: Redis holds every command for a
    // moment, so the disconnect surely lands in the middle.
    const m1 = await monitor(b.cookie);
    await o.orchestrator.redis.call('CLIENT', 'PAUSE', '1000', 'ALL');
    m1.emit('roomview:watch', { sessionId: b.sessionId, pointIds: [POINTS[0]] });
    await settle(300);
    m1.close();
    await stopped();
    // Quick watches, one dropping the point, then a disconnect.
    const m2 = await monitor(await loginCookie(o, 'technician'));
    m2.emit('roomview:watch', { sessionId: b.sessionId, pointIds: [POINTS[0], POINTS[1]] });
    m2.emit('roomview:watch', { sessionId: b.sessionId, pointIds: [POINTS[1]] });
    m2.emit('roomview:watch', { sessionId: b.sessionId, pointIds: [POINTS[0]] });
    await settle(50);
    m2.close();
    await stopped();
  });

  test('a point without a camera says so; the monitors watching it are told, no other', async () => {
    const [a, c] = [await point(POINTS[0]!), await point(POINTS[1]!)];
    // Not asked: nobody is told anything.
    expect((await ask(c, 'roomview:unavailable', { reason: 'no-camera' })).error?.code).toBe('forbidden');
    const tech = await monitor(await loginCookie(o, 'technician'));
    const host = await monitor(await loginCookie(o, 'host'));
    const hostTold = collect(host, 'roomview:unavailable');
    await ask(host, 'roomview:watch', { sessionId: b.sessionId, pointIds: [POINTS[1]] });
    const asked = next(a, 'roomview:on');
    await ask(tech, 'roomview:watch', { sessionId: b.sessionId, pointIds: [POINTS[0]] });
    await asked;
    for (const reason of ['no-camera', 'refused'] as const) {
      const told = next<{ sessionId: string; pointId: string; reason: string; at: string }>(
        tech,
        'roomview:unavailable',
      );
      expect(await ask(a, 'roomview:unavailable', { reason })).toEqual({ ok: true, data: {} });
      expect(await told).toMatchObject({ sessionId: b.sessionId, pointId: POINTS[0], reason });
    }
    await new Promise((res) => setTimeout(res, 300));
    expect(hostTold).toEqual([]);
    const bad = (payload: unknown) => ask(a, 'roomview:unavailable', payload).then((x) => x.error?.code);
    expect(await bad({ reason: 'bored' })).toBe('bad_request');
    expect(await bad({})).toBe('bad_request');
    expect(await bad({ reason: 'no-camera', pointId: POINTS[1] })).toBe('bad_request');
  });

  test('bad inputs are refused with their codes', async () => {
    // A point cannot watch: its join token opens no monitor, and neither does no login.
    await expect(
      connectSocket(o.baseUrl, '/monitor', { token: srv.token(POINTS[0]!), own: true }),
    ).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    await expect(connectSocket(o.baseUrl, '/monitor', { own: true })).rejects.toMatchObject({
      code: 'unauthenticated',
    });

    const m = await monitor(await loginCookie(o, 'technician'));
    const watch = (payload: unknown) => ask(m, 'roomview:watch', payload).then((x) => x.error?.code);
    expect(await watch({ sessionId: b.sessionId, pointIds: ['HT-NOPE'] })).toBe('not_found');
    expect(await watch({ sessionId: 'no-such-session', pointIds: [POINTS[0]] })).toBe('bad_request');
    expect(await watch({ sessionId: b.sessionId, pointIds: Array(ROOM_VIEW.maxWatched + 1).fill(POINTS[0]) })).toBe(
      'bad_request',
    );
    expect(await watch({ sessionId: b.sessionId, pointIds: POINTS, extra: 1 })).toBe('bad_request');
    expect(await watch({ sessionId: b.sessionId })).toBe('bad_request');

    const a = await point(POINTS[0]!);
    await ask(m, 'roomview:watch', { sessionId: b.sessionId, pointIds: [POINTS[0]] });
    const frame = (payload: unknown) => ask(a, 'roomview:frame', payload).then((x) => x.error?.code);
    expect(await frame({ jpeg: Buffer.from('not a picture'), width: 320, height: 180 })).toBe('bad_request');
    expect(await frame({ jpeg: 'aGVsbG8=', width: 320, height: 180 })).toBe('bad_request');
    expect(await frame({ jpeg: JPEG, width: 0, height: 180 })).toBe('bad_request');
    const big = Buffer.concat([JPEG, Buffer.alloc(ROOM_VIEW.maxBytes)]);
    expect(await frame({ jpeg: big, width: 320, height: 180 })).toBe('payload_too_large');
    // A point names no other point: its snapshot is always its own.
    expect(await frame({ jpeg: JPEG, width: 320, height: 180, pointId: POINTS[1] })).toBe('bad_request');
  });

  test('rooms only of the session this monitor watches, and only in its lobby or live', async () => {
    const a = await point(POINTS[0]!);
    const asked = collect(a, 'roomview:on');
    const m = await srv.monitor(await loginCookie(o, 'technician'));
    const watch = (sessionId: string, pointIds = [POINTS[0]]) =>
      ask(m, 'roomview:watch', { sessionId, pointIds }).then((x) => x.error?.code ?? 'ok');
    // Not watched yet: no camera turns on.
    expect(await watch(b.sessionId)).toBe('bad_request');
    // Watching a session still scheduled: its rooms stay dark.
    const later = await prepareBriefing(o.baseUrl, [POINTS[0]!], { startInMinutes: 180 });
    expect((await ask(m, 'monitor:watch', { sessionId: later.sessionId })).ok).toBe(true);
    expect(await watch(later.sessionId)).toBe('not_open');
    // Watching another session does not open this one's rooms; showing none is always allowed.
    expect(await watch(b.sessionId)).toBe('bad_request');
    expect(await watch(b.sessionId, [])).toBe('ok');
    await new Promise((res) => setTimeout(res, 300));
    expect(asked).toEqual([]);
    expect((await ask(m, 'monitor:watch', { sessionId: b.sessionId })).ok).toBe(true);
    expect(await watch(b.sessionId)).toBe('ok');
    await next(a, 'roomview:on');
  });
});
