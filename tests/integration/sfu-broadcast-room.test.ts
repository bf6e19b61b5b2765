// The broadcast room over real mediasoup workers: routers and placement, transports,
// consumers, the floor and the lifecycle. The plain RTP ingest is in sfu-broadcast-ingest.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Transport } = require('mediasoup/node/lib/Transport') as {
  Transport: { prototype: { produce: (...a: unknown[]) => unknown } };
};
import { BroadcastRoom, KEY_FRAME_REQUEST_DELAY_MS } from '../../sfu';
import type { WorkerPool } from '../../sfu/worker-pool';
import { waitFor } from '../helpers/orchestrator';
import {
  expectSfuError,
  joinViewer,
  nextEvent,
  opus,
  record,
  roomPerTest,
  silent,
  simulcastVp8,
  singleVp8,
} from '../helpers/sfu';

jest.setTimeout(30_000);

let pool: WorkerPool;
let room: BroadcastRoom;

roomPerTest((s) => ({ pool, room } = s));

/** The host goes live: a send transport on the origin, simulcast VP8 and Opus. */
async function hostLive(r = room) {
  r.addHost('host');
  const send = await r.createWebRtcTransport('host', 'send');
  const video = await r.produce('host', send.id, {
    kind: 'video',
    rtpParameters: simulcastVp8(),
    source: 'host-camera',
  });
  const audio = await r.produce('host', send.id, { kind: 'audio', rtpParameters: opus(), source: 'host-mic' });
  return { send, video: video.id, audio: audio.id };
}

describe('BroadcastRoom: routers and placement', () => {
  test('an origin router and a fan-out router on every worker; routers speak Opus, VP8 and H264', async () => {
    expect(room.fanoutSlots().sort()).toEqual([0, 1]);
    expect(room.origin?.slot).toBe(0);
    const mimes = room.rtpCapabilities.codecs!.map((c) => c.mimeType);
    expect(mimes).toEqual(expect.arrayContaining(['audio/opus', 'video/VP8', 'video/H264']));
    // On its own worker the origin router serves viewers itself (no same-worker pipe).
    const routers = room.stats().routers;
    expect(routers.map((r) => [r.slot, r.origin])).toEqual([
      [0, true],
      [1, false],
    ]);
    expect(routers[0]!.routerId).toBe(room.origin!.router.id);
    expect(routers[1]!.routerId).not.toBe(room.origin!.router.id);
  });

  test('host producers are piped to every fan-out router, announced with their source', async () => {
    const announced = record(room, 'newProducer');
    const { video, audio } = await hostLive();
    expect(announced).toEqual([
      { producerId: video, kind: 'video', source: 'host-camera', peerId: 'host', paused: false },
      { producerId: audio, kind: 'audio', source: 'host-mic', peerId: 'host', paused: false },
    ]);
    expect(room.stats().routers.map((r) => r.producers)).toEqual([2, 2]);
    // A viewer on each fan-out router consumes both: the pipes exist on both workers.
    const a = await joinViewer(room, 'a');
    const b = await joinViewer(room, 'b');
    const slots = [(await room.getViewerStats('a')).slot, (await room.getViewerStats('b')).slot].sort();
    expect(slots).toEqual([0, 1]);
    for (const [peer, t] of [
      ['a', a],
      ['b', b],
    ] as const) {
      for (const pid of [video, audio]) {
        const c = await room.consume(peer, t.id, pid, room.rtpCapabilities);
        expect(c.producerId).toBe(pid);
      }
    }
    expect(room.listProducers().map((p) => p.source)).toEqual(['host-camera', 'host-mic']);
  });

  test('a producer created after viewers joined reaches both fan-outs', async () => {
    const { send } = await hostLive();
    const a = await joinViewer(room, 'a');
    const b = await joinViewer(room, 'b');
    const slides = await room.produce('host', send.id, {
      kind: 'video',
      rtpParameters: singleVp8('2'),
      source: 'host-screen',
    });
    expect(room.stats().routers.map((r) => r.producers)).toEqual([3, 3]);
    const ca = await room.consume('a', a.id, slides.id, room.rtpCapabilities);
    const cb = await room.consume('b', b.id, slides.id, room.rtpCapabilities);
    expect(ca.source).toBe('host-screen');
    expect(cb.type).toBe('simple');
  });

  test('4 viewers are placed 2 and 2; consumers are counted per router', async () => {
    const { video, audio } = await hostLive();
    for (const id of ['v1', 'v2', 'v3', 'v4']) {
      const t = await joinViewer(room, id);
      await room.consume(id, t.id, video, room.rtpCapabilities);
      await room.consume(id, t.id, audio, room.rtpCapabilities);
    }
    const fanouts = room.stats().routers;
    expect(fanouts.map((r) => r.transports)).toEqual([2, 2]);
    expect(fanouts.map((r) => r.consumers)).toEqual([4, 4]);
    expect(room.stats().viewers).toBe(4);
  });

  test('placement weighs consumers: a router whose viewers consume more is avoided', async () => {
    const { video, audio, send } = await hostLive();
    const slides = await room.produce('host', send.id, {
      kind: 'video',
      rtpParameters: singleVp8('2'),
      source: 'host-screen',
    });
    const t1 = await joinViewer(room, 'heavy'); // slot of least load: 0
    for (const p of [video, audio, slides.id]) await room.consume('heavy', t1.id, p, room.rtpCapabilities);
    await joinViewer(room, 'light1');
    await joinViewer(room, 'light2');
    // heavy weighs 3 on its slot; the two light viewers (weight 1 each) go to the other.
    const slotOf = async (id: string) => (await room.getViewerStats(id)).slot;
    const heavySlot = await slotOf('heavy');
    expect(await slotOf('light1')).not.toBe(heavySlot);
    expect(await slotOf('light2')).not.toBe(heavySlot);
  });
});

describe('BroadcastRoom: transports', () => {
  test('WebRtcTransports on the WebRtcServer: UDP and TCP candidates on the slot ports, ICE restart, no SCTP', async () => {
    room.addViewer('v');
    const t = await room.createWebRtcTransport('v', 'recv');
    const slot = pool.slots[(await room.getViewerStats('v')).slot!]!;
    expect(t.sctpParameters).toBeUndefined();
    expect(t.iceParameters.iceLite).toBe(true);
    expect(t.dtlsParameters.fingerprints.length).toBeGreaterThan(0);
    const udp = t.iceCandidates.find((c) => c.protocol === 'udp');
    const tcp = t.iceCandidates.find((c) => c.protocol === 'tcp');
    expect(udp?.port).toBe(slot.udpPort);
    expect(tcp?.port).toBe(slot.tcpPort);
    expect(udp!.priority).toBeGreaterThan(tcp!.priority); // UDP preferred
    const ice = await room.restartIce('v', t.id);
    expect(ice.usernameFragment).not.toBe(t.iceParameters.usernameFragment);
    await room.connectTransport('v', t.id, {
      role: 'client',
      fingerprints: [{ algorithm: 'sha-256', value: 'AB:'.repeat(31) + 'AB' }],
    });
    const stats = await room.getViewerStats('v');
    expect(stats.transports[0]).toMatchObject({ transportId: t.id, direction: 'recv', iceState: 'new' });
    await expectSfuError(room.connectTransport('v', 'nope', t.dtlsParameters), 'not_found');
  });

  test('host transports are on the origin; unknown peers are refused', async () => {
    room.addHost('host');
    await room.createWebRtcTransport('host', 'send');
    const hostSlots = (await room.getViewerStats('host')).transports.map((t) => t.slot);
    expect(hostSlots).toEqual([room.origin!.slot]);
    await expectSfuError(room.createWebRtcTransport('ghost', 'recv'), 'not_found');
    await expectSfuError(() => room.addViewer('host'), 'conflict');
  });
});

describe('BroadcastRoom: consumers', () => {
  test('created paused, resumed on request; capabilities are checked', async () => {
    const { video, audio } = await hostLive();
    const t = await joinViewer(room, 'v');
    const c = await room.consume('v', t.id, video, room.rtpCapabilities);
    expect(c.kind).toBe('video');
    expect(c.type).toBe('simulcast');
    expect(c.source).toBe('host-camera');
    let s = await room.getViewerStats('v');
    expect(s.consumers[0]).toMatchObject({ consumerId: c.id, paused: true });
    await room.resumeConsumer('v', c.id);
    s = await room.getViewerStats('v');
    expect(s.consumers[0]).toMatchObject({ consumerId: c.id, paused: false, preferredLayers: { spatialLayer: 2 } });

    const onlyOpus = {
      codecs: room.rtpCapabilities.codecs!.filter((x) => x.mimeType === 'audio/opus'),
      headerExtensions: room.rtpCapabilities.headerExtensions,
    };
    await expectSfuError(room.consume('v', t.id, video, onlyOpus), 'bad_request');
    const ca = await room.consume('v', t.id, audio, onlyOpus);
    expect(ca.kind).toBe('audio');
    await expectSfuError(room.consume('v', t.id, 'no-such-producer', room.rtpCapabilities), 'not_found');
    await expectSfuError(room.resumeConsumer('v', 'no-such-consumer'), 'not_found');
  });

  test('video producers get keyFrameRequestDelay', async () => {
    const spy = jest.spyOn(Transport.prototype, 'produce');
    try {
      await hostLive();
      const opts = spy.mock.calls.map((c) => c[0] as { kind: string; keyFrameRequestDelay?: number });
      expect(opts.find((o) => o.kind === 'video')?.keyFrameRequestDelay).toBe(KEY_FRAME_REQUEST_DELAY_MS);
      expect(KEY_FRAME_REQUEST_DELAY_MS).toBeGreaterThan(0);
    } finally {
      spy.mockRestore();
    }
  });

  test('viewer mode caps the preferred layer: full 2, low 0, audio-only pauses video only', async () => {
    const { video, audio } = await hostLive();
    const t = await joinViewer(room, 'v');
    const cv = await room.consume('v', t.id, video, room.rtpCapabilities);
    const ca = await room.consume('v', t.id, audio, room.rtpCapabilities);
    await room.resumeConsumer('v', cv.id);
    await room.resumeConsumer('v', ca.id);
    const consumer = async (id: string) => (await room.getViewerStats('v')).consumers.find((c) => c.consumerId === id)!;

    expect((await consumer(cv.id)).preferredLayers?.spatialLayer).toBe(2);
    await room.setViewerMode('v', 'low');
    expect((await consumer(cv.id)).preferredLayers?.spatialLayer).toBe(0);
    expect((await consumer(cv.id)).paused).toBe(false);

    await room.setViewerMode('v', 'audio-only');
    expect((await consumer(cv.id)).paused).toBe(true);
    expect((await consumer(ca.id)).paused).toBe(false);
    // The policy leaves it paused; a consumer created in audio-only mode stays paused after resume.
    room.runLayerPolicy(Date.now() + 60_000);
    expect((await consumer(cv.id)).paused).toBe(true);

    await room.setViewerMode('v', 'full');
    expect((await consumer(cv.id)).paused).toBe(false);
    expect((await consumer(cv.id)).preferredLayers?.spatialLayer).toBe(2);
    expect((await room.getViewerStats('v')).mode).toBe('full');
  });

  test('a viewer joining in low mode starts at layer 0; audio-only keeps new video paused after resume', async () => {
    const { video } = await hostLive();
    const t = await joinViewer(room, 'low');
    await room.setViewerMode('low', 'low');
    const c = await room.consume('low', t.id, video, room.rtpCapabilities);
    await room.resumeConsumer('low', c.id);
    expect((await room.getViewerStats('low')).consumers[0]!.preferredLayers?.spatialLayer).toBe(0);

    const t2 = await joinViewer(room, 'ao');
    await room.setViewerMode('ao', 'audio-only');
    const c2 = await room.consume('ao', t2.id, video, room.rtpCapabilities);
    await room.resumeConsumer('ao', c2.id);
    expect((await room.getViewerStats('ao')).consumers[0]!.paused).toBe(true);
  });

  test('the host closing a producer closes viewers consumers and says so', async () => {
    const { video } = await hostLive();
    const t = await joinViewer(room, 'v');
    const c = await room.consume('v', t.id, video, room.rtpCapabilities);
    const closedConsumer = nextEvent(room, 'consumerClosed', (e) => e.consumerId === c.id);
    const closedProducer = nextEvent(room, 'producerClosed');
    await room.closeProducer('host', video);
    expect((await closedProducer)[0]).toMatchObject({ producerId: video, source: 'host-camera', reason: 'closed' });
    expect((await closedConsumer)[0]).toEqual({ peerId: 'v', consumerId: c.id, producerId: video });
    await waitFor(async () => (await room.getViewerStats('v')).consumers.length === 0, 'consumer gone');
  });

  test('pausing a host producer is announced', async () => {
    const { audio } = await hostLive();
    const paused = nextEvent(room, 'producerPaused');
    await room.pauseProducer('host', audio);
    expect((await paused)[0]).toMatchObject({ producerId: audio, paused: true, source: 'host-mic' });
    const resumed = nextEvent(room, 'producerResumed');
    await room.resumeProducer('host', audio);
    expect((await resumed)[0].paused).toBe(false);
  });
});

describe('BroadcastRoom: the floor', () => {
  test('a viewer cannot send or produce without the floor', async () => {
    await hostLive();
    const recv = await joinViewer(room, 'p1');
    await expectSfuError(room.createWebRtcTransport('p1', 'send'), 'forbidden');
    await expectSfuError(
      room.produce('p1', recv.id, { kind: 'video', rtpParameters: singleVp8(), source: 'floor-camera' }),
      'forbidden',
    );
    await expectSfuError(
      room.produce('p1', recv.id, { kind: 'video', rtpParameters: singleVp8(), source: 'host-camera' }),
      'forbidden',
    );
  });

  test('granted: produce camera and mic, viewers and the host consume them; revoked: all closed', async () => {
    const { video } = await hostLive();
    const hostRecv = await room.createWebRtcTransport('host', 'recv');
    const p1Recv = await joinViewer(room, 'p1');
    const p2Recv = await joinViewer(room, 'p2');
    await room.consume('p1', p1Recv.id, video, room.rtpCapabilities);

    const granted = nextEvent(room, 'floorGranted');
    room.grantFloor('p1');
    expect((await granted)[0]).toEqual({ peerId: 'p1' });
    expect(room.floorHolder).toBe('p1');
    await expectSfuError(() => room.grantFloor('p2'), 'conflict');

    const send = await room.createWebRtcTransport('p1', 'send');
    const announced = record(room, 'newProducer');
    const cam = await room.produce('p1', send.id, {
      kind: 'video',
      rtpParameters: singleVp8(),
      source: 'floor-camera',
    });
    const mic = await room.produce('p1', send.id, { kind: 'audio', rtpParameters: opus(), source: 'floor-mic' });
    expect(announced).toEqual([
      { producerId: cam.id, kind: 'video', source: 'floor-camera', peerId: 'p1', paused: false },
      { producerId: mic.id, kind: 'audio', source: 'floor-mic', peerId: 'p1', paused: false },
    ]);
    await expectSfuError(
      room.produce('p1', send.id, { kind: 'video', rtpParameters: singleVp8(), source: 'host-screen' }),
      'forbidden',
    );
    await expectSfuError(
      room.produce('p1', send.id, { kind: 'video', rtpParameters: singleVp8('5'), source: 'floor-camera' }),
      'conflict',
    );
    await expectSfuError(room.consume('p1', p1Recv.id, cam.id, room.rtpCapabilities), 'bad_request');

    const p2Cam = await room.consume('p2', p2Recv.id, cam.id, room.rtpCapabilities);
    const p2Mic = await room.consume('p2', p2Recv.id, mic.id, room.rtpCapabilities);
    const hostCam = await room.consume('host', hostRecv.id, cam.id, room.rtpCapabilities);

    const producerClosed = record(room, 'producerClosed');
    const consumerClosed = record(room, 'consumerClosed');
    const revoked = nextEvent(room, 'floorRevoked');
    room.revokeFloor();
    expect((await revoked)[0]).toEqual({ peerId: 'p1', reason: 'revoked' });
    expect(room.floorHolder).toBeUndefined();
    expect(producerClosed.map((e) => [e.producerId, e.reason]).sort()).toEqual(
      [
        [cam.id, 'floor-revoked'],
        [mic.id, 'floor-revoked'],
      ].sort(),
    );
    await waitFor(() => consumerClosed.length >= 3, 'consumers of the floor to close');
    expect(consumerClosed.map((e) => e.consumerId).sort()).toEqual([p2Cam.id, p2Mic.id, hostCam.id].sort());
    expect(room.listProducers().map((p) => p.source)).toEqual(['host-camera', 'host-mic']);
    // Its send transport is gone and it may not produce again.
    await expectSfuError(
      room.produce('p1', send.id, { kind: 'audio', rtpParameters: opus(), source: 'floor-mic' }),
      'forbidden',
    );
    expect((await room.getViewerStats('p1')).transports.map((t) => t.direction)).toEqual(['recv']);
    // The next point may now take the floor.
    room.grantFloor('p2');
    expect(room.floorHolder).toBe('p2');
  });

  test('the floor holder leaving revokes the floor', async () => {
    await hostLive();
    await joinViewer(room, 'p1');
    room.grantFloor('p1');
    const send = await room.createWebRtcTransport('p1', 'send');
    await room.produce('p1', send.id, { kind: 'audio', rtpParameters: opus(), source: 'floor-mic' });
    const revoked = nextEvent(room, 'floorRevoked');
    const closed = nextEvent(room, 'producerClosed');
    room.removePeer('p1');
    expect((await revoked)[0]).toEqual({ peerId: 'p1', reason: 'peer-left' });
    expect((await closed)[0]).toMatchObject({ peerId: 'p1', reason: 'peer-left' });
    expect(room.hasPeer('p1')).toBe(false);
    expect(room.floorHolder).toBeUndefined();
  });

  test('the host cannot be given the floor and only produces host sources', async () => {
    const { send } = await hostLive();
    await expectSfuError(() => room.grantFloor('host'), 'bad_request');
    await expectSfuError(
      room.produce('host', send.id, { kind: 'audio', rtpParameters: opus('7'), source: 'floor-mic' }),
      'bad_request',
    );
    await expectSfuError(
      room.produce('host', send.id, { kind: 'audio', rtpParameters: opus('8'), source: 'host-camera' }),
      'bad_request',
    );
  });
});

describe('BroadcastRoom: lifecycle', () => {
  test('removePeer closes its transports and consumers; close() is idempotent and cascades', async () => {
    const { video } = await hostLive();
    const t = await joinViewer(room, 'v');
    await room.consume('v', t.id, video, room.rtpCapabilities);
    const peer = room.getPeer('v')!;
    const mediasoupTransport = peer.transports.get(t.id)!.transport;
    const gone = nextEvent(room, 'peerClosed');
    room.removePeer('v');
    room.removePeer('v');
    expect((await gone)[0]).toEqual({ peerId: 'v' });
    expect(mediasoupTransport.closed).toBe(true);
    expect(peer.consumers.size).toBe(0);
    expect(room.stats().routers.every((r) => r.consumers === 0)).toBe(true);

    const host = room.getPeer('host')!;
    const origin = room.origin!.router;
    const closed = nextEvent(room, 'closed');
    room.close();
    room.close();
    await closed;
    expect(origin.closed).toBe(true);
    expect(host.closed).toBe(true);
    await expectSfuError(() => room.addViewer('late'), 'not_found');
  });

  test('two rooms on one pool share the load count', async () => {
    const other = await BroadcastRoom.create({ pool, roomId: 'r2', logger: silent, layerPolicyIntervalMs: 0 });
    try {
      await joinViewer(room, 'a'); // room r1
      other.addViewer('b');
      await other.createWebRtcTransport('b', 'recv');
      const slotA = (await room.getViewerStats('a')).slot;
      const slotB = (await other.getViewerStats('b')).slot;
      expect(slotB).not.toBe(slotA);
    } finally {
      other.close();
    }
  });
});
