// The hall's camera recorded at its top simulcast layer, with real components: the host
// publishes the camera over a real WebRTC transport from Node (werift) in three layers,
// each its own SSRC and picture size, encoded by ffmpeg; a mediasoup worker receives all
// three; the recorder (ffmpeg) writes what its tap sends; ffprobe decodes every frame of
// the recorded segments and reads its size.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import { ask } from '../helpers/attendance';
import { connectSocket, prepareBriefing } from '../helpers/briefing';
import { manifestOf, recordingServer, segmentsOf } from '../helpers/recording';
import { waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { sendFromNode, type Sending, type VideoLayer } from '../helpers/webrtc-send';

jest.setTimeout(180_000);

const LAYERS: VideoLayer[] = [
  { ssrc: 31110001, width: 160, height: 90, bitrate: 100 },
  { ssrc: 31110002, width: 320, height: 180, bitrate: 250 },
  { ssrc: 31110003, width: 640, height: 360, bitrate: 600 },
];

/** The size of every decoded video frame of a file, as ffprobe reads them. */
function frameSizes(file: string): string[] {
  const r = spawnSync(
    'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=width,height', '-of', 'csv=p=0', file],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`ffprobe failed on ${file}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().replace(/,$/, ''))
    .filter(Boolean)
    .map((l) => l.replace(',', 'x'));
}

describe("the hall's simulcast camera recorded at its top layer (real worker, WebRTC from Node, ffmpeg)", () => {
  let o: TestOrchestrator;
  let dir: string;
  let sending: Sending | undefined;
  const sockets: Socket[] = [];

  recordingServer(
    'simulcast',
    {},
    (s) => ({ o, dir } = s),
    async () => {
      await sending?.close();
      for (const s of sockets) s.close();
    },
  );

  test('every recorded frame of the hall camera has the top layer size while all three layers arrive', async () => {
    const b = await prepareBriefing(o.baseUrl, ['HT-CX']);
    const host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    sockets.push(host);
    await ask(host, 'host:attach', { sessionId: b.sessionId });
    sending = await sendFromNode(host, {
      video: { source: 'host-camera', payloadType: 101, layers: LAYERS },
      audio: { source: 'host-mic', payloadType: 100, ssrc: 31110004 },
    });
    const [cameraId] = sending.producerIds;

    // All three layers reach the SFU before anything is recorded: the recorder has a choice.
    const room = await (await o.orchestrator.realtime.broadcasts.get(b.sessionId)).requireRoom();
    const streams = await waitFor(
      async () => {
        const s = (await room.getProducerStats(cameraId!)).streams;
        return s.length === LAYERS.length && s.every((x) => x.packetCount > 30) ? s : undefined;
      },
      'the three layers at the SFU',
      30_000,
      250,
    );
    expect(streams.map((s) => s.ssrc).sort()).toEqual(LAYERS.map((l) => l.ssrc).sort());

    await ask(host, 'session:goLive');
    const manifest = () => manifestOf(dir, b.sessionId);
    // Three complete segments: the recording has run through key frames of every layer.
    await waitFor(
      () => segmentsOf(dir, b.sessionId, 'host-camera') >= 3,
      'three recorded segments of the hall camera',
      60_000,
    );
    await ask(host, 'session:end');
    const m = await waitFor(() => (manifest()?.state === 'stopped' ? manifest() : undefined), 'the final manifest');
    const track = m.tracks.find((t) => t.source === 'host-camera')!;
    expect(track.producerId).toBe(cameraId);

    const top = LAYERS[LAYERS.length - 1]!;
    const [first, ...rest] = track.segments.map((s) => frameSizes(path.join(dir, b.sessionId, s.file)));
    // From the second segment on, every frame is the top layer's, none of a lower layer.
    // (The first may open on a lower one if the top layer had a moment without packets as
    // the recorder started; the consumer then climbs at the top layer's next key frame.)
    expect(rest.flat().length).toBeGreaterThan(15);
    expect([...new Set(rest.flat())]).toEqual([`${top.width}x${top.height}`]);
    expect(first!.at(-1)).toBe(`${top.width}x${top.height}`);
  });
});
