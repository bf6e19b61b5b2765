// The load generator's ICE-TCP points against a real room (mediasoup workers in this
// process, each with its WebRtcServer listening on UDP and TCP): the hall fed by ffmpeg
// over plain RTP, one virtual point's receiver connecting over TCP (RFC 4571 frames: the
// STUN nomination, DTLS, SRTP and its SRTCP feedback all on one connection) beside one over
// UDP. The worker's side says which: the transport's selected tuple and its local port.
// A full load run with a share of TCP points is in loadgen.test.ts.
import type { ChildProcess } from 'node:child_process';
import type { types as ms } from 'mediasoup';
import { BroadcastRoom } from '../../sfu';
import type { WorkerPool } from '../../sfu/worker-pool';
import { Receiver, type RemoteTransportParams } from '../../scripts/loadgen/receiver';
import { FFMPEG } from '../../scripts/loadgen/source';
import { receiveCapabilities, type Caps } from '../../scripts/loadgen/werift-link';
import { requireInCi, toolMissing } from '../helpers/ci';
import { publishTestPattern } from '../helpers/hall-feed';
import { waitFor } from '../helpers/orchestrator';
import { createPool, silent } from '../helpers/sfu';

jest.setTimeout(120_000);

const maybe = requireInCi(toolMissing(FFMPEG));

let pool: WorkerPool | undefined;
let room: BroadcastRoom | undefined;
let feed: ChildProcess | undefined;
const receivers: Receiver[] = [];

afterAll(async () => {
  if (feed && feed.exitCode === null) feed.kill('SIGKILL');
  await Promise.all(receivers.map((r) => r.close()));
  room?.close();
  pool?.close();
});

async function joinPoint(r: BroadcastRoom, id: string, producers: { video: string; audio: string }, tcp: boolean) {
  r.addViewer(id);
  const t = await r.createWebRtcTransport(id, 'recv');
  const rx = new Receiver({ decryptEvery: 2, tcp });
  receivers.push(rx);
  await r.connectTransport(id, t.id, (await Receiver.dtlsParameters()) as ms.DtlsParameters);
  const connecting = rx.connect(t as unknown as RemoteTransportParams);
  const caps = receiveCapabilities(r.rtpCapabilities as unknown as Caps) as never;
  const ssrcs: Record<'audio' | 'video', number> = { audio: 0, video: 0 };
  const consumers: ms.Consumer[] = [];
  for (const kind of ['video', 'audio'] as const) {
    const c = await r.consume(id, t.id, producers[kind], caps);
    ssrcs[kind] = c.rtpParameters.encodings![0]!.ssrc!;
    rx.expect(ssrcs[kind], kind, c.rtpParameters.codecs[0]!.clockRate);
    const tcc = c.rtpParameters.headerExtensions?.find((h) => h.uri.includes('transport-wide-cc'));
    if (tcc) rx.tccExtId = tcc.id;
    await r.resumeConsumer(id, c.id);
    consumers.push(r.getPeer(id)!.consumers.get(c.id)!.consumer);
  }
  await connecting;
  const transport = r.getPeer(id)!.transports.get(t.id)!.transport as ms.WebRtcTransport;
  return { rx, ssrcs, consumers, transport };
}

maybe('an ICE-TCP point receives the hall over the WebRtcServer TCP port and sends its RTCP back', async () => {
  pool = await createPool(1);
  const slot = pool.slots[0]!;
  room = await BroadcastRoom.create({ pool, roomId: 'loadgen-tcp', logger: silent, layerPolicyIntervalMs: 0 });
  const ingest = await room.createPlainIngest({
    video: { ssrc: 1111, payloadType: 101 },
    audio: { ssrc: 2222, payloadType: 100 },
  });
  feed = publishTestPattern(
    { ...ingest.video!, rtcpPort: ingest.video!.rtcpPort! },
    { ...ingest.audio!, rtcpPort: ingest.audio!.rtcpPort! },
  );
  const producers = { video: ingest.video!.producerId, audio: ingest.audio!.producerId };
  const r = room;

  const tcp = await joinPoint(r, 'tcp-point', producers, true);
  const udp = await joinPoint(r, 'udp-point', producers, false);

  // The worker's side: the TCP point's pair is a TCP connection to the WebRtcServer's TCP
  // port; the other's is UDP.
  expect(tcp.transport.iceSelectedTuple).toMatchObject({ protocol: 'tcp', localPort: slot.tcpPort });
  expect(udp.transport.iceSelectedTuple).toMatchObject({ protocol: 'udp', localPort: slot.udpPort });
  expect(tcp.rx.localPort).toBeUndefined();

  // The hall's media over TCP: a key frame found by decrypting, every checked packet
  // authenticated, audio too.
  for (const p of [tcp, udp])
    await waitFor(
      () => p.rx.streams.get(p.ssrcs.video)?.firstKeyFrameAt !== undefined,
      `a key frame at the ${p.rx.tcp ? 'TCP' : 'UDP'} point`,
      30_000,
    ).catch((e: Error) => {
      const { reader: _reader, ...seen } = p.rx.streams.get(p.ssrcs.video) ?? { reader: undefined };
      throw new Error(
        `${e.message}; its video so far: ${JSON.stringify(seen)}; the worker's DTLS ${p.transport.dtlsState}, ICE ${p.transport.iceState}`,
      );
    });
  await waitFor(() => (tcp.rx.streams.get(tcp.ssrcs.audio)?.decrypted ?? 0) > 20, 'audio decrypted over TCP', 30_000);
  const video = tcp.rx.streams.get(tcp.ssrcs.video)!;
  expect(video.decrypted).toBeGreaterThan(0);
  for (const s of tcp.rx.streams.values()) expect(s.authFailures).toBe(0);
  expect(tcp.rx.profile).toBe('AEAD_AES_128_GCM');

  // Its RTCP reaches the worker over the same connection: the receiver reports give each
  // consumer an RTT (from the SFU's sender reports the point read back, also over TCP).
  for (const consumer of tcp.consumers)
    await waitFor(
      async () =>
        ((await consumer.getStats()) as ms.ConsumerStat[]).some(
          (s) => s.type === 'outbound-rtp' && (s.roundTripTime ?? 0) > 0,
        ),
      `the TCP point's receiver reports at the ${consumer.kind} consumer`,
      20_000,
    );
  expect(tcp.rx.feedback!.counts.senderReports).toBeGreaterThan(0);
  const stats = (await tcp.transport.getStats())[0]!;
  expect(stats.bytesReceived).toBeGreaterThan(0);
  expect(stats.iceSelectedTuple?.protocol).toBe('tcp');
  // The worker's DTLS is still up: no record of the point's upset it after the handshake.
  expect(tcp.transport.dtlsState).toBe('connected');
});
