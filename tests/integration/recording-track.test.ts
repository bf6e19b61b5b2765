// One recorder (server/recording/ffmpeg-track.ts) on its own, with Debian's ffmpeg on both
// sides and no SFU: nothing but the publisher reaches its port, not even RTCP, so a
// silence is a real one. It must wait through it, and stop cleanly in it.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { FfmpegTrack, freeRtpPort, type SegmentFile } from '../../server/recording/ffmpeg-track';
import { tiedSpawn } from '../../server/platform/tied-spawn';

jest.setTimeout(60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a recorder through a long silence', () => {
  let dir: string;
  let publisher: ChildProcess | undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-track-'));
  });
  afterAll(() => {
    publisher?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('waits with no packet for longer than any timeout, then a stop lists the last segment', async () => {
    const ip = '127.0.0.1';
    const port = await freeRtpPort(ip);
    const track = await FfmpegTrack.start(
      {
        dir,
        tap: { kind: 'video', codec: { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 } },
        port,
        segmentSeconds: 2,
        ffmpegPath: 'ffmpeg',
        startNumber: 0,
        log: pino({ level: 'silent' }),
      },
      ip,
    );
    const segments: SegmentFile[] = [];
    const exits: unknown[] = [];
    track.on('segment', (s) => segments.push(s));
    track.on('exit', (e) => exits.push(e));

    publisher = tiedSpawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15'],
        ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-g', '15'],
        ...['-ssrc', '1111', '-payload_type', '101', '-f', 'rtp', `rtp://${ip}:${port}?pkt_size=1200`],
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 30_000;
    while (segments.length === 0 && Date.now() < deadline) await sleep(100);
    expect(segments.length).toBeGreaterThan(0);
    // Killed, so it sends no BYE: the recorder just stops hearing anything.
    publisher.kill('SIGKILL');
    // Longer than ffmpeg's own default wait on an SDP input (10 s).
    await sleep(12_000);
    expect([track.running, exits]).toEqual([true, []]);

    await track.stop();
    expect(exits).toEqual([{ expected: true, died: false, code: 0, signal: null }]);
    // Every segment listed by ffmpeg itself (a killed recorder leaves one unlisted: null).
    expect(segments.map((s) => s.seconds === null)).not.toContain(true);
    expect(segments.length).toBeGreaterThanOrEqual(2);
  });
});
