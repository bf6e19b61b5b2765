// The hall from an RTMP or SRT encoder as a point sees it: ffmpeg sends a 1280x720 test
// pattern and a tone on loopback (H.264 + AAC, in FLV over RTMP or MPEG-TS over SRT), the
// session's listener transcodes it to three VP8 simulcast layers and Opus, and Chromium
// point pages decode the picture and hear the sound: a point in full mode climbs to the
// top layer, 720 lines, and keeps decoding it; a point in low mode gets the lowest, 180.
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { freePort, freeUdpPort } from '../../scripts/loadgen/http';
import { tiedSpawn } from '../../server/platform/tied-spawn';
import { ask } from '../helpers/attendance';
import { launchChromium } from '../helpers/browser';
import { ADMIN_ENV, connectSocket, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { encoderOutput, type EncoderProtocol } from '../helpers/hall-feed';
import { decoding, mediaStats, openPointPage } from '../helpers/media';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

/**
 * ffmpeg as an encoder: an H.264 + AAC 1280x720 test pattern and tone, in real time, until
 * killed. `url` is the listener's (see encoderOutput).
 */
function encoderArgs(protocol: EncoderProtocol, url: string | null): string[] {
  const out = encoderOutput(protocol, url);
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re'],
    ...['-f', 'lavfi', '-i', 'testsrc=size=1280x720:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p'],
    ...['-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '1250k'],
    ...['-c:a', 'aac', '-ar', '44100', ...out],
  ];
}

/** The height of the hall camera the page decodes now (0 before a frame). */
const height = async (page: Page) =>
  (await mediaStats(page)).find((s) => s.source === 'host-camera' && s.frames > 0)?.height ?? 0;

describe('RTMP and SRT ingest decoded by Chromium points', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  let host: Socket;
  let browser: Browser;
  let enc: ChildProcess | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, {
      ...ADMIN_ENV,
      RTMP_INGEST_PORTS: await freePort().then((p) => `${p}-${p}`),
      SRT_INGEST_PORTS: await freeUdpPort().then((p) => `${p}-${p}`),
      INGEST_LISTEN_IP: '127.0.0.1',
    });
    b = await prepareBriefing(o.baseUrl, ['HT-CX', 'HT-DT']);
    host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    await ask(host, 'host:attach', { sessionId: b.sessionId });
    browser = await launchChromium();
  }, 60_000);
  afterEach(async () => {
    enc?.kill('SIGKILL');
    enc = undefined;
    for (const c of contexts.splice(0)) await c.close();
    // Each test (and a retried one) starts from closed listeners and no ingest.
    for (const request of ['ingest:rtmp', 'ingest:srt'])
      await ask(host, request, { open: false }).catch(() => undefined);
  });
  afterAll(async () => {
    enc?.kill('SIGKILL');
    host?.close();
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  const newPage = async () => {
    const context = await browser.newContext();
    contexts.push(context);
    return context.newPage();
  };

  test.each(['rtmp', 'srt'] as const)(
    '%s: points decode the transcoded layers, the top (720) in full and the lowest in low, and hear the tone',
    async (protocol) => {
      const request = `ingest:${protocol}`;
      const { url } = await ask<{ url: string | null }>(host, request, { open: true });
      expect(url).toMatch(new RegExp(`^${protocol}://`));
      await waitFor(
        async () => {
          // The listener may still be starting (or the previous one still closing): the
          // encoder retries until it connects.
          if (!enc || enc.exitCode !== null)
            enc = tiedSpawn('ffmpeg', encoderArgs(protocol, url), { stdio: 'ignore', cwd: os.tmpdir() });
          return (await ask<{ state: string }>(host, request, {})).state === 'receiving';
        },
        'the encoder to be received',
        30_000,
        500,
      );
      const page = await newPage();
      await page.goto(b.links[0]!.url);
      const first = await decoding(page, 'host-camera', { timeoutMs: 30_000 });
      await decoding(page, 'host-camera', { above: first.frames + 25, timeoutMs: 30_000 });
      await page.click('[data-testid=unmute]');
      await decoding(page, 'host-mic', { what: 'energy', timeoutMs: 30_000 });
      // Full mode: mediasoup climbs layer by layer as its estimate of the link grows, to
      // the top layer, the encoder's 1280x720, and the point keeps decoding it: 50 more
      // frames counted while the picture is 720 lines high (on a busy machine the estimate
      // may dip a layer for a moment; frames decoded then do not count).
      await waitFor(async () => (await height(page)) === 720, 'the full point to decode the top layer', 60_000);
      let at720 = 0;
      let last: { id: string; frames: number } | undefined;
      await waitFor(
        async () => {
          const s = (await mediaStats(page)).find((m) => m.source === 'host-camera' && m.frames > 0);
          if (s?.height === 720 && last?.id === s.id) at720 += Math.max(0, s.frames - last.frames);
          last = s?.height === 720 ? { id: s.id, frames: s.frames } : undefined;
          return at720 >= 50;
        },
        'the full point to decode 50 more frames at 720 lines',
        30_000,
      );

      // A point in low mode gets the lowest layer of the same hall: 180 lines, as the console's.
      await page.context().close();
      const low = await newPage();
      // Connected before the mode is chosen, as a technician's choice is made on a page that is up.
      await openPointPage(low, b.links[1]!.url);
      await low.selectOption('[data-testid=mode]', 'low');
      await waitFor(async () => (await height(low)) === 180, 'the low point to decode 180 lines', 30_000);
      const small = await decoding(low, 'host-camera', { timeoutMs: 30_000 });
      await decoding(low, 'host-camera', { above: small.frames + 25, timeoutMs: 30_000 });
      expect(await height(low)).toBe(180);
    },
    180_000,
  );
});
