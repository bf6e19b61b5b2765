// Media across nodes, measured where it arrives: an origin (the host's console and an
// ffmpeg feed of the hall) and two edges, three server processes on one Redis, with real
// WebRTC transports from Node (werift: ICE, DTLS, SRTP; tests/helpers/rtp-peer.ts) for
// the points and the host, counting the RTP each consumer's SSRC really brings.
//
// 1. A point on an edge holds the floor and produces (ffmpeg's VP8 and Opus, sent through
//    its WebRTC send transport): the host on the origin, a point on the other edge and a
//    point on the same edge all receive it; taking the floor back ends it everywhere.
// 2. The origin's only mediasoup worker is SIGKILLed: the origin is rebuilt on its
//    replacement, the host publishes again, and the points on the edges get the hall, and
//    the floor, back on the same sockets and receive transports.
// 3. The worker of the floor's own edge is SIGKILLed: the point publishes again there and
//    its new floor reaches the host and the other edge; that edge's feed re-pipes.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import { ADMIN_ENV, connectSocket, login, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { ok, startNode, type NodeProcess } from '../helpers/cluster';
import { waitFor } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';
import { MediaSide } from '../helpers/media-side';
import { childProcesses } from '../helpers/procfs';
import { RtpPeer } from '../helpers/rtp-peer';
import { receiveCapabilities } from '../../scripts/loadgen/werift-link';
import type { NodeInfo } from '../../server/contract/cluster';
import { tiedSpawn } from '../../server/platform/tied-spawn';

jest.setTimeout(300_000);

const FFMPEG = '/usr/bin/ffmpeg';
// The hall's and the floor's streams are told apart by SSRC at the SFU's ingress only;
// consumers get SSRCs of their own, read from their RTP parameters.
const HALL = { video: { ssrc: 11110001, payloadType: 101 }, audio: { ssrc: 11110002, payloadType: 100 } };
const FLOOR = { video: { ssrc: 22220001, payloadType: 101 }, audio: { ssrc: 22220002, payloadType: 100 } };

// Signalling answers are validated by the server's schemas; here they are read loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

/** ffmpeg sending a test pattern (VP8) and a tone (Opus) as RTP to the given ports. */
function ffmpegRtp(
  ssrcs: typeof HALL,
  video: { ip: string; port: number; rtcpPort?: number },
  audio: { ip: string; port: number; rtcpPort?: number },
): ChildProcess {
  const url = (e: { ip: string; port: number; rtcpPort?: number }) =>
    `rtp://${e.ip}:${e.port}?rtcpport=${e.rtcpPort ?? e.port}&pkt_size=1200`;
  return tiedSpawn(
    FFMPEG,
    [
      ...['-hide_banner', '-loglevel', 'error', '-re'],
      ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15', '-f', 'lavfi', '-i', 'sine=frequency=440'],
      ...['-t', '240', '-map', '0:v', '-c:v', 'libvpx', '-b:v', '200k', '-deadline', 'realtime', '-cpu-used', '8'],
      ...['-g', '15', '-ssrc', String(ssrcs.video.ssrc), '-payload_type', String(ssrcs.video.payloadType)],
      ...['-f', 'rtp', url(video)],
      ...['-map', '1:a', '-c:a', 'libopus', '-b:a', '32k'],
      ...['-ssrc', String(ssrcs.audio.ssrc), '-payload_type', String(ssrcs.audio.payloadType)],
      ...['-f', 'rtp', url(audio)],
    ],
    { stdio: 'ignore' },
  );
}

/** The mediasoup-worker processes of a server process, from /proc. */
const mediasoupWorkers = (parentPid: number): number[] => childProcesses(parentPid, 'mediasoup-work');

describe('media across nodes: the floor of a point on an edge, and edges after the origin worker dies', () => {
  let r: TestRedis;
  let origin: NodeProcess;
  let edgeA: NodeProcess;
  let edgeB: NodeProcess;
  let cookie: string;
  let b: PreparedBriefing;
  let host: MediaSide;
  /** p1 (edge-a) takes the floor; p2 (edge-b) and p3 (edge-a) listen. */
  let p1: MediaSide;
  let p2: MediaSide;
  let p3: MediaSide;
  let ids: string[];
  const spawned: ChildProcess[] = [];
  /** The ffmpeg of the floor now being sent. */
  const floorSenders: ChildProcess[] = [];
  const floorPeers: RtpPeer[] = [];
  const closers: (() => void)[] = [];

  const nodes = async (): Promise<NodeInfo[]> =>
    (await request(origin.url).get('/cluster/v1/nodes').set('Cookie', cookie).expect(200)).body as NodeInfo[];
  const viewProducers = (s: Socket) => async () =>
    ((await ok(s, 'view:get')) as { producers: { producerId: string; source: string }[] }).producers;
  const hostProducers = async () =>
    ((await ok(host.socket, 'host:attach', { sessionId: b.sessionId })) as { view: { producers: Loose[] } }).view
      .producers as { producerId: string; source: string }[];

  const startHall = async (): Promise<void> => {
    const ingest = await waitFor(
      () => ok(host.socket, 'ingest:plain', HALL),
      'the origin to take a plain ingest',
      30_000,
      500,
    );
    spawned.push(ffmpegRtp(HALL, ingest.video, ingest.audio));
  };

  /** The point's page as join.ts does when granted: a send transport, camera and microphone. */
  const produceFloor = async (p: MediaSide): Promise<{ camera: string; mic: string; ff: ChildProcess }> => {
    const s = p.socket;
    const { routerRtpCapabilities } = await ok(s, 'rtc:capabilities');
    const t = await ok(s, 'rtc:createTransport', {
      direction: 'send',
      rtpCapabilities: receiveCapabilities(routerRtpCapabilities, true),
    });
    await ok(s, 'rtc:connectTransport', { transportId: t.id, dtlsParameters: await RtpPeer.dtlsParameters() });
    const sender = new RtpPeer();
    floorPeers.push(sender);
    await sender.connect(t);
    const video = FLOOR.video;
    const audio = FLOOR.audio;
    const camera = await ok(s, 'rtc:produce', {
      transportId: t.id,
      kind: 'video',
      source: 'floor-camera',
      rtpParameters: {
        codecs: [
          {
            mimeType: 'video/VP8',
            payloadType: video.payloadType,
            clockRate: 90000,
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
          },
        ],
        encodings: [{ ssrc: video.ssrc }],
        rtcp: { cname: 'floor' },
      },
    });
    const mic = await ok(s, 'rtc:produce', {
      transportId: t.id,
      kind: 'audio',
      source: 'floor-mic',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: audio.payloadType, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc: audio.ssrc }],
        rtcp: { cname: 'floor' },
      },
    });
    const fwd = await sender.forwardRtpFrom();
    closers.push(fwd.close);
    const to = { ip: '127.0.0.1', port: fwd.port };
    const ff = ffmpegRtp(FLOOR, to, to);
    spawned.push(ff);
    floorSenders.push(ff);
    return { camera: camera.id, mic: mic.id, ff };
  };

  /** The host's console on the origin gives the floor; the point's node enacts it (live-links.ts). */
  const grantFloorTo = async (p: MediaSide, pointId: string): Promise<void> => {
    const granted = new Promise<void>((resolve) =>
      p.socket.on('floor:you', (f: { granted: boolean }) => f.granted && resolve()),
    );
    await ok(host.socket, 'floor:grant', { pointId });
    await granted;
  };

  beforeAll(async () => {
    if (!existsSync(FFMPEG)) throw new Error(`${FFMPEG} is needed to send media (apt-get install -y ffmpeg)`);
    r = await startTestRedis();
    const common = { REDIS_URL: r.url, ...ADMIN_ENV };
    // One worker on the origin, so killing it is killing the origin router's worker.
    origin = await startNode('origin-1', { ...common, NODE_ROLE: 'origin', MEDIASOUP_WORKERS: '1' });
    [edgeA, edgeB] = await Promise.all([
      startNode('edge-a', { ...common, NODE_ROLE: 'edge' }),
      startNode('edge-b', { ...common, NODE_ROLE: 'edge' }),
    ]);
    cookie = await login(origin.url);

    const all = (await request(origin.url).get('/api/v1/points?limit=500').set('Cookie', cookie).expect(200)).body
      .items as { id: string; level: string }[];
    ids = all
      .filter((p) => p.level === 'commune')
      .slice(0, 3)
      .map((p) => p.id);
    expect(ids).toHaveLength(3);
    b = await prepareBriefing(origin.url, ids);

    host = new MediaSide('the host', await connectSocket(origin.url, '/host', { cookie: b.cookie }));
    await ok(host.socket, 'host:attach', { sessionId: b.sessionId });
    const pointOn = async (node: NodeProcess, pointId: string) => {
      const token = b.links.find((l) => l.pointId === pointId)!.token;
      const s = await connectSocket(node.url, '/point', { token });
      // A node answers a socket's requests once it has loaded the session.
      await waitFor(() => s.timeout(1000).emitWithAck('view:get', {}), `${node.name} to answer`, 15_000, 0);
      return new MediaSide(`${pointId} on ${node.name}`, s);
    };
    p1 = await pointOn(edgeA, ids[0]!);
    p2 = await pointOn(edgeB, ids[1]!);
    p3 = await pointOn(edgeA, ids[2]!);
    await startHall();
    await ok(host.socket, 'session:goLive');
    for (const p of [p1, p2, p3]) {
      await p.openRecv();
      await p.consumeNew('host-camera', viewProducers(p.socket));
      await p.consumeNew('host-mic', viewProducers(p.socket));
    }
    await Promise.all([p1, p2, p3].map((p) => p.receiving(['host-camera', 'host-mic'])));
  });

  afterAll(async () => {
    for (const c of spawned) c.kill('SIGKILL');
    for (const c of closers) c();
    await Promise.all(floorPeers.map((x) => x.close()));
    for (const m of [host, p1, p2, p3]) await m?.close();
    // The nodes' own logs, to see why a run failed.
    if (process.env.CLUSTER_MEDIA_LOGS)
      for (const n of [origin, edgeA, edgeB]) process.stderr.write(`--- ${n?.name}\n${n?.out().slice(-15_000)}\n`);
    await Promise.all([origin, edgeA, edgeB].filter(Boolean).map((n) => n.stop()));
    await r?.cleanup();
  });

  test('a point on an edge holds the floor: the host, a point on the other edge and one on its own edge receive it; taken back, it ends everywhere', async () => {
    await grantFloorTo(p1, ids[0]!);
    const floor = await produceFloor(p1);

    // The origin adopts the producers under the same ids; the host consumes them there.
    await host.openRecv();
    const hostCam = await host.consumeNew('floor-camera', hostProducers);
    const hostMic = await host.consumeNew('floor-mic', hostProducers);
    expect([hostCam.producerId, hostMic.producerId]).toEqual([floor.camera, floor.mic]);
    // The other edge has them from the origin's pipe; the floor's own edge serves them directly.
    await p2.consumeNew('floor-camera', viewProducers(p2.socket));
    await p2.consumeNew('floor-mic', viewProducers(p2.socket));
    await p3.consumeNew('floor-camera', viewProducers(p3.socket));
    await p3.consumeNew('floor-mic', viewProducers(p3.socket));
    await Promise.all([host, p2, p3].map((m) => m.receiving(['floor-camera', 'floor-mic'])));
    // The hall still flows beside it.
    const hallBefore = p2.received('host-camera').bytes;
    await waitFor(() => p2.received('host-camera').bytes > hallBefore + 5_000, 'the hall on edge-b beside the floor');

    // Taken back by the host: the producers close on the point's edge, at the origin, and on the other edge.
    await ok(host.socket, 'floor:revoke');
    for (const m of [host, p2, p3]) {
      await waitFor(
        () => [floor.camera, floor.mic].every((id) => m.closedProducers.includes(id)),
        `${m.name} told the floor's producers closed`,
        15_000,
      );
    }
    await waitFor(
      async () => !(await hostProducers()).some((p) => p.source.startsWith('floor-')),
      'the origin to hold no floor producer',
    );
    await waitFor(
      async () => !(await viewProducers(p2.socket)()).some((p) => p.source.startsWith('floor-')),
      'edge-b to hold no floor producer',
    );
    // And no more floor RTP arrives anywhere (the closed consumers' SSRCs stay still).
    const counts = () =>
      [host, p2, p3].map((m) =>
        m.consumed.filter((c) => c.source.startsWith('floor-')).map((c) => m.peer.count(c.ssrc).packets),
      );
    const after = counts();
    await new Promise((res) => setTimeout(res, 1500));
    expect(counts()).toEqual(after);
    floor.ff.kill('SIGKILL');
  });

  test("the origin's worker dies: edges take the hall and the floor again, points keep their sockets and transports", async () => {
    await grantFloorTo(p1, ids[0]!);
    const floor = await produceFloor(p1);
    await p2.consumeNew('floor-camera', viewProducers(p2.socket));
    await p2.consumeNew('floor-mic', viewProducers(p2.socket));
    await p2.receiving(['floor-camera', 'floor-mic']);
    const hallIds = p2.consumed.filter((c) => c.source.startsWith('host-') && !c.closed).map((c) => c.producerId);
    expect(hallIds).toHaveLength(2);
    const transports = [p2.transportId, p3.transportId];
    const sockets = [p2.socket.id, p3.socket.id];

    const workers = mediasoupWorkers(origin.child.pid!);
    expect(workers).toHaveLength(1);
    const killedAt = Date.now();
    process.kill(workers[0]!, 'SIGKILL');

    // The edges drop what died with it (the hall, and the origin's copy of the floor).
    for (const m of [p2, p3])
      await waitFor(
        () => hallIds.every((id) => m.closedProducers.includes(id)),
        `${m.name} told the hall closed`,
        15_000,
      );
    await waitFor(() => mediasoupWorkers(origin.child.pid!).length === 1, 'a replacement worker on the origin', 15_000);
    // The host publishes again (a plain ingest: the old one died with the worker).
    for (const c of spawned.splice(0, 1)) c.kill('SIGKILL');
    await startHall();

    // Points on both edges consume the new hall on the receive transports they had.
    for (const m of [p2, p3]) {
      await m.consumeNew('host-camera');
      await m.consumeNew('host-mic');
    }
    await Promise.all([p2, p3].map((m) => m.receiving(['host-camera', 'host-mic'])));
    const hallBackMs = Date.now() - killedAt;
    expect([p2.transportId, p3.transportId]).toEqual(transports);
    expect([p2.socket.id, p3.socket.id]).toEqual(sockets);
    expect(p2.socket.connected && p3.socket.connected).toBe(true);
    expect(p2.reconnects + p3.reconnects).toBe(0);

    // The floor, still held on edge-a, is sent up a new pipe: edge-b hears it again (same
    // producers, through the rebuilt origin), and so does the host on a new transport.
    await p2.consumeNew('floor-camera');
    await p2.consumeNew('floor-mic');
    await p2.receiving(['floor-camera', 'floor-mic']);
    process.stderr.write(
      `[cluster-media] origin worker killed: the hall back on both edges (ffmpeg restarted into a new ingest) after ${hallBackMs} ms, the floor back on edge-b after ${Date.now() - killedAt} ms\n`,
    );
    expect(p2.consumed.filter((c) => !c.closed && c.source.startsWith('floor-')).map((c) => c.producerId)).toEqual([
      floor.camera,
      floor.mic,
    ]);
    await waitFor(() => host.republishes > 0, 'the host told to publish again');
    await host.openRecv();
    await host.consumeNew('floor-camera', hostProducers);
    await host.consumeNew('floor-mic', hostProducers);
    await host.receiving(['floor-camera', 'floor-mic']);

    // What the monitor sees: edge-b fed by the origin with the hall and the floor.
    const fed = await waitFor(
      async () => {
        const f = (await nodes()).find((n) => n.id === 'edge-b')?.feeds[b.sessionId];
        return f?.upstream === 'origin-1' && f.producers === 4 ? f : undefined;
      },
      'edge-b fed with four producers',
      15_000,
      250,
    );
    expect(fed.bytes).toBeGreaterThan(0);
  });

  test("the worker of the floor's own edge dies: the point publishes again and its floor reaches the host and the other edge; that edge's points take the hall again", async () => {
    const oldFloor = p2.consumed.filter((c) => !c.closed && c.source.startsWith('floor-')).map((c) => c.producerId);
    expect(oldFloor).toHaveLength(2);
    const republish = new Promise<void>((resolve) =>
      p1.socket.on('floor:you', (f: { granted: boolean }) => f.granted && resolve()),
    );
    const p3Reconnects = p3.reconnects;
    const workers = mediasoupWorkers(edgeA.child.pid!);
    expect(workers).toHaveLength(1);
    process.kill(workers[0]!, 'SIGKILL');

    // The floor died on edge-a; the origin and edge-b let it go too.
    for (const m of [host, p2])
      await waitFor(
        () => oldFloor.every((id) => m.closedProducers.includes(id)),
        `${m.name} told the old floor closed`,
        15_000,
      );
    // Still holding the floor, the point is asked to publish again once edge-a is rebuilt.
    await republish;
    for (const c of floorSenders.splice(0)) c.kill('SIGKILL');
    const floor = await produceFloor(p1);
    expect([floor.camera, floor.mic]).not.toEqual(oldFloor);
    await p2.consumeNew('floor-camera');
    await p2.consumeNew('floor-mic');
    await host.consumeNew('floor-camera', hostProducers);
    await host.consumeNew('floor-mic', hostProducers);
    await Promise.all([p2, host].map((m) => m.receiving(['floor-camera', 'floor-mic'])));
    expect(host.consumed.filter((c) => !c.closed && c.source.startsWith('floor-')).map((c) => c.producerId)).toEqual([
      floor.camera,
      floor.mic,
    ]);

    // p3 lost its receive transport with the worker: a new one, fed by edge-a's new pipe.
    await waitFor(() => p3.reconnects > p3Reconnects, 'p3 told to reconnect its media', 15_000);
    await p3.openRecv();
    await p3.consumeNew('host-camera', viewProducers(p3.socket));
    await p3.consumeNew('host-mic', viewProducers(p3.socket));
    await p3.consumeNew('floor-camera', viewProducers(p3.socket));
    await p3.receiving(['host-camera', 'host-mic', 'floor-camera']);
  });
});
