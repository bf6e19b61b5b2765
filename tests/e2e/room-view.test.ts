// The room view in Chromium with three points and a live hall (real WebRTC): the monitor's
// point detail shows the room of that point only, the video wall shows every point's room
// with its name, district and status; the points watched say so on their screen, and what
// they receive of the hall does not change while they send. Closing the desk's pages
// stops the sending.
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, loggedInContext } from '../helpers/browser';
import { ADMIN_ENV, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { decoding, hostGoesLive, mediaStats } from '../helpers/media';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(180_000);

describe('room view and video wall (Chromium, three points)', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  let browser: Browser;
  let ids: string[];
  const points = new Map<string, Page>();
  const errors: string[] = [];

  const sent = (p: Page) =>
    p.evaluate(() => (window as unknown as { briefing: { roomView: { sent(): number } } }).briefing.roomView.sent());
  const noticeShown = (p: Page) =>
    p.$eval('[data-testid=room-view-on]', (n) => !n.classList.contains('hidden') && n.checkVisibility());
  /** Snapshots a canvas drew, and the size of the last one decoded. */
  const drawn = (p: Page, selector: string) =>
    p.$eval(selector, (c) => ({
      frames: Number((c as HTMLCanvasElement).dataset.frames),
      width: (c as HTMLCanvasElement).width,
    }));
  const hall = async (p: Page) => (await mediaStats(p)).find((s) => s.source === 'host-camera')!;

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, { ...ADMIN_ENV, MEDIASOUP_WORKERS: '1' });
    const all = await o.orchestrator.control.points.all();
    ids = all
      .filter((p) => p.level === 'commune')
      .slice(0, 3)
      .map((p) => p.id);
    b = await prepareBriefing(o.baseUrl, ids);
    browser = await launchChromium();
    const host = await (await loggedInContext(browser, o.baseUrl, b.cookie)).newPage();
    host.on('pageerror', (e) => errors.push(`host: ${e.message}`));
    await hostGoesLive(host, o.baseUrl);
    for (const link of b.links) {
      const page = await (await browser.newContext()).newPage();
      page.on('pageerror', (e) => errors.push(`${link.pointId}: ${e.message}`));
      await page.goto(link.url);
      points.set(link.pointId, page);
    }
    for (const page of points.values()) await decoding(page, 'host-camera');
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  test("the monitor's detail shows that point's room; the point says so and receives the same", async () => {
    const [a, others] = [ids[0]!, ids.slice(1)];
    const pa = points.get(a)!;
    const before = await hall(pa);
    const mode = await pa.inputValue('[data-testid=mode]');
    expect(await noticeShown(pa)).toBe(false);

    const monitor = await (await loggedInContext(browser, o.baseUrl, b.cookie)).newPage();
    monitor.on('pageerror', (e) => errors.push(`monitor: ${e.message}`));
    await monitor.goto(`${o.baseUrl}/monitor?session=${b.sessionId}`);
    await monitor.click(`[data-testid="tile-${a}"]`);
    const canvas = '[data-testid=point-detail] [data-testid=room-view-canvas]';
    await monitor.waitForSelector(canvas);
    await waitFor(async () => (await drawn(monitor, canvas)).frames >= 2, 'two snapshots on the detail', 60_000, 250);
    expect((await drawn(monitor, canvas)).width).toBe(320);
    expect(await noticeShown(pa)).toBe(true);
    // Only the point watched sends.
    for (const id of others) {
      expect(await sent(points.get(id)!)).toBe(0);
      expect(await noticeShown(points.get(id)!)).toBe(false);
    }

    // The hall on the point's screen: the same consumer, still decoding, in the same mode.
    const during = await hall(pa);
    expect(during.id).toBe(before.id);
    await decoding(pa, 'host-camera', { above: during.frames });
    expect(await pa.inputValue('[data-testid=mode]')).toBe(mode);

    // The detail closed: the point stops sending and says so.
    await monitor.click('[data-testid=point-detail] button.close');
    await pa.waitForFunction(
      () => document.querySelector('[data-testid=room-view-on]')?.classList.contains('hidden'),
      undefined,
      { timeout: 20_000 },
    );
    const stopped = await sent(pa);
    // Nothing follows for at least a snapshot period. The detail opened on another point
    // since: two snapshots of it, sent a period apart, mark that time as seen in the
    // browser, in which a page still sending would have sent one more.
    const next = others[0]!;
    const pn = points.get(next)!;
    await monitor.click(`[data-testid="tile-${next}"]`);
    await waitFor(async () => (await sent(pn)) >= 2, `two snapshots of ${next} after ${a} stopped`, 60_000, 250);
    expect(await sent(pa)).toBe(stopped);
    await monitor.close();
    expect(errors).toEqual([]);
  });

  test('the video wall shows every point: its room, name, district and status', async () => {
    const wall = await (await loggedInContext(browser, o.baseUrl, b.cookie)).newPage();
    await wall.setViewportSize({ width: 1366, height: 768 });
    wall.on('pageerror', (e) => errors.push(`wall: ${e.message}`));
    await wall.goto(`${o.baseUrl}/wall?session=${b.sessionId}&every=30`);
    await wall.waitForSelector('[data-testid=wall-cell] >> nth=2');
    expect(await wall.locator('[data-testid=wall-cell]').count()).toBe(3);
    expect(await wall.textContent('[data-testid=wall-page]')).toContain('1/1');
    const all = await o.orchestrator.control.points.all();
    for (const id of ids) {
      const cell = `[data-testid=wall-cell][data-point="${id}"]`;
      const p = all.find((x) => x.id === id)!;
      const district = all.find((x) => x.id === p.district)!;
      const label = (await wall.textContent(cell)) ?? '';
      expect(label).toContain(p.name);
      expect(label).toContain(district.name);
      // Its status as the point reports it: connected (good, or lower on a busy machine).
      expect(label).toMatch(/Tốt|Giảm chất lượng|Kém/);
      await waitFor(
        async () => (await drawn(wall, `${cell} [data-testid=room-view-canvas]`)).frames >= 1,
        `a snapshot of ${id} on the wall`,
        60_000,
        250,
      );
      expect(await noticeShown(points.get(id)!)).toBe(true);
    }
    // Keys page through (one page here: it stays), and the wall keeps showing every room.
    await wall.keyboard.press('ArrowRight');
    expect(await wall.textContent('[data-testid=wall-page]')).toContain('1/1');

    // The wall closed: every point stops.
    await wall.close();
    for (const page of points.values()) {
      await page.waitForFunction(
        () => document.querySelector('[data-testid=room-view-on]')?.classList.contains('hidden'),
        undefined,
        { timeout: 20_000 },
      );
    }
    expect(errors).toEqual([]);
  });

  test('the wall pages 16 at a time, by itself and by the keys, asking exactly the points shown', async () => {
    const all = await o.orchestrator.control.points.all();
    const twenty = all.filter((p) => p.level === 'commune').slice(3, 23);
    const big = await prepareBriefing(
      o.baseUrl,
      twenty.map((p) => p.id),
    );
    const redis = new Redis(r.url);
    const wall = await (await loggedInContext(browser, o.baseUrl, big.cookie)).newPage();
    wall.on('pageerror', (e) => errors.push(`wall: ${e.message}`));
    const shown = () =>
      wall.$$eval('[data-testid=wall-cell]', (cs) => cs.map((c) => c.getAttribute('data-point')!).sort());
    const asked = async () => Object.keys(await redis.hgetall(`roomview:${big.sessionId}`)).sort();
    try {
      // The page's own clock: it runs as the machine's, and the test can move it on.
      await wall.clock.install();
      await wall.goto(`${o.baseUrl}/wall?session=${big.sessionId}&every=5`);
      await wall.waitForSelector('[data-testid=wall-page]:has-text("1/2")');
      expect(await shown()).toHaveLength(16);
      await waitFor(
        async () => JSON.stringify(await asked()) === JSON.stringify(await shown()),
        'page 1 asked',
        10_000,
      );

      // By itself after 5 s: the last 4 points, and only they are asked.
      await wall.waitForSelector('[data-testid=wall-page]:has-text("2/2")', { timeout: 15_000 });
      expect(await shown()).toHaveLength(4);
      await waitFor(
        async () => JSON.stringify(await asked()) === JSON.stringify(await shown()),
        'page 2 asked',
        10_000,
      );

      // P pauses; the keys turn the page. Paused, the page stays past its time: the wall's
      // clock is moved on by more than a period, so its paging timer fires and is ignored.
      await wall.keyboard.press('p');
      await wall.keyboard.press('ArrowLeft');
      await wall.waitForSelector('[data-testid=wall-page]:has-text("1/2")');
      await waitFor(
        async () => JSON.stringify(await asked()) === JSON.stringify(await shown()),
        'page 1 asked again',
        10_000,
      );
      await wall.clock.runFor(6000);
      expect(await wall.textContent('[data-testid=wall-page]')).toContain('1/2');
      await wall.keyboard.press('PageDown');
      await wall.waitForSelector('[data-testid=wall-page]:has-text("2/2")');
      await waitFor(
        async () => JSON.stringify(await asked()) === JSON.stringify(await shown()),
        'page 2 again',
        10_000,
      );
    } finally {
      await wall.close();
      redis.disconnect();
    }
    expect(errors).toEqual([]);
  });
});
