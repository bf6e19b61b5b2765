// The pages in Chromium under the server's CSP. A page whose module scripts fail to load
// (a network change during the load, a server restarting) loads itself again: the boot
// script (client/src/boot/boot.ts) sees the failed chunk, says so on the page and
// reloads, waiting longer each time, until a load starts the page; then it forgets the
// count. Before each reload it checks that the server answers for the page and its entry
// bundle: a reload onto a server that is down or a proxy's 502 would end the tries, one onto
// bundles that do not answer would fail again. A load held by a file that never arrives
// counts as failed once nothing has arrived for a minute, and is stopped, the held request
// with it, before the reload; should its page start all the same before the try, it is left
// alone, and a part of it that fails later reloads it. A point page that has started but
// whose mediasoup-client chunk (imported later) fails says so and is reloaded the same way:
// the browser keeps that failed fetch for the page's lifetime (the host console's, live or
// going live: tests/e2e/host-console-live.test.ts). The failures are made by dropping
// requests as the network would, answering 404 as after a deploy, or never answering.
import { RELOAD_GLOBAL, STARTED_GLOBAL } from '../../client/src/boot/marker';
import { prepareBriefing } from '../helpers/briefing';
import { type TestOrchestrator, waitFor } from '../helpers/orchestrator';
import { answer, countLoads, NOTE, noteText, RELOADS_KEY, usePagesInChromium } from '../helpers/page-loads';
import type { Browser, Page, Request, Route } from 'playwright-core';

const CHUNKS = '**/bundle/chunk-*.js';

/**
 * The count of tries the boot script keeps (sessionStorage, or `window.name` where the
 * browser refuses storage), read on the document throughWait marked: else undefined.
 */
const keptOnSameDocument = (page: Page, where: 'storage' | 'name') =>
  page.evaluate(
    ([k, w]) =>
      (window as unknown as { __sameDocument?: boolean }).__sameDocument
        ? String(w === 'name' ? window.name : sessionStorage.getItem(k))
        : undefined,
    [RELOADS_KEY, where] as const,
  );

/** A wait the boot script has set and not yet ended, on the page's clock. */
type BootWait = { at: number; ms: number };

/**
 * Installs Playwright's clock on the page, stopped before the page loads: the page's time
 * moves only as the test moves it. Each document keeps the boot script's pending timers of
 * a second or more (its waits, and a check's time limit until cleared): when each was set
 * and for how long.
 */
async function installClock(page: Page): Promise<void> {
  await page.clock.install({ time: 0 });
  await page.clock.pauseAt(30_000);
  await page.addInitScript(() => {
    const pending = new Map<number, { at: number; ms: number }>();
    Reflect.set(window, '__bootWaits', pending);
    const set = window.setTimeout.bind(window);
    const clear = window.clearTimeout.bind(window);
    window.setTimeout = ((fn: () => void, ms = 0, ...args: unknown[]) => {
      if (ms < 1000 || !new Error().stack?.includes('/bundle/boot.js')) return set(fn, ms, ...args);
      const at = Date.now();
      const id = set(() => {
        pending.delete(id);
        fn();
      }, ms);
      pending.set(id, { at, ms });
      return id;
    }) as typeof window.setTimeout;
    window.clearTimeout = ((id?: number) => {
      if (id !== undefined) pending.delete(id);
      clear(id);
    }) as typeof window.clearTimeout;
  });
}

/**
 * Takes the page (installClock before its first load) through the boot script's wait
 * before its next try, once the note has named it (`seconds`, ±20 %), on the document whose
 * kept count is `kept` (String of sessionStorage's, or `window.name`): the wait the page set
 * must be 80-120 % of it; the page's clock is moved to 1 ms short of 80 % after the wait was
 * set, where the try, which first keeps the next count, has not begun on this document;
 * then on past 120 %. `last`: the page's time flows again after (the page must run).
 */
async function throughWait(
  page: Page,
  seconds: number,
  kept: string,
  { where = 'storage', last = false }: { where?: 'storage' | 'name'; last?: boolean } = {},
): Promise<void> {
  const seen = await page.evaluate(
    ([k, w]) => {
      const win = window as unknown as { __sameDocument?: boolean; __bootWaits: Map<number, BootWait> };
      win.__sameDocument = true;
      return {
        waits: [...win.__bootWaits.values()],
        now: Date.now(),
        kept: String(w === 'name' ? window.name : sessionStorage.getItem(k)),
      };
    },
    [RELOADS_KEY, where] as const,
  );
  expect(seen.kept).toBe(kept);
  expect(seen.waits).toHaveLength(1);
  const { at, ms } = seen.waits[0]!;
  expect(ms).toBeGreaterThanOrEqual(seconds * 800);
  expect(ms).toBeLessThanOrEqual(seconds * 1200);
  const early = at + seconds * 800 - 1 - seen.now;
  expect(early).toBeGreaterThanOrEqual(0);
  await page.clock.runFor(early);
  expect(await keptOnSameDocument(page, where)).toBe(kept);
  await page.clock.runFor(seconds * 400 + 2);
  if (last) await page.clock.resume();
}

describe('pages in Chromium', () => {
  let o: TestOrchestrator;
  let browser: Browser;
  const track = usePagesInChromium((s) => ({ o, browser } = s));
  const newPage = async (): Promise<Page> => track(await browser.newPage());

  test.each([
    ['/host', 'Bàn điều khiển chủ trì'],
    ['/monitor', 'Giám sát kết nối'],
  ])('%s renders its Vietnamese title under the CSP without errors', async (route, title) => {
    const page = await newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(`${m.text()} ${m.location().url}`));
    await page.goto(o.baseUrl + route);
    await page.waitForSelector('header h1');
    expect(await page.textContent('header h1')).toContain(title);
    // The English beside the Vietnamese is marked as such, for screen readers and hyphenation.
    expect(await page.getAttribute('html', 'lang')).toBe('vi');
    const en = await page.$$eval('.en', (els) => els.map((e) => e.getAttribute('lang')));
    expect(en.length).toBeGreaterThan(1);
    expect(en.filter((lang) => lang !== 'en')).toEqual([]);
    expect(errors).toEqual([]);
  });

  test("a cancelled briefing's link says so, Vietnamese first, from the server's reason", async () => {
    const b = await prepareBriefing(o.baseUrl, ['HT-VQ']);
    const res = await fetch(`${o.baseUrl}/api/v1/sessions/${b.sessionId}/cancel`, {
      method: 'POST',
      headers: { Cookie: b.cookie },
    });
    expect(res.status).toBe(200);
    const page = await newPage();
    await page.goto(b.links[0]!.url);
    await page.waitForSelector('[role=status]:has-text("Hội nghị này đã bị huỷ")', { timeout: 30_000 });
    expect(await page.textContent('[role=status]')).toContain('This briefing was cancelled');
  }, 60_000);

  describe('whose scripts fail to load', () => {
    test.each([
      ['/host', 'dropped', 'header h1'],
      ['/monitor', 'dropped', 'header h1'],
      ['/join', 'dropped', 'html[data-point]'],
      ['/host', 'answered 404 (a deploy in between)', 'header h1'],
    ] as const)(
      '%s loads itself again when its chunks are %s during one load, and starts',
      async (route, how, startedSelector) => {
        const url = route === '/join' ? (await prepareBriefing(o.baseUrl, ['HT-VQ'])).links[0]!.url : o.baseUrl + route;
        const page = await newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        // The first load's chunk requests all fail, as a network change drops those in flight
        // (dropping only the <link rel="modulepreload"> one, Chromium asks again on import),
        // or as a server answers for chunks a deploy has removed.
        const loads = countLoads(page);
        let failed = 0;
        await page.route(CHUNKS, (req) =>
          answer(() => {
            if (loads.n > 1) return req.continue();
            failed++;
            if (how === 'dropped') return req.abort('internetdisconnected');
            return req.fulfill({ status: 404, contentType: 'text/plain', body: 'Not Found' });
          }),
        );
        await installClock(page);
        await page.goto(url);
        expect(await noteText(page)).toMatch(/Reloading in 2 s/);
        await throughWait(page, 2, 'null', { last: true });
        await page.waitForSelector(startedSelector, { state: 'attached', timeout: 30_000 });
        expect(failed).toBeGreaterThan(0);
        expect(loads.n).toBe(2);
        expect(await page.evaluate((k) => sessionStorage.getItem(k), RELOADS_KEY)).toBeNull();
        expect(await page.$(NOTE)).toBeNull();
        expect(errors).toEqual([]);
      },
      60_000,
    );

    test('a point page whose mediasoup-client chunk fails says so, reloads with longer waits, and loads it', async () => {
      const { links } = await prepareBriefing(o.baseUrl, ['HT-VQ']);
      const page = await newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const loads = countLoads(page);
      // The page starts without this chunk (it is imported when the media is first
      // needed); its fetches fail during the first two loads, the preload's and the
      // import's alike, as after a network change that the browser remembers.
      let failed = 0;
      await page.route(CHUNKS, (req) =>
        answer(async () => {
          const res = await req.fetch({ maxRetries: 2 });
          const body = await res.text();
          if (loads.n > 2 || !body.includes('detectDeviceImpl')) return req.fulfill({ response: res, body });
          failed++;
          return req.abort('internetdisconnected');
        }),
      );
      await installClock(page);
      // The page runs, its time moved on 100 ms a look, until it says so.
      const runUntil = (what: string, done: () => Promise<boolean>) =>
        waitFor(
          async () => {
            await page.clock.runFor(100).catch(() => undefined); // the document may be going
            return done();
          },
          what,
          30_000,
        );
      await page.goto(links[0]!.url);
      await runUntil('the failure said', async () => (await page.$(`${NOTE}`)) !== null);
      await page.waitForSelector('.status.bad:has-text("Could not load the media component, reloading")');
      expect(await page.textContent('.status.bad .vi')).toContain('Không tải được thành phần hình ảnh');
      // The boot script's reload: its note, its waits (about 2 s, then 4 s: the count of the
      // load that started the page is carried on), then a load whose chunk arrives.
      expect(await noteText(page)).toMatch(/Reloading in 2 s/);
      await throughWait(page, 2, 'null');
      await waitFor(() => loads.n >= 2, 'a second load', 20_000);
      await runUntil('the note again', async () => (await page.$(`${NOTE}`)) !== null);
      expect(await noteText(page)).toMatch(/Reloading in [345] s/);
      await throughWait(page, 4, 'null', { last: true });
      await waitFor(() => loads.n >= 3, 'a third load', 20_000);
      await waitFor(
        () =>
          page.evaluate(
            () => (window as unknown as { briefing?: { receiver: { device?: unknown } } }).briefing?.receiver.device,
          ),
        'the media component loaded',
        30_000,
      );
      expect(failed).toBeGreaterThan(1);
      expect(loads.n).toBe(3);
      expect(await page.$('.status.bad')).toBeNull();
      expect(errors).toEqual([]);
      // A page that runs with no such failure forgets the count.
      expect(await page.evaluate((k) => sessionStorage.getItem(k), RELOADS_KEY)).toBeNull();
    }, 90_000);

    test('a chunk that fails as it runs, not as it loads, reloads nothing', async () => {
      const page = await newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const loads = countLoads(page);
      await page.route(CHUNKS, (req) =>
        answer(async () => {
          const body = await (await req.fetch({ maxRetries: 2 })).text();
          await req.fulfill({ contentType: 'text/javascript', body: `throw new Error('chunk threw');\n${body}` });
        }),
      );
      await page.goto(`${o.baseUrl}/host`);
      await page.waitForLoadState('load');
      // The note would be on the page by now: it is appended as the document's load ends.
      expect(await page.$(NOTE)).toBeNull();
      await waitFor(() => errors.length > 0, "the chunk's error");
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain('chunk threw');
      expect(loads.n).toBe(1);
    }, 60_000);

    const checkFailures: [string, string, (req: Route, n: number) => Promise<void>][] = [
      // The server down (restarting), then a proxy's 502, then the server back.
      [
        'the page',
        '/host',
        (req, n) =>
          n === 1
            ? req.abort('connectionrefused')
            : req.fulfill({ status: 502, contentType: 'text/html', body: '<h1>502 Bad Gateway</h1>' }),
      ],
      // The page answered but not its bundles: a client being rebuilt (503), then a proxy's
      // 502, then the bundles back.
      [
        "the page's entry bundle",
        '/bundle/host.js',
        (req, n) => req.fulfill({ status: n === 1 ? 503 : 502, contentType: 'text/plain', body: '' }),
      ],
    ];
    test.each(checkFailures)(
      'reloads only once the server answers for %s, and waits on while it does not',
      async (_what, path, fail) => {
        const page = await newPage();
        const loads = countLoads(page);
        await page.route(CHUNKS, (req) =>
          answer(() => (loads.n > 1 ? req.continue() : req.abort('internetdisconnected'))),
        );
        let checks = 0;
        await page.route(o.baseUrl + path, (req) =>
          answer(() => {
            if (req.request().method() !== 'HEAD') return req.continue();
            checks++;
            return checks <= 2 ? fail(req, checks) : req.continue();
          }),
        );
        await installClock(page);
        await page.goto(`${o.baseUrl}/host`);
        expect(await noteText(page)).toMatch(/Reloading in 2 s/);
        await throughWait(page, 2, 'null');
        // A failed check counts as a try: the note names the next, longer wait (4 s ±20 %).
        await waitFor(async () => /Reloading in [345] s/.test((await noteText(page)) ?? ''), 'the next wait named');
        expect(loads.n).toBe(1);
        await throughWait(page, 4, '1');
        // The second check fails too: the next wait, 8 s ±20 %, then a check that passes.
        await waitFor(
          async () => /Reloading in ([6-9]|10) s/.test((await noteText(page)) ?? ''),
          'the third wait named',
        );
        expect(checks).toBe(2);
        expect(loads.n).toBe(1);
        await throughWait(page, 8, '2', { last: true });
        await page.waitForSelector('header h1', { state: 'attached', timeout: 40_000 });
        expect(checks).toBe(3);
        expect(loads.n).toBe(2);
        expect(await page.evaluate((k) => sessionStorage.getItem(k), RELOADS_KEY)).toBeNull();
        expect(await page.$(NOTE)).toBeNull();
      },
      60_000,
    );

    test('a load held by its entry, which never arrives, counts as failed once nothing arrives for 60 s', async () => {
      const page = await newPage();
      // The page's clock, moved on by the test only: the boot script measures the stall by it.
      await page.clock.install({ time: 0 });
      await page.clock.pauseAt(30_000);
      const loads = countLoads(page);
      // The first load's GET of the page's entry, which every load needs, is never answered
      // (the checks' HEAD go through).
      const held: Request[] = [];
      await page.route('**/bundle/host.js', (req) =>
        answer(() => {
          if (loads.n > 1 || req.request().method() !== 'GET') return req.continue();
          held.push(req.request());
        }),
      );
      const ended: Request[] = [];
      page.on('requestfailed', (r) => ended.push(r));
      await page.goto(`${o.baseUrl}/host`, { waitUntil: 'commit' });
      await waitFor(() => held.length > 0, 'the entry held');
      let advanced = 0;
      const runFor = async (ms: number) => {
        advanced += ms;
        await page.clock.runFor(ms);
      };
      // 50 s with nothing arriving is not yet a stall.
      await page.waitForFunction(() => document.readyState === 'interactive');
      await runFor(50_000);
      expect(await page.$(NOTE)).toBeNull();
      // Time moves on until the note says the page will try again (the other files of the
      // page arrive meanwhile, each putting the stall off): 60 s after the last, give or take
      // the 5 s between looks.
      await waitFor(async () => {
        await runFor(5000);
        return (await page.$(NOTE)) !== null;
      }, 'the note');
      expect(advanced).toBeLessThanOrEqual(50_000 + 60_000 + 5000);
      // The stalled load is ended at once (the page's time stands still), its held request
      // with it: it cannot start the page after the note, nor hold a connection the checks need.
      await waitFor(() => ended.includes(held[0]!), 'the held request ended');
      expect(loads.n).toBe(1);
      await page.clock.runFor(100); // the note's text is put in on the next turn
      expect(await noteText(page)).toMatch(/Reloading in 2 s/);
      await waitFor(async () => {
        await page.clock.runFor(1000).catch(() => undefined); // the document may be going
        return loads.n > 1;
      }, 'the reload');
      await page.waitForSelector('header h1', { state: 'attached', timeout: 30_000 });
      expect(loads.n).toBe(2);
      expect(held).toHaveLength(1);
    }, 90_000);

    test('a stalled load whose page starts all the same before its try is left alone, and may retry later', async () => {
      const page = await newPage();
      await installClock(page);
      const loads = countLoads(page);
      // The first load's GET of the entry is never answered, as in the test above.
      let checks = 0;
      await page.route('**/bundle/host.js', (req) =>
        answer(() => {
          if (req.request().method() === 'HEAD') checks++;
          if (loads.n > 1 || req.request().method() !== 'GET') return req.continue();
        }),
      );
      await page.goto(`${o.baseUrl}/host`, { waitUntil: 'commit' });
      await page.waitForFunction(() => document.readyState === 'interactive');
      await waitFor(async () => {
        await page.clock.runFor(5000);
        return (await page.$(NOTE)) !== null;
      }, 'the note');
      // The page starts between the note and its try (a request that stop() did not end).
      await page.evaluate((name) => Reflect.set(window, name, true), STARTED_GLOBAL);
      // Past the try's wait (2 s ±20 %): no try counted, no check, no reload, the note gone.
      await page.clock.runFor(5000);
      expect(await page.evaluate((k) => sessionStorage.getItem(k), RELOADS_KEY)).toBeNull();
      expect(await page.$(NOTE)).toBeNull();
      await new Promise((r) => setTimeout(r, 1000));
      expect(checks).toBe(0);
      expect(loads.n).toBe(1);
      // A part of the started page fails to load later (the page calls RELOAD_GLOBAL, as the
      // point page and the host console do): the boot script says so and reloads, with its
      // wait and its check, as for any started page.
      await page.evaluate((name) => (Reflect.get(window, name) as () => void)(), RELOAD_GLOBAL);
      expect(await noteText(page)).toMatch(/Reloading in 2 s/);
      await throughWait(page, 2, 'null', { last: true });
      await waitFor(() => loads.n > 1, 'the reload', 20_000);
      await page.waitForSelector('header h1', { state: 'attached', timeout: 30_000 });
      expect(checks).toBe(1);
      expect(loads.n).toBe(2);
      expect(await page.evaluate((k) => sessionStorage.getItem(k), RELOADS_KEY)).toBeNull();
    }, 90_000);

    test('a slow load whose files keep arriving is not taken for a stall', async () => {
      const page = await newPage();
      await page.clock.install();
      const loads = countLoads(page);
      const held: Route[] = [];
      await page.route(CHUNKS, (req) =>
        answer(() => {
          if (held.length < 2) held.push(req);
          else return req.continue();
        }),
      );
      await page.goto(`${o.baseUrl}/host`, { waitUntil: 'commit' });
      await waitFor(() => held.length === 2, 'two chunks held');
      const advance = async (ms: number) => {
        for (let t = 0; t < ms; t += 10_000) await page.clock.runFor(10_000);
      };
      // 50 s, then one file arrives, then 50 s more: 100 s in all, never 60 s with nothing.
      await advance(50_000);
      const arrived = held[0]!.request();
      let done = false;
      page.on('requestfinished', (r) => (done ||= r === arrived));
      await held[0]!.continue();
      await waitFor(() => done, 'the file arrived');
      await advance(50_000);
      expect(await page.$(NOTE)).toBeNull();
      await held[1]!.continue();
      await page.waitForSelector('header h1', { state: 'attached', timeout: 30_000 });
      expect(loads.n).toBe(1);
      expect(await page.$(NOTE)).toBeNull();
    }, 90_000);

    test('keeps trying, waiting longer each time, and starts once its chunks load', async () => {
      const page = await newPage();
      await installClock(page);
      await page.route(CHUNKS, (req) => answer(() => req.abort('internetdisconnected')));
      const loads = countLoads(page);
      // The count each load finds, read as soon as its document has loaded (the next reload
      // is seconds away then).
      const counts: number[] = [];
      page.on('load', () => {
        page
          .evaluate((k) => Number(sessionStorage.getItem(k)), RELOADS_KEY)
          .then(
            (n) => counts.push(n),
            () => undefined,
          );
      });
      await page.goto(`${o.baseUrl}/host`);
      // Says so on the page, Vietnamese first, with no call for the technician yet.
      expect(await noteText(page)).toContain('Reloading in 2 s');
      const vi = await page.textContent(`${NOTE} .vi`);
      expect(vi).toContain('Trang chưa tải xong (mất kết nối tới máy chủ). Tự động tải lại sau 2 giây');
      expect(vi).not.toContain('kỹ thuật viên');
      expect(await noteText(page)).toContain('Reloading in 2 s');
      expect(await page.getAttribute(`${NOTE} .en`, 'lang')).toBe('en');
      // Waits of about 2 s, then 4 s, then 8 s (±20 %): never a tight loop.
      await throughWait(page, 2, 'null');
      await waitFor(() => loads.n >= 2, 'a second load', 20_000);
      await waitFor(async () => /Reloading in [345] s/.test((await noteText(page)) ?? ''), '4 s named');
      await throughWait(page, 4, '1');
      await waitFor(() => loads.n >= 3, 'a third load', 20_000);
      await waitFor(() => counts.length >= 3, 'the count read after three loads');
      expect(counts.slice(0, 3)).toEqual([0, 1, 2]);
      // The network back (the third load failed: its note is up): the next reload starts
      // the page and forgets the count.
      await waitFor(async () => /Reloading in ([6-9]|10) s/.test((await noteText(page)) ?? ''), '8 s named');
      await page.unroute(CHUNKS);
      await throughWait(page, 8, '2', { last: true });
      await page.waitForSelector('header h1', { state: 'attached', timeout: 40_000 });
      expect(await page.evaluate((k) => sessionStorage.getItem(k), RELOADS_KEY)).toBeNull();
    }, 90_000);

    test('from the 5th try the note asks to tell the central technician', async () => {
      const page = await newPage();
      await page.addInitScript((k) => sessionStorage.setItem(k, '4'), RELOADS_KEY);
      await page.route(CHUNKS, (req) => answer(() => req.abort('internetdisconnected')));
      await page.goto(`${o.baseUrl}/host`);
      expect(await page.textContent(`${NOTE} .vi`, { timeout: 10_000 })).toMatch(
        /sau (2[4-9]|3[0-6]) giây… Nếu vẫn lỗi, hãy báo kỹ thuật viên trung tâm\.$/,
      );
      expect(await noteText(page)).toMatch(/in (2[4-9]|3[0-6]) s… If this goes on, tell the central technician\.$/);
    }, 30_000);

    test('where the browser refuses storage, keeps the count in the tab and still waits longer', async () => {
      const page = await newPage();
      await page.addInitScript(() =>
        Object.defineProperty(window, 'sessionStorage', {
          get: () => {
            throw new DOMException('Access is denied for this document.', 'SecurityError');
          },
        }),
      );
      await page.route(CHUNKS, (req) => answer(() => req.abort('internetdisconnected')));
      const loads = countLoads(page);
      await installClock(page);
      await page.goto(`${o.baseUrl}/host`);
      expect(await noteText(page)).toMatch(/Reloading in 2 s/);
      await throughWait(page, 2, '', { where: 'name' });
      await waitFor(() => loads.n >= 2, 'a second load', 20_000);
      // The count came through the reload in the tab's name: the second wait is longer.
      await waitFor(async () => /Reloading in [345] s/.test((await noteText(page)) ?? ''), '4 s named');
      await throughWait(page, 4, `${RELOADS_KEY}=1`, { where: 'name' });
      await waitFor(() => loads.n >= 3, 'a third load', 20_000);
      await waitFor(async () => /Reloading in ([6-9]|10) s/.test((await noteText(page)) ?? ''), '8 s named');
      await page.unroute(CHUNKS);
      await throughWait(page, 8, `${RELOADS_KEY}=2`, { where: 'name', last: true });
      await page.waitForSelector('header h1', { state: 'attached', timeout: 40_000 });
      expect(await page.evaluate(() => window.name)).toBe('');
    }, 90_000);
  });
});
