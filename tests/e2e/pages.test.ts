// The pages in Chromium under the server's CSP. A page whose module scripts fail to load
// (a network change during the load, a server restarting) loads itself again: the boot
// script (client/src/boot/boot.ts) sees the failed chunk, says so on the page and
// reloads, waiting longer each time, until a load starts the page; then it forgets the
// count. Before each reload it checks that the server answers for the page: a reload onto
// a server that is down or a proxy's 502 would end the tries. The chunks' failures are made
// by dropping their requests as the network would.
import { launchChromium } from '../helpers/browser';
import { ADMIN_ENV, prepareBriefing } from '../helpers/briefing';
import { startTestOrchestrator, type TestOrchestrator, waitFor } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';
import type { Browser, Page } from 'playwright-core';

const CHUNKS = '**/bundle/chunk-*.js';
const RELOADS_KEY = 'briefing.bootReloads';

/** Counts the page's document loads (the first one too). */
function countLoads(page: Page): { readonly n: number } {
  const loads = { n: 0 };
  page.on('request', (r) => {
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) loads.n++;
  });
  return loads;
}

const NOTE = '[data-testid=boot-retry]';
/** The boot script's note, in English. */
const noteText = (page: Page) => page.textContent(`${NOTE} .en`, { timeout: 10_000 });

describe('pages in Chromium', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let browser: Browser;
  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, ADMIN_ENV);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  test.each([
    ['/host', 'Bàn điều khiển chủ trì'],
    ['/monitor', 'Giám sát kết nối'],
  ])('%s renders its Vietnamese title under the CSP without errors', async (route, title) => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(`${m.text()} ${m.location().url}`));
    await page.goto(o.baseUrl + route);
    await page.waitForSelector('header h1');
    expect(await page.textContent('header h1')).toContain(title);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("a cancelled briefing's link says so, Vietnamese first, from the server's reason", async () => {
    const b = await prepareBriefing(o.baseUrl, ['HT-VQ']);
    const res = await fetch(`${o.baseUrl}/api/v1/sessions/${b.sessionId}/cancel`, {
      method: 'POST',
      headers: { Cookie: b.cookie },
    });
    expect(res.status).toBe(200);
    const page = await browser.newPage();
    await page.goto(b.links[0]!.url);
    await page.waitForSelector('[role=status]:has-text("Hội nghị này đã bị huỷ")', { timeout: 30_000 });
    expect(await page.textContent('[role=status]')).toContain('This briefing was cancelled');
    await page.close();
  }, 60_000);

  describe('whose scripts fail to load', () => {
    test.each([
      ['/host', 'header h1'],
      ['/monitor', 'header h1'],
      ['/join', 'html[data-point]'],
    ])(
      '%s loads itself again when its chunks are dropped during one load, and starts',
      async (route, startedSelector) => {
        const url = route === '/join' ? (await prepareBriefing(o.baseUrl, ['HT-VQ'])).links[0]!.url : o.baseUrl + route;
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        // The first load's chunk requests all fail, as a network change drops those in flight
        // (dropping only the <link rel="modulepreload"> one, Chromium asks again on import).
        const loads = countLoads(page);
        let dropped = 0;
        await page.route(CHUNKS, (req) => {
          if (loads.n > 1) return req.continue();
          dropped++;
          return req.abort('internetdisconnected');
        });
        await page.goto(url);
        await page.waitForSelector(startedSelector, { state: 'attached', timeout: 30_000 });
        expect(dropped).toBeGreaterThan(0);
        expect(loads.n).toBe(2);
        expect(await page.evaluate((k) => sessionStorage.getItem(k), RELOADS_KEY)).toBeNull();
        expect(await page.$('[data-testid=boot-retry]')).toBeNull();
        expect(errors).toEqual([]);
        await page.close();
      },
      60_000,
    );

    test('reloads only once the server answers for the page, and waits on while it does not', async () => {
      const page = await browser.newPage();
      const loads = countLoads(page);
      await page.route(CHUNKS, (req) => (loads.n > 1 ? req.continue() : req.abort('internetdisconnected')));
      const url = `${o.baseUrl}/host`;
      let checks = 0;
      await page.route(url, (req) => {
        if (req.request().method() !== 'HEAD') return req.continue();
        checks++;
        // The server down (restarting), then a proxy's 502, then the server back.
        if (checks === 1) return req.abort('connectionrefused');
        if (checks === 2)
          return req.fulfill({ status: 502, contentType: 'text/html', body: '<h1>502 Bad Gateway</h1>' });
        return req.continue();
      });
      await page.goto(url);
      expect(await noteText(page)).toMatch(/Reloading in 2 s/);
      // A failed check counts as a try: the note names the next, longer wait (4 s).
      await waitFor(async () => /Reloading in 4 s/.test((await noteText(page)) ?? ''), 'the next wait named');
      expect(loads.n).toBe(1);
      await page.waitForSelector('header h1', { state: 'attached', timeout: 40_000 });
      expect(checks).toBe(3);
      expect(loads.n).toBe(2);
      expect(await page.evaluate((k) => sessionStorage.getItem(k), RELOADS_KEY)).toBeNull();
      expect(await page.$(NOTE)).toBeNull();
      await page.close();
    }, 60_000);

    test('keeps trying, waiting longer each time, and starts once its chunks load', async () => {
      const page = await browser.newPage();
      await page.route(CHUNKS, (req) => req.abort('internetdisconnected'));
      const loads = countLoads(page);
      await page.goto(`${o.baseUrl}/host`);
      // Says so on the page, Vietnamese first.
      const note = await page.waitForSelector('[data-testid=boot-retry]', { timeout: 10_000 });
      expect(await note.textContent()).toContain('Tự động tải lại sau 2 giây');
      expect(await note.textContent()).toContain('Reloading in 2 s');
      // Waits of 2 s, then 4 s, then 8 s: within 10 s the first load and two or three more,
      // never a tight loop.
      await new Promise((res) => setTimeout(res, 10_000));
      expect(loads.n).toBeGreaterThanOrEqual(2);
      expect(loads.n).toBeLessThanOrEqual(4);
      expect(Number(await page.evaluate((k) => sessionStorage.getItem(k), RELOADS_KEY))).toBeGreaterThanOrEqual(1);
      // The network back: the next reload starts the page and forgets the count.
      await page.unroute(CHUNKS);
      await page.waitForSelector('header h1', { state: 'attached', timeout: 40_000 });
      expect(await page.evaluate((k) => sessionStorage.getItem(k), RELOADS_KEY)).toBeNull();
      await page.close();
    }, 90_000);
  });
});
