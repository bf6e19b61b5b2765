// The heart of the product in real Chromium with real WebRTC: the host page goes live
// from its fake camera and microphone, point pages decode the hall's video and audio,
// the caption follows the agenda, a point raises its hand and takes the floor and the
// others decode it, a point whose socket is cut resumes by itself; /metrics counts the
// room's consumers and bitrates. A page asks the browser for its capabilities before its
// socket connects, and says where it is (`<html data-point>`) up to the briefing's end.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, loggedInContext } from '../helpers/browser';
import { ADMIN_ENV, prepareBriefing, REFERENCE_AGENDA, type PreparedBriefing } from '../helpers/briefing';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';
import { decoding, mediaStats, openPointPage, pointPhase } from '../helpers/media';

const POINTS = ['HT-CX', 'HT-DT', 'HT-VQ'];

/** Notes when the page builds each RTCPeerConnection (performance.now(), as its join stages). */
function notePeerConnections(): void {
  const w = window as unknown as { __pcAt: number[] };
  w.__pcAt = [];
  window.RTCPeerConnection = new Proxy(window.RTCPeerConnection, {
    construct(target, args: ConstructorParameters<typeof RTCPeerConnection>) {
      w.__pcAt.push(performance.now());
      return Reflect.construct(target, args) as RTCPeerConnection;
    },
  });
}

describe('live broadcast in Chromium (real WebRTC)', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  let browser: Browser;
  let hostCtx: BrowserContext;
  let host: Page;
  const pages: Page[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, { ...ADMIN_ENV, MEDIASOUP_WORKERS: '2' });
    b = await prepareBriefing(o.baseUrl, POINTS);
    browser = await launchChromium();
    hostCtx = await loggedInContext(browser, o.baseUrl, b.cookie);
    host = await hostCtx.newPage();
    host.on('pageerror', (e) => errors.push(`host: ${e.message}`));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  test('the host goes live and every point decodes the hall', async () => {
    await host.goto(`${o.baseUrl}/host`);
    await host.click('[data-testid=sessions-view] button:has-text("Mở")');
    await host.click('button:has-text("Bàn điều khiển trực tiếp")');
    await host.waitForSelector('[data-testid=camera-select] option', { state: 'attached' });
    await host.click('[data-testid=go-live]');
    await host.waitForSelector('[data-testid=host-status]:has-text("ĐANG PHÁT TRỰC TIẾP")', { timeout: 20_000 });

    for (const link of b.links) {
      const ctx = await browser.newContext();
      await ctx.addInitScript(notePeerConnections);
      const page = await ctx.newPage();
      page.on('pageerror', (e) => errors.push(`${link.pointId}: ${e.message}`));
      await openPointPage(page, link.url, { until: 'receiving' });
      pages.push(page);
    }
    // The browser was asked for its capabilities (throwaway peer connections) before the
    // socket connected; after it, the device's load asked it nothing: the one peer
    // connection up to the transport's creation is the transport's own.
    for (const page of pages) {
      const { pcAt, stages } = await page.evaluate(() => {
        const w = window as unknown as { __pcAt: number[]; __joinStages: Record<string, number> };
        return { pcAt: w.__pcAt, stages: w.__joinStages };
      });
      expect(pcAt.filter((t) => t < stages.socket!).length).toBeGreaterThan(0);
      expect(pcAt.filter((t) => t >= stages.socket! && t <= stages.transport!)).toHaveLength(1);
    }
    for (const page of pages) {
      await decoding(page, 'host-camera');
      // The page starts muted (autoplay rules); the operator clicks once to hear the hall.
      await page.click('[data-testid=unmute]');
      const a = await decoding(page, 'host-mic', { what: 'energy' });
      expect(a.energy).toBeGreaterThan(0);
      expect(await page.textContent('[data-testid=caption]')).toContain(REFERENCE_AGENDA[0]!.title);
    }
    await host.waitForSelector(`[data-testid=points-connected]:has-text("${POINTS.length}/${POINTS.length}")`);
    // Video keeps flowing: frames decoded go on rising.
    const before = await decoding(pages[0]!, 'host-camera');
    await decoding(pages[0]!, 'host-camera', { above: before.frames + 10 });

    // /metrics says the room's media: a consumer per point and track, bits in and out.
    const series = (text: string, name: string) =>
      Number(
        text
          .split('\n')
          .find((l) => l.startsWith(`${name}{`) && l.includes(`session="${b.sessionId}"`))
          ?.split(' ')
          .pop() ?? NaN,
      );
    const text = await waitFor(
      async () => {
        const x = await (await fetch(`${o.baseUrl}/metrics`)).text();
        return series(x, 'briefing_bitrate_out_bits_per_second') > 0 ? x : undefined;
      },
      'bits sent to the points',
      30_000,
    );
    expect(series(text, 'briefing_consumers')).toBeGreaterThanOrEqual(2 * POINTS.length);
    expect(series(text, 'briefing_bitrate_in_bits_per_second')).toBeGreaterThan(0);
  }, 120_000);

  test('the host moves the agenda and the caption follows on every point', async () => {
    await host.click('[data-testid=agenda-next]');
    for (const page of pages) {
      await page.waitForSelector(`[data-testid=caption]:has-text("${REFERENCE_AGENDA[1]!.title}")`);
    }
  });

  test('a point raises its hand, gets the floor, and the others decode it', async () => {
    const speaker = pages[0]!;
    await speaker.click('[data-testid=raise-hand]');
    await host.click(`[data-testid=give-floor-${POINTS[0]}]`);
    await speaker.waitForSelector('[data-testid=on-air]:not(.hidden)', { timeout: 15_000 });
    for (const page of pages.slice(1)) await decoding(page, 'floor-camera');
    await host.waitForSelector('[data-testid=floor-holder]:has-text("Đang phát biểu")');
    await host.click('[data-testid=floor-revoke]');
    await speaker.waitForSelector('[data-testid=on-air].hidden', { state: 'attached' });
    await waitFor(
      async () => !(await mediaStats(pages[1]!)).some((s) => s.source === 'floor-camera'),
      'floor consumers gone',
    );
  }, 60_000);

  test('a point whose socket is cut resumes playback by itself', async () => {
    const page = pages[1]!;
    const old = await decoding(page, 'host-camera');
    await page.evaluate(() => {
      const w = window as unknown as { briefing: { socket: { io: { engine: { close(): void } } } } };
      w.briefing.socket.io.engine.close();
    });
    const resumed = await decoding(page, 'host-camera', { notId: old.id });
    expect(resumed.frames).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  }, 60_000);

  test('before the lobby opens a point sees the title, the time and a countdown', async () => {
    const early = await prepareBriefing(o.baseUrl, [POINTS[0]!], { startInMinutes: 120 });
    const page = await (await browser.newContext()).newPage();
    await page.goto(early.links[0]!.url);
    await page.waitForSelector('.session-title:has-text("quán triệt")');
    await page.waitForSelector('[data-testid=countdown]:has-text("Mở phòng chờ sau")');
    expect(await page.textContent('[data-testid=countdown] .clock')).toMatch(/^0?59:\d\d$|^1:00:00$/);
    expect(await page.textContent('header h1')).toContain('Huyện ủy Cẩm Xuyên');
    // No socket before the lobby opens: the page stays where its script left it.
    expect(await pointPhase(page)).toBe('starting');
    await page.close();
  });

  test('the briefing ends: every point closes its media and says it no longer receives', async () => {
    for (const page of pages) await page.waitForSelector('html[data-point="receiving"]', { state: 'attached' });
    const res = await fetch(`${o.baseUrl}/api/v1/sessions/${b.sessionId}/end`, {
      method: 'POST',
      headers: { cookie: b.cookie, origin: o.baseUrl },
    });
    expect(res.status).toBe(200);
    for (const page of pages) {
      await page.waitForSelector('[role=status]:has-text("Hội nghị đã kết thúc")');
      expect(await pointPhase(page)).toBe('connected');
    }
    expect(errors).toEqual([]);
  });
});
