// The /monitor page in Debian Chromium, as a desk has it open during a load run: logged
// in, its tiles shown, and probes inside the page: frame intervals (requestAnimationFrame),
// long tasks (PerformanceObserver 'longtask'), DOM mutations, and each tile painted with
// an RTT, with when (the load generator's health reports carry a marker in their RTT, so
// the time from a report to its tile on the screen is measured; scripts/loadgen/probes.ts).
// Used by scripts/bench-monitor-page.ts and scripts/bench-combined.ts.
import type { Browser, Page } from 'playwright-core';
import { percentile, round } from '../loadgen/stats';
import { launchChromium } from './chromium';

interface PageStats {
  frames: number[];
  longTasks: number[];
  deltas: number;
}

/** A tile painted with an RTT: the point, the RTT shown (whole ms), when (epoch ms). */
export type TileShown = [pointId: string, rttMs: number, at: number];

export interface PageFigures {
  tiles: number;
  seconds: number;
  frames: number;
  fps: number;
  frameMs: { p50: number; p95: number; p99: number; max: number };
  longTasks: { count: number; totalMs: number; p95: number; max: number };
  domMutations: number;
  jsHeapMiB: number;
  pageErrors: string[];
}

// Strings, not functions: tsx (esbuild keepNames) would put `__name(...)` calls in a
// serialised function, and the page has no such helper.
const PROBES = `(() => {
  const b = (window.__bench = { frames: [], longTasks: [], deltas: 0, shown: [] });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) b.longTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: false });
  let last = performance.now();
  function tick(t) {
    b.frames.push(t - last);
    last = t;
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
  new MutationObserver((m) => (b.deltas += m.length)).observe(document.body, {
    subtree: true, attributes: true, characterData: true, childList: true,
  });
  // A tile's title carries its RTT ("RTT 17 ms"): seen as the frame's callback paints it.
  new MutationObserver((m) => {
    const at = Date.now();
    for (const r of m) {
      const id = r.target.dataset && r.target.dataset.id;
      const rtt = id && /RTT (\\d+) ms/.exec(r.target.title);
      if (rtt) b.shown.push([id, Number(rtt[1]), at]);
    }
  }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['title'] });
})()`;

export class MonitorPage {
  readonly pageErrors: string[] = [];
  #t0 = 0;

  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
    readonly tiles: number,
  ) {}

  /** Opens /monitor at `baseUrl`, logs in as `admin`, waits for its tiles and installs the probes. */
  static async open(baseUrl: string, admin: { username: string; password: string }): Promise<MonitorPage> {
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${baseUrl}/monitor`);
      await page.fill('[data-testid="login-username"]', admin.username);
      await page.fill('[data-testid="login-password"]', admin.password);
      await page.press('[data-testid="login-password"]', 'Enter');
      await page.waitForSelector('[data-testid^="tile-"]', { timeout: 30_000 });
      const m = new MonitorPage(browser, page, await page.locator('[data-testid^="tile-"]').count());
      m.pageErrors.push(...errors);
      page.on('pageerror', (e) => m.pageErrors.push(e.message));
      await page.evaluate(PROBES);
      m.#t0 = Date.now();
      return m;
    } catch (err) {
      await browser.close();
      throw err;
    }
  }

  /** The tiles painted with an RTT since the last call. */
  async takeShown(): Promise<TileShown[]> {
    return (await this.page.evaluate('window.__bench.shown.splice(0)')) as TileShown[];
  }

  /** Frames, long tasks and mutations since the probes went in. */
  async figures(): Promise<PageFigures> {
    const s = (await this.page.evaluate(
      '({ frames: __bench.frames, longTasks: __bench.longTasks, deltas: __bench.deltas })',
    )) as PageStats;
    const heap = (await this.page.evaluate('performance.memory ? performance.memory.usedJSHeapSize : 0')) as number;
    const seconds = (Date.now() - this.#t0) / 1000;
    const max = (xs: number[]) => xs.reduce((a, b) => (b > a ? b : a), 0);
    return {
      tiles: this.tiles,
      seconds: round(seconds, 1),
      frames: s.frames.length,
      fps: round(s.frames.length / seconds, 1),
      frameMs: {
        p50: round(percentile(s.frames, 50), 1),
        p95: round(percentile(s.frames, 95), 1),
        p99: round(percentile(s.frames, 99), 1),
        max: round(max(s.frames), 1),
      },
      longTasks: {
        count: s.longTasks.length,
        totalMs: round(
          s.longTasks.reduce((a, b) => a + b, 0),
          0,
        ),
        p95: round(percentile(s.longTasks, 95), 0),
        max: round(max(s.longTasks), 0),
      },
      domMutations: s.deltas,
      jsHeapMiB: round(heap / 2 ** 20, 1),
      pageErrors: this.pageErrors,
    };
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}
