// The host console in Chromium, live or going live, under the server's CSP. A console whose
// mediasoup-client chunk (imported as it goes live) fails says so and is reloaded by the boot
// script (client/src/boot/boot.ts), as a page whose chunk fails to load is
// (tests/e2e/pages.test.ts); but a console whose briefing is live keeps the hall's camera and
// microphone on air and only says so. A console reloaded while live publishes the hall's
// camera and microphone again, once, however late its camera opens; a publish that fails
// is said, and the camera button tries it again.
import fs from 'node:fs';
import path from 'node:path';
import { RELOAD_GLOBAL } from '../../client/src/boot/marker';
import { loggedInContext } from '../helpers/browser';
import { prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { type TestOrchestrator, waitFor } from '../helpers/orchestrator';
import { answer, countLoads, NOTE, noteText, RELOADS_KEY, usePagesInChromium } from '../helpers/page-loads';
import type { Browser, Page } from 'playwright-core';

/** The served build (the server's build/client). */
const BUILD = path.join(__dirname, '..', '..', 'build', 'client');

/** The one chunk among `page`'s preloads whose text matches `re`. */
function preloadedChunk(page: string, re: RegExp): string {
  const preloads = JSON.parse(fs.readFileSync(path.join(BUILD, 'preload.json'), 'utf8')) as Record<string, string[]>;
  const found = (preloads[page] ?? []).filter((f) => re.test(fs.readFileSync(path.join(BUILD, f), 'utf8')));
  if (found.length !== 1) throw new Error(`${found.length} chunks of ${page} match ${re}`);
  return found[0]!;
}

/**
 * Counts, from the page's next load on, its calls of the boot script's reload of a started
 * page (RELOAD_GLOBAL): `reloadsAsked` reads the count of the current document.
 */
async function countReloadsAsked(page: Page): Promise<void> {
  await page.addInitScript((name) => {
    let reload: unknown;
    const asked = () => Reflect.set(window, '__reloadsAsked', Number(Reflect.get(window, '__reloadsAsked') ?? 0) + 1);
    Object.defineProperty(window, name, {
      configurable: true,
      get: () =>
        typeof reload === 'function'
          ? () => {
              asked();
              return (reload as () => unknown)();
            }
          : reload,
      set: (v: unknown) => (reload = v),
    });
  }, RELOAD_GLOBAL);
}
const reloadsAsked = (page: Page): Promise<number> =>
  page.evaluate(() => Number(Reflect.get(window, '__reloadsAsked') ?? 0));

describe('host console live in Chromium', () => {
  let o: TestOrchestrator;
  let browser: Browser;
  const track = usePagesInChromium((s) => ({ o, browser } = s));

  /**
   * A logged-in host console's page whose session list shows `b`'s session only: the
   * file's other tests leave sessions of their own. (A list asked for as the page reloads
   * is dropped with its answer.)
   */
  const hostPage = async (b: PreparedBriefing): Promise<Page> => {
    const ctx = await loggedInContext(browser, o.baseUrl, b.cookie);
    track(ctx);
    const page = await ctx.newPage();
    await page.route(
      (url) => url.pathname === '/api/v1/sessions',
      (req) =>
        answer(async () => {
          if (req.request().method() !== 'GET') return req.continue();
          const res = await req.fetch({ maxRetries: 2 });
          const list = (await res.json()) as { items: { id: string }[] };
          await req.fulfill({
            response: res,
            json: { ...list, items: list.items.filter((s) => s.id === b.sessionId) },
          });
        }),
    );
    return page;
  };
  /** Opens the session's live console, its camera listed. */
  const openConsole = async (page: Page) => {
    await page.click('[data-testid=sessions-view] button:has-text("Mở")');
    await page.click('button:has-text("Bàn điều khiển trực tiếp")');
    await page.waitForSelector('[data-testid=camera-select] option', { state: 'attached' });
  };
  const goLive = async (page: Page) => {
    await openConsole(page);
    await page.click('[data-testid=go-live]');
  };
  const LIVE = '[data-testid=host-status]:has-text("ĐANG PHÁT TRỰC TIẾP")';
  /** Waits until the console's camera is open. */
  const cameraOpen = (page: Page) =>
    waitFor(
      () =>
        page.evaluate(() =>
          (window as unknown as { briefingHost?: { tracks: () => MediaStreamTrack[] } }).briefingHost
            ?.tracks()
            .some((t) => t.kind === 'video' && t.readyState === 'live'),
        ),
      'the camera open',
    );
  /**
   * What the console sends, as it sees it: the briefing's state, its open camera and
   * microphone producers (their ids), its send transport's connection state.
   */
  const consoleOnAir = (page: Page) =>
    page.evaluate(() => {
      type Producer = { id: string; closed: boolean };
      const host = (
        window as unknown as {
          briefingHost: {
            view: () => { state: string } | undefined;
            sender: () =>
              { producer: (s: string) => Producer | undefined; transport?: { connectionState: string } } | undefined;
          };
        }
      ).briefingHost;
      const sender = host.sender();
      const open = (s: string) => {
        const p = sender?.producer(s);
        return p && !p.closed ? p.id : undefined;
      };
      return {
        state: host.view()?.state,
        camera: open('host-camera'),
        mic: open('host-mic'),
        transport: sender?.transport?.connectionState,
      };
    });
  /** The hall's producers the server lists for `b`'s briefing: [source, producer id], by source. */
  const hallProducers = async (b: PreparedBriefing): Promise<[string, string][]> =>
    (await (await o.orchestrator.realtime.broadcasts.get(b.sessionId)).view()).producers
      .filter((p) => p.source.startsWith('host-'))
      .map((p): [string, string] => [p.source, p.producerId])
      .sort(([x], [y]) => x.localeCompare(y));
  /**
   * Waits until the console sends its camera and microphone on a connected transport and
   * the server lists them, and no other, as the hall's: one camera, one microphone.
   */
  const onAirOnce = async (page: Page, b: PreparedBriefing): Promise<void> => {
    const sent = await waitFor(
      async () => {
        const a = await consoleOnAir(page);
        if (a.camera && a.mic && a.transport === 'connected') return { camera: a.camera, mic: a.mic };
        return undefined;
      },
      "the console's camera and microphone published",
      30_000,
    );
    await waitFor(
      async () => {
        const ids = (await hallProducers(b)).map(([, id]) => id);
        return ids.includes(sent.camera) && ids.includes(sent.mic);
      },
      'the server listing them',
      15_000,
    );
    expect(await hallProducers(b)).toEqual([
      ['host-camera', sent.camera],
      ['host-mic', sent.mic],
    ]);
  };
  /** A new briefing's host console (hostPage), with its page errors. */
  const consolePage = async () => {
    const b = await prepareBriefing(o.baseUrl, ['HT-VQ']);
    const page = await hostPage(b);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    return { b, page, errors };
  };
  /**
   * A new briefing's host console (hostPage), with its page errors and loads, whose chunk
   * that receives the floor's media (rtc/mediasoup.ts, the one exporting HANDLERS; the
   * console imports it as it goes live, or as it attaches to a briefing already live) fails
   * during the loads `fails` names (the first is 1), its preload's and its import's fetches
   * alike. mediasoup-client itself, a static import there, arrives.
   */
  const failingConsole = async (fails: (load: number) => boolean) => {
    const { b, page, errors } = await consolePage();
    const loads = countLoads(page);
    const failed = { n: 0 };
    await page.route(`**/bundle/${preloadedChunk('host', /\bas HANDLERS\b/)}`, (req) =>
      answer(() => {
        if (!fails(loads.n)) return req.continue();
        failed.n++;
        return req.abort('internetdisconnected');
      }),
    );
    return { b, page, errors, loads, failed };
  };

  test('the host console whose mediasoup-client chunk fails as it goes live says so, and reloads', async () => {
    const { page, errors, loads, failed } = await failingConsole((load) => load === 1);
    await page.goto(`${o.baseUrl}/host`);
    await goLive(page);
    const status = '[data-testid=host-status].bad';
    await page.waitForSelector(`${status}:has-text("Could not load the media component, reloading")`);
    expect(await page.textContent(`${status} .vi`)).toContain('Không tải được thành phần hình ảnh');
    expect(await noteText(page)).toMatch(/Reloading in 2 s/);
    await waitFor(() => loads.n >= 2, 'the reload', 20_000);
    // The reloaded console imports the chunk and goes live.
    await goLive(page);
    await page.waitForSelector(LIVE, { timeout: 30_000 });
    expect(failed.n).toBeGreaterThan(0);
    expect(loads.n).toBe(2);
    expect(await page.evaluate((k) => sessionStorage.getItem(k), RELOADS_KEY)).toBeNull();
    expect(errors).toEqual([]);
  }, 90_000);

  test('the host console reloaded while live whose mediasoup-client chunk fails stays on air and says so', async () => {
    // The chunk arrives in the first load, where the console goes live, and fails from the
    // second on.
    const { b, page, errors, loads, failed } = await failingConsole((load) => load > 1);
    await countReloadsAsked(page);
    // A console attaching to a live briefing publishes again the camera and microphone it
    // holds by then: its socket connects once its camera is open.
    await page.routeWebSocket(
      (url) => url.pathname === '/socket.io/',
      (ws) =>
        answer(async () => {
          await cameraOpen(page);
          ws.connectToServer();
        }),
    );
    await page.goto(`${o.baseUrl}/host`);
    await goLive(page);
    await page.waitForSelector(LIVE, { timeout: 30_000 });
    expect(failed.n).toBe(0);
    // The console is reloaded while live (its tab crashed, or its operator reloaded it); the
    // mediasoup-client chunk now fails as the console attaches, after it has published the
    // hall's camera and microphone again.
    await page.reload();
    await page.evaluate(() => Reflect.set(window, '__sameDocument', true));
    await openConsole(page);
    const status = '[data-testid=host-status].bad';
    await page.waitForSelector(`${status}:has-text("a point given the floor cannot be seen or heard here")`, {
      timeout: 30_000,
    });
    expect(await page.textContent(`${status} .en`)).toBe(
      "Could not load the media component: a point given the floor cannot be seen or heard here; the hall's picture and sound stay on air. Reload this page when you can.",
    );
    expect(await page.textContent(`${status} .vi`)).toContain('Tải lại trang khi có thể');
    expect(failed.n).toBeGreaterThan(0);
    // No reload: the console asks the boot script for one in the same call that says the
    // failure (whose note would then be up at once, its reload some 2 s later), and it
    // said the live warning instead.
    expect(await reloadsAsked(page)).toBe(0);
    expect(await page.$(NOTE)).toBeNull();
    expect(loads.n).toBe(2);
    expect(await page.evaluate(() => Reflect.get(window, '__sameDocument'))).toBe(true);
    // The warning outlasts the views that follow: the agenda moves, the status stays.
    const agendaIndex = () =>
      page.evaluate(
        () =>
          (
            window as unknown as {
              briefingHost: { view: () => { caption: { index: number } | null } | undefined };
            }
          ).briefingHost.view()?.caption?.index,
      );
    const before = await agendaIndex();
    await page.click('[data-testid=agenda-next]');
    await waitFor(async () => (await agendaIndex()) !== before, 'the next agenda item');
    expect(await page.textContent(`${status} .en`)).toContain('a point given the floor cannot be seen or heard here');
    // Still live, the hall's camera and microphone on air: the console's producers are the
    // ones the server lists, open, on a connected transport.
    const onAir = await consoleOnAir(page);
    expect(onAir).toEqual({
      state: 'live',
      camera: expect.any(String),
      mic: expect.any(String),
      transport: 'connected',
    });
    const view = await (await o.orchestrator.realtime.broadcasts.get(b.sessionId)).view();
    expect(view.state).toBe('live');
    expect(view.producers.filter((p) => p.source.startsWith('host-')).map((p) => [p.source, p.producerId])).toEqual(
      expect.arrayContaining([
        ['host-camera', onAir.camera],
        ['host-mic', onAir.mic],
      ]),
    );
    // Nor later, on this document.
    expect(await reloadsAsked(page)).toBe(0);
    expect(await page.$(NOTE)).toBeNull();
    expect(loads.n).toBe(2);
    expect(await page.evaluate(() => Reflect.get(window, '__sameDocument'))).toBe(true);
    expect(errors).toEqual([]);
  }, 90_000);

  test('the host console reloaded while live whose camera opens after it attaches goes on air again', async () => {
    const { b, page, errors } = await consolePage();
    // The camera and microphone answer only once the console has attached to the
    // briefing, as a slow camera does after a quick socket.
    await page.addInitScript(() => {
      const md = navigator.mediaDevices;
      const open = md.getUserMedia.bind(md);
      md.getUserMedia = async (c) => {
        await new Promise<void>((resolve) => {
          const t = setInterval(() => {
            const host = (window as unknown as { briefingHost?: { view: () => unknown } }).briefingHost;
            if (host?.view()) {
              clearInterval(t);
              resolve();
            }
          }, 50);
        });
        return open(c);
      };
    });
    await page.goto(`${o.baseUrl}/host`);
    await goLive(page);
    await page.waitForSelector(LIVE, { timeout: 30_000 });
    await page.reload();
    await openConsole(page);
    await page.waitForSelector(LIVE, { timeout: 30_000 });
    // The reloaded console's camera and microphone are on air, once: its producers are open
    // and the server lists them, and no other, as the hall's.
    await onAirOnce(page, b);
    expect(errors).toEqual([]);
  }, 90_000);

  test('the host console whose publish fails while live is put on air again by its camera button', async () => {
    const { b, page, errors } = await consolePage();
    // Once armed, the console's first produce is held, then refused as by an SFU that is
    // restarting: the answer says so and no producer is made. The console's socket
    // connects once its camera is open, so that it publishes as it attaches.
    let armed = false;
    let refuse: (() => void) | undefined;
    await page.routeWebSocket(
      (url) => url.pathname === '/socket.io/',
      (ws) =>
        answer(async () => {
          await cameraOpen(page);
          const server = ws.connectToServer();
          ws.onMessage((m) =>
            answer(() => {
              const produce = typeof m === 'string' ? /^42\/host,(\d+)\["rtc:produce",/.exec(m) : null;
              if (!armed || !produce || refuse) return server.send(m);
              const error = { code: 'unavailable', message: 'the media server is unavailable; retry later' };
              refuse = () => answer(() => ws.send(`43/host,${produce[1]}${JSON.stringify([{ ok: false, error }])}`));
            }),
          );
        }),
    );
    await page.goto(`${o.baseUrl}/host`);
    await goLive(page);
    await page.waitForSelector(LIVE, { timeout: 30_000 });
    // Reloaded while live, the console publishes the hall's camera and microphone again as
    // it attaches; while it does, the camera button offers nothing.
    armed = true;
    await page.reload();
    await openConsole(page);
    const held = await waitFor(() => refuse, 'the first produce', 30_000);
    const CAMERA = '[data-testid=camera-on]';
    await page.waitForSelector(`${CAMERA}:has-text("Turn camera and microphone off"):disabled`);
    expect(await hallProducers(b)).toEqual([]);
    // That publish fails: the console sends nothing, and its camera button says it can
    // put the camera and microphone on air.
    held();
    // The attach worked: what failed is going on air, and the status line says that.
    await page.waitForSelector('[data-testid=host-status].bad:has-text("Cannot go on air")');
    await page.waitForSelector(`${CAMERA}:has-text("Put camera and microphone on air"):enabled`);
    expect(await page.textContent(`${CAMERA} .vi`)).toBe('Phát camera và micro lên');
    expect(await consoleOnAir(page)).toMatchObject({ state: 'live', camera: undefined, mic: undefined });
    expect(await hallProducers(b)).toEqual([]);
    // The button tries again: on air, once.
    await page.click(CAMERA);
    await onAirOnce(page, b);
    await page.waitForSelector(`${CAMERA}:has-text("Turn camera and microphone off"):disabled`);
    expect((await (await o.orchestrator.realtime.broadcasts.get(b.sessionId)).view()).state).toBe('live');
    expect(errors).toEqual([]);
  }, 90_000);
});
