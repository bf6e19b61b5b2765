// The point page's media watchdog in real Chromium with real WebRTC: one point's hall
// video is silenced on the server (its mediasoup consumer paused directly, behind the
// room's back, so no signalling tells the page) while its socket and ICE stay up: a point
// whose screen stays black while everything looks connected. The page must notice by
// itself, try an ICE restart, then rebuild its transport and consumers and decode again,
// without a reload or a disconnect; its health report carries the rebuild and the
// monitor's detail shows it.
// Without the watchdog the page stays black and this test fails.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { DEFAULT_WATCHDOG } from '../../client/src/point/media-watchdog';
import { WATCH_EVERY_MS } from '../../client/src/point/watch-media';
import type { PointDetail } from '../../server/contract/attendance';
import { launchChromium, loggedInContext } from '../helpers/browser';
import { ADMIN_ENV, connectSocket, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { decoding, hallFrames, hostGoesLive, markPage, notReloaded } from '../helpers/media';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

const STALLED = 'HT-CX';
const OTHER = 'HT-DT';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Ack<T = unknown> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };

describe('media watchdog on the point page (Chromium, real WebRTC)', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  let browser: Browser;
  let hostCtx: BrowserContext;
  let host: Page;
  const pages = new Map<string, Page>();
  const errors: string[] = [];
  let monitor: Socket;

  const live = () => o.orchestrator.realtime.broadcasts.get(b.sessionId);
  const svc = () => o.orchestrator.attendance.service;
  const watchdogOf = (page: Page) =>
    page.evaluate(() => {
      const w = window as unknown as { briefing: { watchdog: { rebuilds: number; stalls: number } } };
      return { rebuilds: w.briefing.watchdog.rebuilds, stalls: w.briefing.watchdog.stalls };
    });
  /** When the page's watchdog last judged its media, on the page's clock (performance.now). */
  const lastJudgedAt = (page: Page) =>
    page.evaluate(
      () => (window as unknown as { briefing: { watchdog: { lastJudgedAt?: number } } }).briefing.watchdog.lastJudgedAt,
    );

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, { ...ADMIN_ENV, MEDIASOUP_WORKERS: '1' });
    b = await prepareBriefing(o.baseUrl, [STALLED, OTHER]);
    browser = await launchChromium();
    hostCtx = await loggedInContext(browser, o.baseUrl, b.cookie);
    host = await hostCtx.newPage();
    host.on('pageerror', (e) => errors.push(`host: ${e.message}`));
    await hostGoesLive(host, o.baseUrl);
    for (const link of b.links) {
      const page = await (await browser.newContext()).newPage();
      page.on('pageerror', (e) => errors.push(`${link.pointId}: ${e.message}`));
      await page.goto(link.url);
      pages.set(link.pointId, page);
    }
    for (const page of pages.values()) {
      await decoding(page, 'host-camera');
      await markPage(page);
    }
    monitor = await connectSocket(o.baseUrl, '/monitor', { cookie: b.cookie });
    const watched = (await monitor.timeout(5000).emitWithAck('monitor:watch', { sessionId: b.sessionId })) as Ack;
    if (!watched.ok) throw new Error(`monitor:watch: ${watched.error.code}`);
  }, 120_000);

  afterAll(async () => {
    monitor?.close();
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  }, 60_000);

  test('hall video silenced on the server with the socket and ICE up: the page rebuilds its media by itself and decodes again', async () => {
    const page = pages.get(STALLED)!;
    const other = pages.get(OTHER)!;
    const before = await decoding(page, 'host-camera');
    const otherBefore = await decoding(other, 'host-camera');
    const disconnects = (await svc().ledger.presence(b.sessionId, STALLED)).disconnects;
    expect(await watchdogOf(page)).toEqual({ rebuilds: 0, stalls: 0 });

    // Pause the point's video consumer in mediasoup itself: media stops, nothing is signalled.
    const peer = (await live()).room!.getPeer(STALLED)!;
    const pc = [...peer.consumers.values()].find((c) => c.source === 'host-camera')!;
    expect(pc.consumer.id).toBe(before.id);
    await pc.consumer.pause();
    await sleep(3000);
    const stalledAt = await hallFrames(page);
    await sleep(1500);
    expect(await hallFrames(page)).toBeLessThanOrEqual(stalledAt + 2); // it really stopped

    // The watchdog: an ICE restart first (it does not help here), then a rebuild.
    const back = await decoding(page, 'host-camera', { notId: before.id, above: 10, timeoutMs: 45_000 });
    expect(back.id).not.toBe(before.id);
    const dog = await watchdogOf(page);
    expect(dog.rebuilds).toBe(1);
    expect(dog.stalls).toBeGreaterThanOrEqual(2);
    process.stderr.write(`[watchdog] stalled point decoding again on a new consumer: ${JSON.stringify(dog)}\n`);

    // No reload, no socket lost; the other point never noticed.
    expect(await notReloaded(page)).toBe(true);
    expect((await svc().ledger.presence(b.sessionId, STALLED)).disconnects).toBe(disconnects);
    const otherNow = await decoding(other, 'host-camera', { above: otherBefore.frames + 30 });
    expect(otherNow.id).toBe(otherBefore.id);
    expect(await watchdogOf(other)).toEqual({ rebuilds: 0, stalls: 0 });

    // The technicians see it: the point's detail has the rebuild count and the event.
    let lastDetail = '';
    const detail = await waitFor(
      async () => {
        const d = (await monitor
          .timeout(5000)
          .emitWithAck('monitor:detail', { sessionId: b.sessionId, pointId: STALLED })) as Ack<PointDetail>;
        if (!d.ok) throw new Error(`monitor:detail: ${d.error.code}`);
        lastDetail = `rebuilds in history ${JSON.stringify(d.data.history.slice(-3).map((h) => h.mediaRebuilds))}, events ${JSON.stringify(d.data.events.slice(-5))}`;
        return d.data.history.some((h) => h.mediaRebuilds === 1) &&
          d.data.events.some((e) => e.type === 'media' && e.detail.startsWith('watchdog'))
          ? d.data
          : undefined;
      },
      'the watchdog rebuild on the monitor',
      15_000,
      500,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last detail: ${lastDetail}`);
    });
    expect(detail.events.filter((e) => e.detail.startsWith('watchdog'))).toHaveLength(1);
    expect(errors).toEqual([]);
  }, 90_000);

  test('a hall camera paused by the host is left alone', async () => {
    const page = pages.get(OTHER)!;
    // A retry starts from a playing camera, should a failed attempt have left it paused.
    if (await page.$('[data-testid=paused]:not(.hidden)')) {
      await host.click('[data-testid=pause-video]');
      await page.waitForSelector('[data-testid=paused].hidden', { state: 'attached', timeout: 10_000 });
    }
    const before = await watchdogOf(page);
    // The host pauses the camera from the console: the SFU pauses the producer and the
    // pages are told (view.paused), so the silence is on purpose. However the test ends,
    // the camera is let go again.
    await host.click('[data-testid=pause-video]');
    try {
      await page.waitForSelector('[data-testid=paused]:not(.hidden)', { timeout: 10_000 });
      // Were the paused camera still watched, its last frame came at most a look before the
      // page was told, that look took it for progress, and the first look a stall's length
      // after that one would strike (a strike counts in `stalls`). The watchdog has had that
      // chance once it has judged the page's media past it, whatever the machine's load.
      const told = await page.evaluate(() => performance.now());
      const chance = told + 2 * WATCH_EVERY_MS + DEFAULT_WATCHDOG.stallMs + 1000;
      await waitFor(
        async () => ((await lastJudgedAt(page)) ?? 0) >= chance,
        'the watchdog to judge the media a stall after the pause',
        30_000,
        250,
      );
      expect(await watchdogOf(page)).toEqual(before);
    } finally {
      await host.click('[data-testid=pause-video]');
    }
    await page.waitForSelector('[data-testid=paused].hidden', { state: 'attached', timeout: 10_000 });
    await decoding(page, 'host-camera', { above: (await hallFrames(page)) + 10, timeoutMs: 20_000 });
    expect(await watchdogOf(page)).toEqual(before);
    expect(errors).toEqual([]);
    // Above its waits (10 + 30 + 10 + 20 s) and clicks: the camera is let go before it ends.
  }, 120_000);
});
