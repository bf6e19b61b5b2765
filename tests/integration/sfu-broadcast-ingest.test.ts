// The broadcast room's plain RTP ingest (a hall encoder sending RTP, no WebRTC): comedia
// PlainTransports on the origin producing the host's camera and mic, a simulcast ingest with
// a stream per SSRC, and ffmpeg's VP8 and Opus reaching the origin.
import type { ChildProcess } from 'node:child_process';
import { BroadcastRoom } from '../../sfu';
import { FFMPEG } from '../../scripts/loadgen/source';
import { requireInCi, toolMissing } from '../helpers/ci';
import { waitFor } from '../helpers/orchestrator';
import { expectSfuError, joinViewer, nextEvent, record, roomPerTest } from '../helpers/sfu';
import { tiedSpawn } from '../../server/platform/tied-spawn';

jest.setTimeout(30_000);

let room: BroadcastRoom;

roomPerTest((s) => (room = s.room));

describe('BroadcastRoom: plain RTP ingest', () => {
  test('comedia PlainTransports on the origin produce host camera and mic', async () => {
    const announced = record(room, 'newProducer');
    const ingest = await room.createPlainIngest({
      video: { ssrc: 22222222, payloadType: 101 },
      audio: { ssrc: 11111111, payloadType: 100 },
    });
    expect(ingest.video?.port).toBeGreaterThan(0);
    expect(ingest.video?.rtcpPort).toBeGreaterThan(0);
    expect(ingest.video?.ip).toBe('127.0.0.1');
    expect(announced.map((p) => [p.source, p.peerId])).toEqual([
      ['host-camera', ingest.ingestId],
      ['host-mic', ingest.ingestId],
    ]);
    const t = await joinViewer(room, 'v');
    const c = await room.consume('v', t.id, ingest.video!.producerId, room.rtpCapabilities);
    expect(c.type).toBe('simple');

    const closed = nextEvent(room, 'ingestClosed');
    room.closeIngest(ingest.ingestId);
    expect((await closed)[0]).toEqual({ ingestId: ingest.ingestId, reason: 'closed' });
    expect(room.listProducers()).toEqual([]);
  });

  test('a simulcast plain ingest: one host camera with a stream per SSRC, consumed as simulcast; VP8 only', async () => {
    const ingest = await room.createPlainIngest({
      video: { ssrc: 71, payloadType: 101, simulcastSsrcs: [72, 73] },
      audio: { ssrc: 74, payloadType: 100 },
      rtcpMux: true,
    });
    expect(ingest.video?.rtcpPort).toBeUndefined();
    const t = await joinViewer(room, 'v');
    const c = await room.consume('v', t.id, ingest.video!.producerId, room.rtpCapabilities);
    expect(c.type).toBe('simulcast');
    room.closeIngest(ingest.ingestId);
    // Declared layer bitrates: the layer policy judges a point's link by them, and the
    // consumer's top one is what mediasoup probes the link up to.
    const declared = await room.createPlainIngest({
      video: { ssrc: 75, payloadType: 101, simulcastSsrcs: [76, 77], layerBitratesBps: [150_000, 500_000, 1_200_000] },
    });
    const dc = await room.consume('v', t.id, declared.video!.producerId, room.rtpCapabilities);
    expect(dc.rtpParameters.encodings?.[0]?.maxBitrate).toBe(1_200_000);
    expect(room.getPeer('v')!.consumers.get(dc.id)!.layerBitratesBps).toEqual([150_000, 500_000, 1_200_000]);
    room.closeIngest(declared.ingestId);
    await expectSfuError(
      room.createPlainIngest({
        video: { ssrc: 78, payloadType: 101, simulcastSsrcs: [79], layerBitratesBps: [150_000] },
      }),
      'bad_request',
    );
    await expectSfuError(
      room.createPlainIngest({ video: { ssrc: 81, payloadType: 102, mimeType: 'video/H264', simulcastSsrcs: [82] } }),
      'bad_request',
    );
  });

  requireInCi(toolMissing(FFMPEG))('ffmpeg VP8 + Opus over RTP reaches the origin', async () => {
    const ingest = await room.createPlainIngest({
      video: { ssrc: 33333333, payloadType: 101 },
      audio: { ssrc: 44444444, payloadType: 100 },
    });
    const v = ingest.video!;
    const a = ingest.audio!;
    let ff: ChildProcess | undefined;
    try {
      ff = tiedSpawn(
        FFMPEG,
        [
          ...['-hide_banner', '-loglevel', 'error', '-re'],
          ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15', '-f', 'lavfi', '-i', 'sine=frequency=440'],
          ...['-t', '20', '-map', '0:v', '-c:v', 'libvpx', '-b:v', '300k', '-deadline', 'realtime', '-cpu-used', '8'],
          ...['-g', '15', '-ssrc', '33333333', '-payload_type', '101'],
          ...['-f', 'rtp', `rtp://${v.ip}:${v.port}?rtcpport=${v.rtcpPort}&pkt_size=1200`],
          ...['-map', '1:a', '-c:a', 'libopus', '-b:a', '48k', '-ssrc', '44444444', '-payload_type', '100'],
          ...['-f', 'rtp', `rtp://${a.ip}:${a.port}?rtcpport=${a.rtcpPort}&pkt_size=1200`],
        ],
        { stdio: 'ignore' },
      );
      await waitFor(
        async () => {
          const [sv, sa] = await Promise.all([
            room.getProducerStats(v.producerId),
            room.getProducerStats(a.producerId),
          ]);
          return (sv.streams[0]?.byteCount ?? 0) > 10_000 && (sa.streams[0]?.packetCount ?? 0) > 20;
        },
        'RTP from ffmpeg at the origin',
        15_000,
      );
      const stats = await room.getProducerStats(v.producerId);
      expect(stats.streams[0]!.ssrc).toBe(33333333);
      expect(stats.source).toBe('host-camera');
    } finally {
      ff?.kill('SIGKILL');
    }
  });
});
