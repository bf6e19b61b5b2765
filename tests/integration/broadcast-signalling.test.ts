// The live broadcast's signalling with real components: a 2-worker SFU, the control
// plane's HTTP API, real socket.io clients for the points and the host. The hall's
// media comes from a plain RTP ingest (no browser here; the e2e tier does WebRTC).
import type { Socket } from 'socket.io-client';
import { ADMIN_ENV, connectSocket, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

const POINTS = ['HT-CX', 'HT-CL', 'HT-DT', 'HT-HK'];

type AckRes = {
  ok: boolean;
  data?: Record<string, unknown> & { id?: string };
  error?: { code: string; message: string };
};
const ask = (s: Socket, event: string, payload: unknown = {}): Promise<AckRes> =>
  s.timeout(5000).emitWithAck(event, payload);
const ok = async (s: Socket, event: string, payload: unknown = {}) => {
  const res = await ask(s, event, payload);
  if (!res.ok) throw new Error(`${event} failed: ${res.error?.code} ${res.error?.message}`);
  return res.data!;
};
function next<T = unknown>(
  s: Socket,
  event: string,
  pred: (p: T) => boolean = () => true,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    const on = (p: T) => {
      if (!pred(p)) return;
      clearTimeout(timer);
      s.off(event, on);
      resolve(p);
    };
    s.on(event, on);
  });
}

describe('broadcast signalling (real SFU, API and socket.io clients)', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  let host: Socket;
  const points = new Map<string, Socket>();
  const token = (pointId: string) => b.links.find((l) => l.pointId === pointId)!.token;

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, { ...ADMIN_ENV, MEDIASOUP_WORKERS: '2' });
    b = await prepareBriefing(o.baseUrl, POINTS);
    host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    await ok(host, 'host:attach', { sessionId: b.sessionId });
  }, 60_000);
  afterAll(async () => {
    host?.close();
    for (const s of points.values()) s.close();
    await o?.stop();
    await r?.cleanup();
  });

  test('handshakes without a valid token or login are refused with a code', async () => {
    await expect(connectSocket(o.baseUrl, '/point', {})).rejects.toMatchObject({ code: 'token_invalid' });
    await expect(connectSocket(o.baseUrl, '/point', { token: 'forged-token-forged-token.abc' })).rejects.toMatchObject({
      code: 'token_invalid',
    });
    const t = token(POINTS[0]!);
    const tampered = t.slice(0, -3) + (t.endsWith('AAA') ? 'BBB' : 'AAA');
    await expect(connectSocket(o.baseUrl, '/point', { token: tampered })).rejects.toMatchObject({
      code: 'token_invalid',
    });
    await expect(connectSocket(o.baseUrl, '/host', {})).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  test('points join the lobby and see the session; the host counts them', async () => {
    for (const id of POINTS) points.set(id, await connectSocket(o.baseUrl, '/point', { token: token(id) }));
    const view = await ok(points.get(POINTS[0]!)!, 'view:get');
    expect(view.state).toBe('lobby');
    expect(view.title).toMatch(/quán triệt/);
    const numbers = await next<{ connected: number; invited: number }>(host, 'numbers', (n) => n.connected === 4);
    expect(numbers.invited).toBe(4);
  });

  test('the hall goes live; points receive its producers and consume them on both workers', async () => {
    const live = await o.orchestrator.realtime.broadcasts.get(b.sessionId);
    const room = await live.requireRoom();
    const announced = next<{ source: string }>(
      points.get(POINTS[0]!)!,
      'rtc:newProducer',
      (p) => p.source === 'host-camera',
    );
    const liveView = next<{ state: string; caption: { title: string } | null }>(
      points.get(POINTS[1]!)!,
      'view',
      (v) => v.state === 'live',
    );
    // No hall yet: refused with a code, the session stays in its lobby.
    const refused = await host.timeout(10_000).emitWithAck('session:goLive', {});
    expect(refused).toMatchObject({ ok: false, error: { code: 'no_hall_media' } });
    expect(
      ((await ok(host, 'host:attach', { sessionId: b.sessionId })) as { view: { state: string } }).view.state,
    ).toBe('lobby');
    await room.createPlainIngest({ video: { ssrc: 1111, payloadType: 101 }, audio: { ssrc: 2222, payloadType: 100 } });
    await announced;
    await ok(host, 'session:goLive');
    expect((await liveView).caption?.title).toMatch(/05-NQ\/TU/);

    for (const id of POINTS) {
      const s = points.get(id)!;
      const { routerRtpCapabilities } = (await ok(s, 'rtc:capabilities')) as {
        routerRtpCapabilities: Record<string, unknown>;
      };
      const t = await ok(s, 'rtc:createTransport', { direction: 'recv', rtpCapabilities: routerRtpCapabilities });
      const { producers } = (await ok(s, 'view:get')) as { producers: { producerId: string; source: string }[] };
      expect(producers.map((p) => p.source).sort()).toEqual(['host-camera', 'host-mic']);
      for (const p of producers) {
        const c = await ok(s, 'rtc:consume', { transportId: t.id, producerId: p.producerId });
        expect(c.source).toBe(p.source);
        await ok(s, 'rtc:resumeConsumer', { consumerId: c.id });
      }
    }
    const stats = room.stats();
    const withTransports = stats.routers.filter((rt) => rt.transports > 0);
    expect(withTransports.length).toBe(2); // placed across both workers
    expect(stats.routers.reduce((n, rt) => n + rt.consumers, 0)).toBe(8);
    const n = await next<{ receivingVideo: number }>(host, 'numbers', (x) => x.receivingVideo === 4);
    expect(n.receivingVideo).toBe(4);
  });

  test('a point cannot produce or open a send transport without the floor', async () => {
    const s = points.get(POINTS[2]!)!;
    const { routerRtpCapabilities } = (await ok(s, 'rtc:capabilities')) as {
      routerRtpCapabilities: Record<string, unknown>;
    };
    const send = await ask(s, 'rtc:createTransport', { direction: 'send', rtpCapabilities: routerRtpCapabilities });
    expect(send.error?.code).toBe('forbidden');
    const produce = await ask(s, 'rtc:produce', {
      transportId: 'x',
      kind: 'video',
      rtpParameters: {},
      source: 'host-camera',
    });
    expect(produce.ok).toBe(false);
  });

  test('agenda, pauses and slides reach every point as the view', async () => {
    const s = points.get(POINTS[3]!)!;
    const captioned = next<{ caption: { title: string; index: number } }>(s, 'view', (v) => v.caption?.index === 2);
    await ok(host, 'agenda:go', { index: 2 });
    expect((await captioned).caption.title).toMatch(/08-NQ\/TU/);
    expect((await ask(host, 'agenda:go', { index: 99 })).error?.code).toBe('bad_request');

    const paused = next<{ paused: { video: boolean } }>(s, 'view', (v) => v.paused.video);
    await ok(host, 'media:pause', { kind: 'video', paused: true });
    await paused;
    await ok(host, 'media:pause', { kind: 'video', paused: false });
    const slides = next<{ slidesOn: boolean }>(s, 'view', (v) => v.slidesOn);
    await ok(host, 'slides:set', { on: true });
    await slides;
  });

  test('hands in order; one floor at a time; taken back', async () => {
    const [a, c] = [points.get(POINTS[0]!)!, points.get(POINTS[1]!)!];
    const handsSeen = next<{ pointId: string }[]>(host, 'hands', (h) => h.length === 2);
    expect((await ok(a, 'hand:raise')).position).toBe(1);
    expect((await ok(c, 'hand:raise')).position).toBe(2);
    expect((await handsSeen).map((h) => h.pointId)).toEqual([POINTS[0], POINTS[1]]);

    const aGranted = next<{ granted: boolean }>(a, 'floor:you', (f) => f.granted);
    const view = await ok(host, 'floor:grant', { pointId: POINTS[0] });
    expect((view.floor as { pointId: string }).pointId).toBe(POINTS[0]);
    await aGranted;
    const { routerRtpCapabilities } = (await ok(a, 'rtc:capabilities')) as {
      routerRtpCapabilities: Record<string, unknown>;
    };
    const send = await ok(a, 'rtc:createTransport', { direction: 'send', rtpCapabilities: routerRtpCapabilities });
    expect(send.id).toBeTruthy();

    // Giving it to another point takes it from the first.
    const aRevoked = next<{ granted: boolean }>(a, 'floor:you', (f) => !f.granted);
    const cGranted = next<{ granted: boolean }>(c, 'floor:you', (f) => f.granted);
    await ok(host, 'floor:grant', { pointId: POINTS[1] });
    await Promise.all([aRevoked, cGranted]);
    const cRevoked = next<{ granted: boolean }>(c, 'floor:you', (f) => !f.granted);
    const cleared = await ok(host, 'floor:revoke');
    expect(cleared.floor).toBeNull();
    await cRevoked;
    expect((await ask(host, 'floor:grant', { pointId: 'HT-VQ' })).error?.code).toBe('conflict'); // not connected
  });

  test('the same point opening a second page replaces the first', async () => {
    const first = points.get(POINTS[3]!)!;
    const kicked = next<{ reason: string }>(first, 'kicked');
    const second = await connectSocket(o.baseUrl, '/point', { token: token(POINTS[3]!) });
    points.set(POINTS[3]!, second);
    expect((await kicked).reason).toMatch(/another screen/);
    const live = await o.orchestrator.realtime.broadcasts.get(b.sessionId);
    expect((await live.numbers()).connected).toBe(4);
  });

  test('a point whose worker dies is told to reconnect, and can', async () => {
    const live = await o.orchestrator.realtime.broadcasts.get(b.sessionId);
    const room = live.room!;
    const viewer = room.getViewerStats ? await room.getViewerStats(POINTS[0]!) : undefined;
    const slot = viewer!.slot!;
    const pid = o.orchestrator.pool.status()[slot]!.pid!;
    const told = next<{ reason: string }>(points.get(POINTS[0]!)!, 'rtc:reconnect', () => true, 10_000);
    process.kill(pid, 'SIGKILL');
    expect((await told).reason).toBe('worker-died');
    const s = points.get(POINTS[0]!)!;
    const { routerRtpCapabilities } = (await ok(s, 'rtc:capabilities')) as {
      routerRtpCapabilities: Record<string, unknown>;
    };
    const t = await waitFor(async () => {
      const res = await ask(s, 'rtc:createTransport', { direction: 'recv', rtpCapabilities: routerRtpCapabilities });
      return res.ok ? res.data : undefined;
    }, 'a new transport');
    const { producers } = (await ok(s, 'view:get')) as { producers: { producerId: string }[] };
    for (const p of producers) await ok(s, 'rtc:consume', { transportId: t.id, producerId: p.producerId });
  }, 20_000);

  test('ending the briefing reaches every point', async () => {
    const ended = next<{ state: string }>(points.get(POINTS[1]!)!, 'view', (v) => v.state === 'ended');
    await ok(host, 'session:end');
    await ended;
    expect((await ask(host, 'agenda:go', { index: 0 })).error?.code).toBe('not_open');
  });
});
