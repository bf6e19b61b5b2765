// Worker deaths under a live room, by SIGKILL of a real mediasoup worker process.
import { BroadcastRoom } from '../../sfu';
import type { WorkerPool } from '../../sfu/worker-pool';
import { waitFor } from '../helpers/orchestrator';
import { createPool, nextEvent, opus, record, silent, simulcastVp8 } from '../helpers/sfu';

jest.setTimeout(30_000);

let pool: WorkerPool;
let room: BroadcastRoom;

beforeEach(async () => {
  // A slow respawn so the test sees the gap between death and replacement.
  pool = await createPool(2, 1500);
  room = await BroadcastRoom.create({ pool, roomId: 'r-death', logger: silent, layerPolicyIntervalMs: 0 });
});
afterEach(() => {
  room?.close();
  pool?.close();
});

async function hostProduce() {
  if (!room.hasPeer('host')) room.addHost('host');
  const send = await room.createWebRtcTransport('host', 'send');
  const video = await room.produce('host', send.id, {
    kind: 'video',
    rtpParameters: simulcastVp8(),
    source: 'host-camera',
  });
  const audio = await room.produce('host', send.id, { kind: 'audio', rtpParameters: opus(), source: 'host-mic' });
  return { send, video: video.id, audio: audio.id };
}

async function viewer(id: string, producers: string[]) {
  room.addViewer(id);
  const t = await room.createWebRtcTransport(id, 'recv');
  for (const p of producers) {
    const c = await room.consume(id, t.id, p, room.rtpCapabilities);
    await room.resumeConsumer(id, c.id);
  }
  return { transportId: t.id, slot: (await room.getViewerStats(id)).slot! };
}

test('a fan-out worker dies: its viewers are told to reconnect, placement avoids it, the replacement gets a fan-out', async () => {
  const { video, audio } = await hostProduce();
  const viewers: Record<string, { transportId: string; slot: number }> = {};
  for (const id of ['v1', 'v2', 'v3', 'v4']) viewers[id] = await viewer(id, [video, audio]);
  const originSlot = room.origin!.slot;
  const deadSlot = 1 - originSlot;
  const onDead = Object.entries(viewers).filter(([, v]) => v.slot === deadSlot);
  expect(onDead).toHaveLength(2);

  const reconnects = record(room, 'viewerNeedsReconnect');
  const lost = nextEvent(room, 'fanoutLost');
  const replaced = nextEvent(room, 'fanoutAdded', (e) => e.slot === deadSlot);
  const consumerClosed = record(room, 'consumerClosed');
  const producerClosed = record(room, 'producerClosed');
  process.kill(pool.slots[deadSlot]!.worker!.pid, 'SIGKILL');

  expect((await lost)[0]).toEqual({ slot: deadSlot });
  await waitFor(() => reconnects.length === 2, 'both viewers on the dead worker to be told');
  expect(reconnects.map((e) => e.peerId).sort()).toEqual(onDead.map(([id]) => id).sort());
  for (const e of reconnects) {
    expect(e.reason).toBe('worker-died');
    expect(e.transportIds).toEqual([viewers[e.peerId]!.transportId]);
  }
  // Their consumers went with the transport: no per-consumer noise; the host's media is untouched.
  expect(consumerClosed).toEqual([]);
  expect(producerClosed).toEqual([]);
  expect(room.listProducers()).toHaveLength(2);
  expect(room.fanoutSlots()).toEqual([originSlot]);

  // Until the worker is back, every placement goes to the live one; a moved viewer is reported.
  const moved = nextEvent(room, 'peerMoved');
  const [movedId] = onDead[0]!;
  const t = await room.createWebRtcTransport(movedId, 'recv');
  expect((await moved)[0]).toEqual({ peerId: movedId, fromSlot: deadSlot, toSlot: originSlot });
  const c = await room.consume(movedId, t.id, video, room.rtpCapabilities);
  expect(c.type).toBe('simulcast');
  await viewer('late', [video]);
  expect((await room.getViewerStats('late')).slot).toBe(originSlot);
  // Untouched viewers keep their transports.
  for (const [id, v] of Object.entries(viewers)) {
    if (v.slot === originSlot)
      expect((await room.getViewerStats(id)).transports.map((x) => x.transportId)).toEqual([v.transportId]);
  }

  // The replaced worker gets a fan-out router with the host's producers piped in, and new viewers go there.
  await replaced;
  expect(room.fanoutSlots().sort()).toEqual([0, 1]);
  const routers = room.stats().routers;
  expect(routers.find((r) => r.slot === deadSlot)).toMatchObject({ origin: false, producers: 2 });
  const back = await viewer('after', [video, audio]);
  expect(back.slot).toBe(deadSlot);
});

test('the origin worker dies: the origin is rebuilt on a live worker, the host is asked to produce again', async () => {
  const { video, audio } = await hostProduce();
  const hostTransportsBefore = (await room.getViewerStats('host')).transports.map((t) => t.transportId);
  const a = await viewer('a', [video, audio]);
  await viewer('b', [video, audio]);
  const oldOrigin = room.origin!;
  const liveSlot = 1 - oldOrigin.slot;
  const [onOrigin, onOther] = a.slot === oldOrigin.slot ? ['a', 'b'] : ['b', 'a'];

  const producerClosed = record(room, 'producerClosed');
  const consumerClosed = record(room, 'consumerClosed');
  const reconnects = record(room, 'viewerNeedsReconnect');
  const rebuilt = nextEvent(room, 'originRebuilt');
  const republish = nextEvent(room, 'publisherNeedsReconnect');
  process.kill(pool.slots[oldOrigin.slot]!.worker!.pid, 'SIGKILL');

  expect((await rebuilt)[0].slot).toBe(liveSlot);
  expect((await republish)[0]).toEqual({
    peerId: 'host',
    role: 'host',
    transportIds: hostTransportsBefore,
    reason: 'worker-died',
  });
  expect(room.origin!.slot).toBe(liveSlot);
  expect(room.origin!.router.closed).toBe(false);
  expect(producerClosed.map((e) => [e.producerId, e.reason]).sort()).toEqual(
    [
      [video, 'worker-died'],
      [audio, 'worker-died'],
    ].sort(),
  );
  expect(room.listProducers()).toEqual([]);
  // The viewer on the dead worker must reconnect; the other's consumers of the dead producers close.
  await waitFor(() => reconnects.length === 1, 'the reconnect event');
  expect(reconnects[0]!.peerId).toBe(onOrigin);
  await waitFor(
    () => consumerClosed.filter((e) => e.peerId === onOther).length === 2,
    'consumers of the lost producers',
  );

  // The host produces again on the new origin; the viewer still on the live worker consumes it.
  const again = await hostProduce();
  expect((await room.getViewerStats('host')).transports.map((t) => t.slot)).toEqual([liveSlot]);
  const otherTransport = (await room.getViewerStats(onOther)).transports[0]!.transportId;
  const c = await room.consume(onOther, otherTransport, again.video, room.rtpCapabilities);
  expect(c.producerId).toBe(again.video);

  // The dead slot comes back as a fan-out fed from the new origin.
  await nextEvent(room, 'fanoutAdded', (e) => e.slot === oldOrigin.slot);
  expect(room.stats().routers.find((r) => r.slot === oldOrigin.slot)).toMatchObject({ origin: false, producers: 2 });
  const t = await room.createWebRtcTransport(onOrigin, 'recv');
  expect((await room.getViewerStats(onOrigin)).slot).toBe(oldOrigin.slot);
  await room.consume(onOrigin, t.id, again.audio, room.rtpCapabilities);
});

test('a single-worker pool: the origin waits for the replacement, then the host is asked to produce again', async () => {
  room.close();
  pool.close();
  pool = await createPool(1, 300);
  room = await BroadcastRoom.create({ pool, roomId: 'r-one', logger: silent, layerPolicyIntervalMs: 0 });
  await hostProduce();
  const ingest = await room.createPlainIngest({ audio: { ssrc: 5555, payloadType: 100 } });
  const ingestClosed = nextEvent(room, 'ingestClosed');
  const republish = nextEvent(room, 'publisherNeedsReconnect');
  const rebuilt = nextEvent(room, 'originRebuilt');
  const pid = pool.slots[0]!.worker!.pid;
  process.kill(pid, 'SIGKILL');
  expect((await ingestClosed)[0]).toEqual({ ingestId: ingest.ingestId, reason: 'worker-died' });
  // Meanwhile a host request waits for the origin instead of failing.
  const pendingTransport = room.createWebRtcTransport('host', 'send');
  await rebuilt;
  expect((await republish)[0].peerId).toBe('host');
  const t = await pendingTransport;
  expect(t.id).toBeTruthy();
  expect(pool.slots[0]!.worker!.pid).not.toBe(pid);
  await room.produce('host', t.id, { kind: 'audio', rtpParameters: opus(), source: 'host-mic' });
  expect(room.listProducers().map((p) => p.source)).toEqual(['host-mic']);
});
