// The hall as points on an edge receive it, read from the stream itself: an origin (the
// hall fed by ffmpeg through a relay that passes RTP and RTCP on and counts the key-frame
// requests coming back) and an edge with two workers (points on its origin router and on
// a fan-out router), separate server processes on one Redis; the points' receive
// transports are real WebRTC from Node (werift; tests/helpers/rtp-peer.ts).
//
// Several points join at once. Each point's video must start with a VP8 key frame (its
// consumer and the pipe's waited for one), then run without a hole: sequence numbers
// one by one and no RTP timestamp step over a few frame intervals (a consumer that lost
// its sync mid-stream drops frames up to the next key frame, up to a GOP, with no
// sequence gap). Their consumers' key-frame requests cross the pipe: the hall's source
// gets a request after they resume and none while nobody joins. Nothing here is timed.
import dgram from 'node:dgram';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import { ADMIN_ENV, connectSocket, login, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { ok, startNode, type NodeProcess } from '../helpers/cluster';
import { waitFor } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';
import { RtpPeer } from '../helpers/rtp-peer';
import { isVp8KeyFrameStart } from '../../scripts/loadgen/receiver';
import { receiveCapabilities } from '../../scripts/loadgen/werift-link';
import { tiedSpawn } from '../../server/platform/tied-spawn';

jest.setTimeout(240_000);

const FFMPEG = '/usr/bin/ffmpeg';
const FPS = 15;
/** 90 kHz RTP clock: one frame, and the largest step allowed between two packets. */
const FRAME_TICKS = 90_000 / FPS;
const MAX_STEP_TICKS = 3 * FRAME_TICKS;
const HALL = { video: { ssrc: 33330001, payloadType: 101 }, audio: { ssrc: 33330002, payloadType: 100 } };
const POINTS = 4;
/** Packets read per point before judging (a GOP is 2 s, about 30 packets a second here). */
const ENOUGH = 240;

interface Target {
  ip: string;
  port: number;
  rtcpPort?: number;
}

/**
 * Between ffmpeg and one plain ingest stream: RTP and RTCP passed on (the ingest learns
 * the relay's ports), and what the origin sends back on RTCP read: PLI and FIR counted.
 */
class Relay {
  keyFrameRequests = 0;
  /** Packets passed on to the origin, on the RTP leg and on the RTCP leg. */
  readonly forwarded = { rtp: 0, rtcp: 0 };
  readonly #socks: dgram.Socket[] = [];

  static async open(to: Target): Promise<{ relay: Relay; rtp: number; rtcp: number }> {
    const relay = new Relay();
    const rtp = await relay.#leg(to.ip, to.port, 'rtp');
    const rtcp = await relay.#leg(to.ip, to.rtcpPort ?? to.port, 'rtcp');
    return { relay, rtp, rtcp };
  }

  async #leg(ip: string, port: number, leg: 'rtp' | 'rtcp'): Promise<number> {
    const sock = dgram.createSocket('udp4');
    this.#socks.push(sock);
    sock.on('message', (msg, from) => {
      if (from.address === ip && from.port === port) this.#fromOrigin(msg);
      else {
        this.forwarded[leg] += 1;
        sock.send(msg, port, ip);
      }
    });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    return sock.address().port;
  }

  /** A compound RTCP packet from the origin: each PSFB (206) with FMT 1 (PLI) or 4 (FIR). */
  #fromOrigin(buf: Buffer): void {
    for (let off = 0; off + 4 <= buf.length;) {
      const fmt = buf[off]! & 0x1f;
      if (buf[off + 1] === 206 && (fmt === 1 || fmt === 4)) this.keyFrameRequests += 1;
      off += (buf.readUInt16BE(off + 2) + 1) * 4;
    }
  }

  close(): void {
    for (const s of this.#socks) s.close();
  }
}

/** ffmpeg encoding a test pattern (VP8, a key frame every 2 s) and a tone (Opus) as RTP. */
function ffmpegRtp(video: { rtp: number; rtcp: number }, audio: { rtp: number; rtcp: number }): ChildProcess {
  const url = (e: { rtp: number; rtcp: number }) => `rtp://127.0.0.1:${e.rtp}?rtcpport=${e.rtcp}&pkt_size=1200`;
  return tiedSpawn(
    FFMPEG,
    [
      ...['-hide_banner', '-loglevel', 'error', '-re'],
      ...['-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=${FPS}`, '-f', 'lavfi', '-i', 'sine=frequency=440'],
      ...['-t', '200', '-map', '0:v', '-c:v', 'libvpx', '-b:v', '300k', '-deadline', 'realtime', '-cpu-used', '8'],
      ...['-g', String(2 * FPS), '-keyint_min', String(2 * FPS)],
      ...['-ssrc', String(HALL.video.ssrc), '-payload_type', String(HALL.video.payloadType), '-f', 'rtp', url(video)],
      ...['-map', '1:a', '-c:a', 'libopus', '-b:a', '32k'],
      ...['-ssrc', String(HALL.audio.ssrc), '-payload_type', String(HALL.audio.payloadType), '-f', 'rtp', url(audio)],
    ],
    { stdio: 'ignore' },
  );
}

/** One point's page on the edge: a receive transport and the hall's video, every packet's header kept. */
class HallViewer {
  readonly peer = new RtpPeer();
  /** The video consumer's packets in arrival order: sequence, timestamp, key frame start. */
  readonly video: { seq: number; ts: number; key: boolean }[] = [];
  #ssrc: number | undefined;

  constructor(readonly socket: Socket) {
    this.peer.onPacket = (clear) => {
      if (clear.readUInt32BE(8) !== this.#ssrc || this.video.length >= ENOUGH) return;
      this.video.push({ seq: clear.readUInt16BE(2), ts: clear.readUInt32BE(4), key: isVp8KeyFrameStart(clear) });
    };
  }

  async join(): Promise<void> {
    const { routerRtpCapabilities } = await ok(this.socket, 'rtc:capabilities');
    const t = await ok(this.socket, 'rtc:createTransport', {
      direction: 'recv',
      rtpCapabilities: receiveCapabilities(routerRtpCapabilities),
    });
    await ok(this.socket, 'rtc:connectTransport', {
      transportId: t.id,
      dtlsParameters: await RtpPeer.dtlsParameters(),
    });
    const connecting = this.peer.connect(t);
    const view = (await ok(this.socket, 'view:get')) as { producers: { producerId: string; source: string }[] };
    for (const p of view.producers.filter((x) => x.source === 'host-camera' || x.source === 'host-mic')) {
      const c = await ok(this.socket, 'rtc:consume', { transportId: t.id, producerId: p.producerId });
      if (p.source === 'host-camera') this.#ssrc = c.rtpParameters.encodings?.[0]?.ssrc;
      await ok(this.socket, 'rtc:resumeConsumer', { consumerId: c.id });
    }
    await connecting;
  }

  async close(): Promise<void> {
    await this.peer.close();
    this.socket.close();
  }
}

describe('the hall on an edge: key frames first, no hole, key-frame requests across the pipe', () => {
  let r: TestRedis;
  let origin: NodeProcess;
  let edge: NodeProcess;
  let b: PreparedBriefing;
  let host: Socket;
  let ids: string[];
  const relays: Relay[] = [];
  const viewers: HallViewer[] = [];
  let ffmpeg: ChildProcess | undefined;

  const pointSocket = async (pointId: string): Promise<Socket> => {
    const token = b.links.find((l) => l.pointId === pointId)!.token;
    const s = await connectSocket(edge.url, '/point', { token, own: true });
    // A node answers a socket's requests once it has loaded the session.
    await waitFor(() => s.timeout(1000).emitWithAck('view:get', {}), 'the edge to answer', 15_000, 0);
    return s;
  };
  const hallOnEdge = async (s: Socket) =>
    ((await ok(s, 'view:get')) as { producers: { source: string }[] }).producers.filter((p) =>
      p.source.startsWith('host-'),
    ).length === 2;

  beforeAll(async () => {
    if (!existsSync(FFMPEG)) throw new Error(`${FFMPEG} is needed to send media (apt-get install -y ffmpeg)`);
    r = await startTestRedis();
    const common = { REDIS_URL: r.url, ...ADMIN_ENV };
    // No recording: the hall's only consumers at the origin are the pipes, so every
    // key-frame request its source gets comes through them.
    origin = await startNode('origin-1', { ...common, NODE_ROLE: 'origin', RECORDING: 'false' });
    edge = await startNode('edge-a', { ...common, NODE_ROLE: 'edge', MEDIASOUP_WORKERS: '2' });
    const cookie = await login(origin.url);
    const all = (await request(origin.url).get('/api/v1/points?limit=500').set('Cookie', cookie).expect(200)).body
      .items as { id: string; level: string }[];
    ids = all
      .filter((p) => p.level === 'commune')
      .slice(0, POINTS + 1)
      .map((p) => p.id);
    b = await prepareBriefing(origin.url, ids);
    host = await connectSocket(origin.url, '/host', { cookie: b.cookie });
    await ok(host, 'host:attach', { sessionId: b.sessionId });
    const ingest = await ok(host, 'ingest:plain', { ...HALL, rtcpMux: false });
    const v = await Relay.open(ingest.video);
    const a = await Relay.open(ingest.audio);
    relays.push(v.relay, a.relay);
    ffmpeg = ffmpegRtp(v, a);
    // The origin's producer ignores key-frame requests until its first packet has arrived,
    // and its comedia transport can send RTCP back only once the source's first RTCP has
    // fixed the address: wait for both before anyone asks (ffmpeg starts slowly on a
    // loaded machine).
    await waitFor(
      () => v.relay.forwarded.rtp > 0 && v.relay.forwarded.rtcp > 0,
      'the hall source to send RTP and RTCP',
      30_000,
      100,
    );
    await ok(host, 'session:goLive');
  });

  afterAll(async () => {
    ffmpeg?.kill('SIGKILL');
    for (const x of relays) x.close();
    await Promise.all(viewers.map((x) => x.close()));
    host?.close();
    await Promise.all([origin, edge].filter(Boolean).map((n) => n.stop()));
    await r?.cleanup();
  });

  test('points joining at once get the hall from a key frame on, without a hole, and their key-frame requests reach the source', async () => {
    const videoRelay = relays[0]!;
    // The first point's first media request opens the edge's room and its pipe from the origin.
    const first = await pointSocket(ids[0]!);
    await ok(first, 'rtc:capabilities');
    await waitFor(() => hallOnEdge(first), 'the hall piped to the edge', 30_000, 250);
    // The edge's fan-out router (its second worker) asks for a key frame as its own pipe
    // starts, through the pipe from the origin; once that is answered, nobody asks while
    // nobody joins.
    await waitFor(() => videoRelay.keyFrameRequests > 0, 'a first key-frame request from the edge', 15_000);
    await new Promise((res) => setTimeout(res, 4000));
    const quiet = videoRelay.keyFrameRequests;
    await new Promise((res) => setTimeout(res, 3000));
    expect(videoRelay.keyFrameRequests).toBe(quiet);

    // Now the points join together (the first one's socket among them).
    const sockets = [first, ...(await Promise.all(ids.slice(1, POINTS).map(pointSocket)))];
    viewers.push(...sockets.map((s) => new HallViewer(s)));
    await Promise.all(viewers.map((x) => x.join()));
    await waitFor(
      () => viewers.every((x) => x.video.length >= ENOUGH),
      `every point to read ${ENOUGH} video packets (${viewers.map((x) => x.video.length).join(', ')})`,
      60_000,
      250,
    );
    // Their consumers' requests went through the edge's pipe producer and the origin's
    // pipe consumer to the hall's producer, which asked the source.
    await waitFor(() => videoRelay.keyFrameRequests > quiet, 'a key-frame request from the joining points', 15_000);

    for (const [i, x] of viewers.entries()) {
      const v = x.video;
      expect({ point: i, firstIsKeyFrame: v[0]!.key }).toEqual({ point: i, firstIsKeyFrame: true });
      const holes: string[] = [];
      for (let k = 1; k < v.length; k++) {
        const seqStep = (v[k]!.seq - v[k - 1]!.seq + 0x10000) % 0x10000;
        const tsStep = (v[k]!.ts - v[k - 1]!.ts) >>> 0;
        if (seqStep !== 1 || tsStep > MAX_STEP_TICKS)
          holes.push(
            `packet ${k}: sequence +${seqStep}, timestamp +${tsStep} (${Math.round(tsStep / FRAME_TICKS)} frames)`,
          );
      }
      expect({ point: i, holes }).toEqual({ point: i, holes: [] });
    }
  });
});
