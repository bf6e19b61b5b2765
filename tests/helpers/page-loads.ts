// Pages loading in Chromium, for the tests of the boot script (client/src/boot/boot.ts)
// and of the pages it loads: their document loads counted, the boot script's note and the
// count of tries it keeps, route handlers whose errors fail the test; the server and
// Chromium for a file of such tests, and the pages and contexts a test opened, closed after it.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './browser';
import { ADMIN_ENV } from './briefing';
import { startTestOrchestrator, type TestOrchestrator, waitFor } from './orchestrator';
import { startTestRedis } from './redis';

/** The boot script's count of tries, in sessionStorage (or `window.name`). */
export const RELOADS_KEY = 'briefing.bootReloads';

/** Counts the page's document loads (the first one too). */
export function countLoads(page: Page): { readonly n: number } {
  const loads = { n: 0 };
  page.on('request', (r) => {
    if (!r.isNavigationRequest() || r.frame() !== page.mainFrame()) return;
    loads.n++;
  });
  return loads;
}

export const NOTE = '[data-testid=boot-retry]';
/**
 * The boot script's note once its text is in (it is appended empty, then filled on a timer
 * of 0 ms, which a paused clock runs without moving on).
 */
export async function noteText(page: Page): Promise<string | null> {
  await waitFor(async () => {
    await page.clock.runFor(0).catch(() => undefined); // the document may be going
    return (await page.$(`${NOTE} .en`)) !== null;
  }, 'the note');
  return page.textContent(`${NOTE} .en`);
}

/**
 * What a route handler may meet once its page has closed or reloaded: the page, its context,
 * its request or the response it fetched gone, or its route answered already. Nothing else
 * is let pass.
 */
const GONE =
  /Target page, context or browser has been closed|Target closed|Request context disposed|[Rr]esponse has been disposed|Route is already handled/;
/** The route handlers' other errors, each failing the test it came in (usePagesInChromium). */
const routeErrors: unknown[] = [];

/**
 * Answers a route (or a WebSocket's), letting pass only the errors of a page or route
 * already gone (GONE); any other error fails the test.
 */
export async function answer(fn: () => Promise<unknown> | unknown): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!GONE.test(String(e))) routeErrors.push(e);
  }
}

/** What usePagesInChromium starts for the file's tests. */
export type PagesInChromium = { o: TestOrchestrator; browser: Browser };

/**
 * Registers, in the calling describe block, a test Redis, the server on it (its admin
 * ADMIN_ENV's) and Chromium, started before the tests (given to `started`) and stopped after
 * them, last started first; and the closing of each test's pages and contexts (those given
 * to the returned `track`) after it however it ended (a failed expectation, a timeout), so
 * that none goes on loading, reloading or sending into the next. Their routes are removed
 * first, so that no route handler starts on a closing page (one already running has its
 * errors dropped); then the errors its route handlers met (answer) fail it.
 */
export function usePagesInChromium(
  started: (s: PagesInChromium) => void,
): <T extends Page | BrowserContext>(p: T) => T {
  const stops: (() => Promise<unknown>)[] = [];
  beforeAll(async () => {
    const r = await startTestRedis();
    stops.unshift(() => r.cleanup());
    const o = await startTestOrchestrator(r.url, ADMIN_ENV);
    stops.unshift(() => o.stop());
    const browser = await launchChromium();
    stops.unshift(() => browser.close());
    started({ o, browser });
  }, 60_000);
  afterAll(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  const opened: (Page | BrowserContext)[] = [];
  const close = async (p: Page | BrowserContext): Promise<void> => {
    const pages = 'pages' in p ? p.pages() : [p];
    for (const page of pages.filter((page) => !page.isClosed())) await page.unrouteAll({ behavior: 'ignoreErrors' });
    if ('pages' in p) await p.unrouteAll({ behavior: 'ignoreErrors' });
    await p.close();
  };
  afterEach(async () => {
    try {
      for (const p of opened.splice(0).reverse()) await close(p);
    } finally {
      expect(routeErrors.splice(0)).toEqual([]);
    }
  });
  return (p) => {
    opened.push(p);
    return p;
  };
}
