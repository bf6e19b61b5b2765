// The hall from an RTMP encoder as a point sees it: ffmpeg sends a test pattern and a tone
// over RTMP on loopback (H.264 + AAC in FLV), the session's listener transcodes it to
// three VP8 simulcast layers and Opus, and Chromium point pages decode the picture (a
// point in full mode a layer above the lowest, one in low mode the lowest, 180 lines) and
// hear the sound.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Browser } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { ask } from '../helpers/attendance';
import { launchChromium } from '../helpers/browser';
import { ADMIN_ENV, connectSocket, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { decoding, mediaStats } from '../helpers/media';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

describe('RTMP ingest decoded by Chromium points', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  let host: Socket;
  let browser: Browser;
  let enc: ChildProcess | undefined;

  beforeAll(async () => {
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const { port } = srv.address() as net.AddressInfo;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, {
      ...ADMIN_ENV,
      RTMP_INGEST_PORTS: `${port}-${port}`,
      INGEST_LISTEN_IP: '127.0.0.1',
    });
    b = await prepareBriefing(o.baseUrl, ['HT-CX', 'HT-DT']);
    host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    await ask(host, 'host:attach', { sessionId: b.sessionId });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    enc?.kill('SIGKILL');
    host?.close();
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  test('points decode the transcoded layers, full and low, and hear the tone', async () => {
    const { url } = await ask<{ url: string }>(host, 'ingest:rtmp', { open: true });
    const args = [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re'],
      ...['-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p'],
      ...['-c:a', 'aac', '-ar', '44100', '-f', 'flv', url],
    ];
    await waitFor(
      async () => {
        // The listener may still be starting: the encoder retries until it connects.
        if (!enc || enc.exitCode !== null) enc = spawn('ffmpeg', args, { stdio: 'ignore' });
        return (await ask<{ state: string }>(host, 'ingest:rtmp', {})).state === 'receiving';
      },
      'the encoder to be received',
      30_000,
      500,
    );
    const page = await (await browser.newContext()).newPage();
    await page.goto(b.links[0]!.url);
    const first = await decoding(page, 'host-camera', { timeoutMs: 30_000 });
    await decoding(page, 'host-camera', { above: first.frames + 25, timeoutMs: 30_000 });
    await page.click('[data-testid=unmute]');
    await decoding(page, 'host-mic', { what: 'energy', timeoutMs: 30_000 });
    // Full mode: mediasoup climbs above the lowest layer as its estimate of the link grows
    // (to 360 lines: the encoder's 640x360 is not scaled up for the top layer).
    const height = async (p: typeof page) =>
      (await mediaStats(p)).find((s) => s.source === 'host-camera' && s.frames > 0)?.height ?? 0;
    const full = await waitFor(
      async () => ((await height(page)) >= 360 ? height(page) : undefined),
      'the full point to decode a layer above the lowest',
      60_000,
    );
    expect(full).toBe(360);

    // A point in low mode gets a lower layer of the same hall.
    const low = await (await browser.newContext()).newPage();
    await low.goto(b.links[1]!.url);
    await low.selectOption('[data-testid=mode]', 'low');
    // The lowest layer, 180 lines as the console's.
    await waitFor(async () => (await height(low)) === 180, 'the low point to decode 180 lines', 30_000);
    const small = await decoding(low, 'host-camera', { timeoutMs: 30_000 });
    await decoding(low, 'host-camera', { above: small.frames + 25, timeoutMs: 30_000 });
    expect(await height(low)).toBe(180);
  }, 180_000);
});
