// What one page may hold on the SFU, asked over the real sockets of a real control server
// (one mediasoup worker, a plain RTP ingest as the hall): one consumer per producer however
// often it is asked for, at most 10 consumers on a receive transport and 4 transports per
// peer, refusals coded `limit_exceeded`, and places given back when a transport or a
// producer closes, so that a page rebuilding its media is never refused.
import type { Socket } from 'socket.io-client';
import type { BroadcastRoom } from '../../sfu';
import { ADMIN_ENV, connectSocket, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(60_000);

const POINTS = ['HT-CX', 'HT-DT', 'HT-VQ'];
type AckRes = { ok: true; data: any } | { ok: false; error: { code: string; message: string } }; // eslint-disable-line @typescript-eslint/no-explicit-any
const ask = (s: Socket, event: string, payload: unknown = {}) =>
  s.timeout(10_000).emitWithAck(event, payload) as Promise<AckRes>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const ok = async (s: Socket, event: string, payload: unknown = {}): Promise<any> => {
  const res = await ask(s, event, payload);
  if (!res.ok) throw new Error(`${event} failed: ${res.error.code} ${res.error.message}`);
  return res.data;
};
const codes = (answers: AckRes[]) => answers.map((a) => (a.ok ? 'ok' : a.error.code));

describe('what one page may hold on the SFU', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  let room: BroadcastRoom;
  let host: Socket;
  let hall: { video: string; audio: string };
  const open: Socket[] = [];
  const point = async (pointId: string) => {
    const token = b.links.find((l) => l.pointId === pointId)!.token;
    const s = await connectSocket(o.baseUrl, '/point', { token });
    open.push(s);
    return s;
  };
  /** A receive transport, as a page makes one. */
  const recvTransport = async (s: Socket): Promise<string> => {
    const { routerRtpCapabilities } = await ok(s, 'rtc:capabilities');
    return (await ok(s, 'rtc:createTransport', { direction: 'recv', rtpCapabilities: routerRtpCapabilities })).id;
  };
  const ingest = async (n: number) => {
    const i = await room.createPlainIngest({
      video: { ssrc: 7000 + 2 * n, payloadType: 101 },
      audio: { ssrc: 7001 + 2 * n, payloadType: 100 },
    });
    return { id: i.ingestId, video: i.video!.producerId, audio: i.audio!.producerId };
  };

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, ADMIN_ENV);
    b = await prepareBriefing(o.baseUrl, POINTS);
    host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    await ok(host, 'host:attach', { sessionId: b.sessionId });
    room = await (await o.orchestrator.realtime.broadcasts.get(b.sessionId)).requireRoom();
    hall = await ingest(0);
    await ok(host, 'session:goLive');
  });
  afterAll(async () => {
    for (const s of [host, ...open]) s?.close();
    await o?.stop();
    await r?.cleanup();
  });

  test('the same rtc:consume asked 50 times: one consumer, and every answer is that consumer', async () => {
    const s = await point(POINTS[0]!);
    const transportId = await recvTransport(s);
    const request = { transportId, producerId: hall.video };
    const together = await Promise.all(Array.from({ length: 40 }, () => ask(s, 'rtc:consume', request)));
    const inTurn: AckRes[] = [];
    for (let i = 0; i < 10; i++) inTurn.push(await ask(s, 'rtc:consume', request));
    const answers = [...together, ...inTurn];
    expect(codes(answers)).toEqual(answers.map(() => 'ok'));
    const first = answers[0]!.ok ? answers[0]!.data : undefined;
    for (const a of answers) expect(a.ok && a.data).toEqual(first);
    const peer = room.getPeer(POINTS[0]!)!;
    expect(peer.consumers.size).toBe(1);
    expect(room.stats().routers.reduce((n, rt) => n + rt.consumers, 0)).toBe(1);

    // Resumed, then asked again: still that one, still flowing.
    await ok(s, 'rtc:resumeConsumer', { consumerId: first.id });
    expect((await ok(s, 'rtc:consume', request)).id).toBe(first.id);
    expect(peer.consumers.get(first.id)?.consumer.paused).toBe(false);
  });

  test('a page rebuilding its receive transport 8 times: never refused, one transport and one consumer left', async () => {
    const s = await point(POINTS[1]!);
    const peerOf = () => room.getPeer(POINTS[1]!)!;
    let consumerId = '';
    for (let i = 0; i < 8; i++) {
      const transportId = await recvTransport(s);
      // The consumer made on the previous transport closed with it: it does not stand in the way.
      const c = await ok(s, 'rtc:consume', { transportId, producerId: hall.video });
      expect(c.id).not.toBe(consumerId);
      consumerId = c.id;
      expect([...peerOf().transports.keys()]).toEqual([transportId]);
      expect([...peerOf().consumers.values()].map((pc) => [pc.consumer.id, pc.transportId])).toEqual([
        [consumerId, transportId],
      ]);
    }
  });

  test('a consumer asked on another open transport of the peer moves there: still one per producer', async () => {
    // The server closes a page's old receive transport itself; here both stay open.
    room.addViewer('probe');
    const t1 = await room.createWebRtcTransport('probe', 'recv');
    const t2 = await room.createWebRtcTransport('probe', 'recv');
    const c1 = await room.consume('probe', t1.id, hall.audio, room.rtpCapabilities);
    const c2 = await room.consume('probe', t2.id, hall.audio, room.rtpCapabilities);
    expect(c2.id).not.toBe(c1.id);
    const peer = room.getPeer('probe')!;
    expect([...peer.consumers.values()].map((pc) => [pc.consumer.id, pc.transportId])).toEqual([[c2.id, t2.id]]);
    expect(peer.transports.size).toBe(2);
    room.removePeer('probe');
  });

  test('a receive transport holds 10 consumers at most; a producer closing gives its place back', async () => {
    const extra = [];
    for (let n = 1; n <= 5; n++) extra.push(await ingest(n));
    const producers = [hall, ...extra].flatMap((i) => [i.video, i.audio]);
    expect(producers).toHaveLength(12);
    const s = await point(POINTS[2]!);
    const transportId = await recvTransport(s);
    const answers: AckRes[] = [];
    for (const producerId of producers) answers.push(await ask(s, 'rtc:consume', { transportId, producerId }));
    expect(codes(answers)).toEqual([...Array<string>(10).fill('ok'), 'limit_exceeded', 'limit_exceeded']);
    const refused = answers[10]!;
    expect(!refused.ok && refused.error.message).toMatch(/10 consumers/);
    const peer = room.getPeer(POINTS[2]!)!;
    expect(peer.consumers.size).toBe(10);

    room.closeIngest(extra[0]!.id);
    await waitFor(() => peer.consumers.size === 8, 'the closed ingest’s consumers to close');
    for (const producerId of producers.slice(10)) {
      expect((await ask(s, 'rtc:consume', { transportId, producerId })).ok).toBe(true);
    }
    expect(peer.consumers.size).toBe(10);
  });

  test('a peer holds 4 transports at most, counted while they are created; a closed one gives its place back', async () => {
    const { routerRtpCapabilities } = await ok(host, 'rtc:capabilities');
    const send = () => ask(host, 'rtc:createTransport', { direction: 'send', rtpCapabilities: routerRtpCapabilities });
    const answers = await Promise.all(Array.from({ length: 6 }, send));
    expect(codes(answers).sort()).toEqual(['limit_exceeded', 'limit_exceeded', 'ok', 'ok', 'ok', 'ok']);
    const refused = answers.find((a) => !a.ok);
    expect(!refused?.ok && refused?.error.message).toMatch(/4 transports/);
    const hostPeer = room.getPeer(`host:${host.id}`)!;
    expect(hostPeer.transports.size).toBe(4);
    expect(codes([await send()])).toEqual(['limit_exceeded']);

    const first = answers.find((a) => a.ok)!;
    room.closeTransport(hostPeer.id, first.ok ? first.data.id : '');
    expect(codes([await send()])).toEqual(['ok']);
    expect(hostPeer.transports.size).toBe(4);
  });
});
