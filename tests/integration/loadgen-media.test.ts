// The load generator's media against a real room (mediasoup workers in this process): the
// simulcast hall publishing three VP8 layers into a plain ingest, and browser-like virtual
// points (werift ICE/DTLS/SRTP, the generator's own per-packet path and RTCP). Checks what
// the worker sees: every layer at the producer, the points' receiver reports (RTT and loss
// in the consumers' stats), their transport-cc (the transport's outgoing bitrate estimate),
// a point's PLI reaching the hall, which answers with a key frame, and a hole in a point's
// video NACKed and filled by the consumer's RTX stream (RFC 4588, as Chromium negotiates),
// or, for a point that offers no RTX, resent on the media SSRC.
import type { types as ms } from 'mediasoup';
import { BroadcastRoom } from '../../sfu';
import type { WorkerPool } from '../../sfu/worker-pool';
import { Receiver, lostOf, type RemoteTransportParams } from '../../scripts/loadgen/receiver';
import { SimulcastHall, preparedLayers } from '../../scripts/loadgen/simulcast-hall';
import { FFMPEG } from '../../scripts/loadgen/source';
import { receiveCapabilities, type Caps } from '../../scripts/loadgen/werift-link';
import { requireInCi, toolMissing } from '../helpers/ci';
import { waitFor } from '../helpers/orchestrator';
import { createPool, silent } from '../helpers/sfu';

jest.setTimeout(240_000);

const maybe = requireInCi(toolMissing(FFMPEG));
const TRANSPORT_CC = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

let pool: WorkerPool | undefined;
let room: BroadcastRoom | undefined;
let hall: SimulcastHall | undefined;
const receivers: Receiver[] = [];

/** Stops the hall, the points, the room and the workers; a retried run first stops the failed run's. */
async function stopAll(): Promise<void> {
  hall?.stop();
  await Promise.all(receivers.splice(0).map((r) => r.close()));
  room?.close();
  pool?.close();
  hall = room = pool = undefined;
}

afterAll(stopAll);

interface Point {
  id: string;
  rx: Receiver;
  ssrc: number;
  consumer: ms.Consumer;
  transportId: string;
}

async function joinPoint(r: BroadcastRoom, id: string, producerId: string, rtx = true): Promise<Point> {
  r.addViewer(id);
  const t = await r.createWebRtcTransport(id, 'recv');
  const rx = new Receiver({ decryptEvery: 5 });
  receivers.push(rx);
  await r.connectTransport(id, t.id, (await Receiver.dtlsParameters()) as ms.DtlsParameters);
  const connecting = rx.connect(t as unknown as RemoteTransportParams);
  const caps = receiveCapabilities(r.rtpCapabilities as unknown as Caps, false, rtx);
  const c = await r.consume(id, t.id, producerId, caps as never);
  const ssrc = c.rtpParameters.encodings![0]!.ssrc!;
  rx.expect(ssrc, 'video', 90000);
  const rtxSsrc = c.rtpParameters.encodings![0]!.rtx?.ssrc;
  if (rtx) {
    expect(rtxSsrc).toBeDefined();
    rx.expectRtx(rtxSsrc!, ssrc, c.rtpParameters.codecs[0]!.payloadType);
  } else expect(rtxSsrc).toBeUndefined();
  const tcc = c.rtpParameters.headerExtensions?.find((h) => h.uri === TRANSPORT_CC);
  expect(tcc).toBeDefined();
  rx.tccExtId = tcc!.id;
  await r.resumeConsumer(id, c.id);
  await connecting;
  const consumer = r.getPeer(id)!.consumers.get(c.id)!.consumer;
  return { id, rx, ssrc, consumer, transportId: t.id };
}

maybe('simulcast hall and browser-like points: what the worker sees of them', async () => {
  await stopAll();
  const files = preparedLayers();
  pool = await createPool(1);
  room = await BroadcastRoom.create({ pool, roomId: 'loadgen-media', logger: silent, layerPolicyIntervalMs: 0 });
  const ssrcs = [5550001, 5550002, 5550003];
  const ingest = await room.createPlainIngest({
    video: { ssrc: ssrcs[0]!, payloadType: 101, simulcastSsrcs: ssrcs.slice(1) },
  });
  const v = ingest.video!;
  hall = new SimulcastHall({
    files,
    ssrcs,
    payloadType: 101,
    target: { ip: v.ip, port: v.port, rtcpPort: v.rtcpPort! },
  });
  await hall.start();

  // Every layer reaches the producer, one stream per SSRC.
  const r = room;
  await waitFor(
    async () => (await r.getProducerStats(v.producerId)).streams.filter((s) => s.packetCount > 0).length === 3,
    'three layers at the producer',
    20_000,
  );
  expect((await r.getProducerStats(v.producerId)).streams.map((s) => s.ssrc).sort()).toEqual(ssrcs);

  const points: Point[] = [];
  for (let i = 0; i < 3; i++) points.push(await joinPoint(r, `p${i}`, v.producerId));
  for (const p of points)
    await waitFor(() => p.rx.streams.get(p.ssrc)?.firstKeyFrameAt !== undefined, `${p.id}'s first key frame`, 20_000);

  // Receiver reports: the worker computes each consumer's RTT from LSR/DLSR and has its loss.
  for (const p of points) {
    const stat = await waitFor(
      async () =>
        ((await p.consumer.getStats()) as ms.ConsumerStat[]).find(
          (s) => s.type === 'outbound-rtp' && (s.roundTripTime ?? 0) > 0,
        ),
      `${p.id}'s RTT from its receiver reports`,
      20_000,
    );
    expect(stat.fractionLost).toBeGreaterThanOrEqual(0);
    expect(p.rx.feedback!.counts.receiverReports).toBeGreaterThan(0);
    expect(p.rx.feedback!.counts.senderReports).toBeGreaterThan(0);
  }
  // Transport-cc: the worker's bandwidth estimate for the point's transport comes from it.
  for (const p of points) {
    await waitFor(
      async () => {
        const t = (await r.getViewerStats(p.id)).transports.find((x) => x.transportId === p.transportId);
        return (t?.availableOutgoingBitrate ?? 0) > 0 && t!.bytesReceived > 0;
      },
      `${p.id}'s transport-cc feedback at the worker`,
      20_000,
    );
    expect(p.rx.feedback!.counts.transportFeedbacks).toBeGreaterThan(0);
  }

  // A point's PLI: the worker counts it, the hall answers with a key frame out of turn, and
  // the point's wait for a key frame ends.
  const p = points[0]!;
  const plis = async () =>
    ((await p.consumer.getStats()) as ms.ConsumerStat[]).find((s) => s.type === 'outbound-rtp')!.pliCount;
  const pliBefore = await plis();
  await new Promise((res) => setTimeout(res, 1500)); // past the producer's key-frame request delay
  const before = hall.stats;
  p.rx.requestKeyFrame(p.ssrc);
  await waitFor(async () => (await plis()) > pliBefore, "the point's PLI at the worker");
  const h = hall;
  await waitFor(
    () => h.stats.some((l, i) => l.keyFramesOnRequest > before[i]!.keyFramesOnRequest),
    'a key frame on request from the hall',
  );
  await waitFor(() => !p.rx.feedback!.wantsKeyFrame(p.ssrc), 'the key frame at the point');
  expect(p.rx.feedback!.counts.plisSent).toBeGreaterThanOrEqual(1);
  expect(hall.stats.reduce((a, l) => a + l.plis + l.firs, 0)).toBeGreaterThan(0);

  // A hole of 20 video packets (read and dropped uncounted) at a point: NACKed, and every
  // packet resent by the worker, on the consumer's RTX stream where RTX was negotiated,
  // else on the media SSRC; counted as the original, none given up. Counted from a
  // snapshot taken just before the hole.
  const hole = async (q: Point, rtx: boolean) => {
    const video = q.rx.streams.get(q.ssrc)!;
    const fb = q.rx.feedback!.counts;
    const was = { ...fb };
    const lostBefore = lostOf(video);
    q.rx.dropMedia = 20;
    await waitFor(
      () => q.rx.dropMedia === 0 && fb.recovered - was.recovered >= 20 && lostOf(video) <= lostBefore,
      `${q.id}'s hole filled ${rtx ? 'by RTX' : 'on the media SSRC'}`,
      10_000,
    );
    expect(fb.nackedPackets - was.nackedPackets).toBeGreaterThanOrEqual(20);
    expect(fb.unrecovered - was.unrecovered).toBe(0);
    expect(fb.rtxDropped).toBe(0);
    expect(fb.rtxAuthFailures).toBe(0);
    if (rtx) {
      expect(fb.rtxRecovered - was.rtxRecovered).toBeGreaterThanOrEqual(20);
      expect(fb.rtxPackets - was.rtxPackets).toBeGreaterThanOrEqual(fb.rtxRecovered - was.rtxRecovered);
      expect(video.rtxBytes).toBeGreaterThan(0);
    } else {
      expect(fb.rtxPackets).toBe(0);
      expect(video.rtxBytes).toBe(0);
    }
  };
  await hole(points[1]!, true);
  const plain = await joinPoint(r, 'p-no-rtx', v.producerId, false);
  await waitFor(
    () => plain.rx.streams.get(plain.ssrc)?.firstKeyFrameAt !== undefined,
    "p-no-rtx's first key frame",
    20_000,
  );
  await hole(plain, false);
});
