// The desk's mute of the floor with a real server, SFU, Redis and socket.io clients: a
// point muted by the desk that closes its microphone and publishes it again stays muted,
// until the desk unmutes it or the floor changes hands. The hall's media is a plain RTP
// ingest; the point's microphone a producer on a send transport (no browser here).
import type { Socket } from 'socket.io-client';
import { ADMIN_ENV, connectSocket, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(60_000);

const POINTS = ['HT-CX', 'HT-CL'];

type Res = { ok: boolean; data?: Record<string, unknown>; error?: { code: string; message: string } };
const ask = (s: Socket, event: string, payload: unknown = {}): Promise<Res> =>
  s.timeout(10_000).emitWithAck(event, payload);
const ok = async (s: Socket, event: string, payload: unknown = {}) => {
  const res = await ask(s, event, payload);
  if (!res.ok) throw new Error(`${event} failed: ${res.error?.code} ${res.error?.message}`);
  return res.data!;
};
/** Resolves when the point is told it holds the floor. */
const granted = (s: Socket) =>
  new Promise<void>((resolve) => {
    const on = (f: { granted: boolean }) => {
      if (!f.granted) return;
      s.off('floor:you', on);
      resolve();
    };
    s.on('floor:you', on);
  });

describe("the desk's mute of the floor (real SFU, Redis and socket.io clients)", () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  let host: Socket;
  let desk: Socket;
  const sockets: Socket[] = [];
  const token = (pointId: string) => b.links.find((l) => l.pointId === pointId)!.token;

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, ADMIN_ENV);
    b = await prepareBriefing(o.baseUrl, POINTS);
    host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    desk = await connectSocket(o.baseUrl, '/monitor', { cookie: b.cookie, own: true });
    sockets.push(host, desk);
    await ok(host, 'host:attach', { sessionId: b.sessionId });
    await ok(desk, 'monitor:watch', { sessionId: b.sessionId });
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await o?.stop();
    await r?.cleanup();
  });

  /** The point publishes a floor microphone on a send transport of its own. */
  const speak = async (point: Socket, ssrc: number): Promise<string> => {
    const { routerRtpCapabilities } = await ok(point, 'rtc:capabilities');
    const t = await ok(point, 'rtc:createTransport', { direction: 'send', rtpCapabilities: routerRtpCapabilities });
    const p = await ok(point, 'rtc:produce', {
      transportId: t.id,
      kind: 'audio',
      source: 'floor-mic',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc }],
        rtcp: { cname: `floor-${ssrc}` },
      },
    });
    return p.id as string;
  };
  const floor = async () =>
    (await ok(desk, 'floor:state', { sessionId: b.sessionId })).floor as { pointId: string; muted: boolean };

  test('a muted point publishing its microphone again stays muted until unmuted or the floor moves', async () => {
    const [a, c] = await Promise.all(POINTS.map((id) => connectSocket(o.baseUrl, '/point', { token: token(id) })));
    sockets.push(a!, c!);
    const live = await o.orchestrator.realtime.broadcasts.get(b.sessionId);
    const room = await live.requireRoom();
    await room.createPlainIngest({ video: { ssrc: 1111, payloadType: 101 }, audio: { ssrc: 2222, payloadType: 100 } });
    await ok(host, 'session:goLive');

    const aGranted = granted(a!);
    await ok(desk, 'floor:grant', { sessionId: b.sessionId, pointId: POINTS[0] });
    await aGranted;
    const first = await speak(a!, 5001);
    expect(await floor()).toMatchObject({ pointId: POINTS[0], muted: false });
    await ok(desk, 'floor:mute', { sessionId: b.sessionId, muted: true });
    expect(await floor()).toMatchObject({ pointId: POINTS[0], muted: true });

    // The page closes its microphone and publishes it again: still muted, for everyone.
    await ok(a!, 'rtc:closeProducer', { producerId: first });
    await speak(a!, 5002);
    expect(await floor()).toMatchObject({ pointId: POINTS[0], muted: true });

    // Unmuted by the desk: a microphone published again is heard.
    await ok(desk, 'floor:mute', { sessionId: b.sessionId, muted: false });
    expect(await floor()).toMatchObject({ muted: false });
    const [again] = [...room.getPeer(POINTS[0]!)!.producers.values()].filter((p) => p.source === 'floor-mic');
    await ok(a!, 'rtc:closeProducer', { producerId: again!.producer.id });
    await speak(a!, 5003);
    expect(await floor()).toMatchObject({ pointId: POINTS[0], muted: false });

    // Muted again, then the floor goes to another point: its microphone is heard.
    await ok(desk, 'floor:mute', { sessionId: b.sessionId, muted: true });
    const cGranted = granted(c!);
    await ok(desk, 'floor:grant', { sessionId: b.sessionId, pointId: POINTS[1] });
    await cGranted;
    await speak(c!, 5004);
    expect(await floor()).toMatchObject({ pointId: POINTS[1], muted: false });
  });
});
