// A simulcast consumer switching layers while a stale key frame of its target layer comes
// through: a packet the publisher resent on a NACK long after it first sent it (twice, as
// a publisher answering every NACK of a lagging SFU does), which the worker forwards to
// consumers like any other. The real worker (the product's build, scripts/worker-fixes.mjs
// fixStaleSyncKeyFrame) must switch at the live key frame that follows, never at the stale
// one: what a point receives keeps its timestamps in order and its sequence numbers
// without holes, and the consumer answers a NACK for every packet it sent after the switch.
import dgram from 'node:dgram';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import { genericNack } from '../../scripts/loadgen/rtcp-write';
import { packetizeVp8, readFeedback, senderReport, type RtpStreamState } from '../../scripts/loadgen/vp8-rtp';
import { waitFor } from '../helpers/orchestrator';

jest.setTimeout(60_000);

const FRAME_TICKS = 3000; // 30 fps at 90 kHz
const LAYERS = [0x1110, 0x2220];
/** Frames of 1,900 bytes: two packets each (the worker does not decode VP8). */
const frame = (key: boolean): Buffer => Buffer.alloc(1900, key ? 0x00 : 0x01);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

let worker: ms.Worker | undefined;
const sockets: dgram.Socket[] = [];

/** Closes the sockets and the worker; a retried run first closes the failed run's. */
function stopAll(): void {
  for (const s of sockets.splice(0)) s.close();
  worker?.close();
  worker = undefined;
}

afterAll(stopAll);

async function udp(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s;
}

interface Sent {
  seq: number;
  ts: number;
}

test('a stale key frame of the target layer is no point to switch at', async () => {
  stopAll();
  worker = await mediasoup.createWorker({ logLevel: 'warn' });
  const router = await worker.createRouter({
    mediaCodecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }],
  });
  const pub = await udp();
  const sink = await udp();
  const ingest = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
  const producer = await ingest.produce({
    kind: 'video',
    rtpParameters: {
      codecs: [
        {
          mimeType: 'video/VP8',
          payloadType: 96,
          clockRate: 90000,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
        },
      ],
      encodings: LAYERS.map((ssrc) => ({ ssrc })),
    },
  });
  const out = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
  await out.connect({ ip: '127.0.0.1', port: sink.address().port });
  const consumer = await out.consume({
    producerId: producer.id,
    rtpCapabilities: router.rtpCapabilities,
    preferredLayers: { spatialLayer: 0, temporalLayer: 0 },
  });
  expect(consumer.type).toBe('simulcast');
  const ssrc = consumer.rtpParameters.encodings![0]!.ssrc!;
  const rtxSsrc = consumer.rtpParameters.encodings![0]!.rtx!.ssrc;

  // What the point reads: media in order of arrival, and the original sequence numbers of
  // the retransmissions (RTX: the OSN leads the payload).
  const media: Sent[] = [];
  const resent = new Set<number>();
  sink.on('message', (m) => {
    if (m.length < 12 || (m[1]! >= 200 && m[1]! <= 206)) return;
    const payload = 12 + (m[0]! & 0x0f) * 4 + (m[0]! & 0x10 ? 4 + m.readUInt16BE(14 + (m[0]! & 0x0f) * 4) * 4 : 0);
    const from = m.readUInt32BE(8);
    if (from === ssrc) media.push({ seq: m.readUInt16BE(2), ts: m.readUInt32BE(4) });
    else if (from === rtxSsrc) resent.add(m.readUInt16BE(payload));
  });

  // The publisher: both layers on one frame clock with unrelated timestamp bases and
  // sequence numbers, sender reports with one NTP-to-RTP mapping (as libwebrtc sends them).
  const port = ingest.tuple.localPort;
  const send = (b: Buffer) => pub.send(b, port, '127.0.0.1');
  const t0 = Date.now();
  const layers = LAYERS.map((s, i) => ({
    st: { ssrc: s, payloadType: 96, seq: 1000 + i * 20000, pictureId: i * 1000, tl0PicIdx: 0 } as RtpStreamState,
    base: 0x10000000 * (i + 1) + 12345,
    keyFrame: [] as Buffer[],
    keyWanted: false,
  }));
  // A key-frame request is answered at the layer's next frame, as an encoder does.
  pub.on('message', (m) => {
    for (const fb of readFeedback(m)) {
      const l = layers.find((x) => x.st.ssrc === fb.ssrc);
      if (l && fb.type !== 'nack') l.keyWanted = true;
    }
  });
  const reports = () => {
    const now = Date.now();
    for (const l of layers) send(senderReport(l.st.ssrc, now, l.base + Math.round((now - t0) * 90), 0, 0));
  };
  let n = 0;
  const sendFrame = (keyOn: (i: number) => boolean) => {
    layers.forEach((l, i) => {
      const key = keyOn(i) || l.keyWanted;
      l.keyWanted = false;
      const pkts = packetizeVp8(frame(key), l.base + n * FRAME_TICKS, l.st);
      if (key) l.keyFrame = pkts;
      for (const p of pkts) send(p);
    });
    n += 1;
  };
  const frames = async (count: number, keyOn: (i: number) => boolean = () => false) => {
    for (let k = 0; k < count; k++) {
      if (n % 15 === 0) reports();
      sendFrame(k === 0 ? keyOn : () => false);
      await sleep(33);
    }
  };

  reports();
  await frames(10, () => true);
  await waitFor(() => consumer.currentLayers?.spatialLayer === 0, 'the consumer on layer 0');
  // Ten frames on: layer 1's only key frame is 0.66 s old. The consumer is told to climb.
  await frames(10);
  const beforeSwitch = media.length;
  await consumer.setPreferredLayers({ spatialLayer: 1, temporalLayer: 0 });
  await waitFor(
    async () => ((await consumer.dump()) as unknown as { targetSpatialLayer: number }).targetSpatialLayer === 1,
    'the consumer targeting layer 1',
  );
  // Before the encoder's answer to the consumer's key-frame request, layer 1's key frame
  // of 0.66 s ago, resent twice (two NACKs answered); then live frames.
  const stale = layers[1]!.keyFrame;
  for (let copy = 0; copy < 2; copy++) {
    for (const p of stale) send(p);
    await sleep(20);
  }
  await frames(10);
  await waitFor(() => consumer.currentLayers?.spatialLayer === 1, 'the consumer on layer 1');
  await frames(5);
  await sleep(200);

  // Timestamps never go back and sequence numbers leave no hole: the switch was at the
  // live key frame (the worker skips one sequence number when the previous frame was not
  // complete: at most a gap of 2).
  expect(media.length).toBeGreaterThan(beforeSwitch + 20);
  for (let i = 1; i < media.length; i++) {
    const dTs = (media[i]!.ts - media[i - 1]!.ts) >>> 0;
    const dSeq = (media[i]!.seq - media[i - 1]!.seq) & 0xffff;
    expect({ i, backwards: dTs > 0x80000000 }).toEqual({ i, backwards: false });
    expect({ i, seqStep: dSeq >= 1 && dSeq <= 2 }).toEqual({ i, seqStep: true });
  }
  // Every packet sent since the switch order was kept for retransmission: a NACK for each
  // is answered on the RTX stream.
  const asked = media.slice(beforeSwitch).map((p) => p.seq);
  for (let i = 0; i < asked.length; i += 16) {
    sink.send(genericNack(0x5150, ssrc, asked.slice(i, i + 16)), out.tuple.localPort, '127.0.0.1');
    await sleep(5);
  }
  await waitFor(() => asked.every((s) => resent.has(s)), 'every NACKed packet resent', 3000).catch(() => undefined);
  expect(asked.filter((s) => !resent.has(s))).toEqual([]);
});
