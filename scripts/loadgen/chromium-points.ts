// Real Chromium points inside the join storm (--chromium-points N): one headless Debian
// Chromium (scripts/lib/chromium.ts), a context and a page each, opened on about:blank
// before the storm and sent to `/join/<token>` at the storm's start, beside the virtual
// points. Each page's first decoded frame of the hall is timed in the page itself: a
// script injected before the page's own polls its hall camera consumer's inbound-rtp
// statistics (`framesDecoded`, through the handle the page exposes as
// `window.briefing`) every 25 ms and keeps `performance.now()` at the first frame, that
// is ms since the page's navigation started. `performance.timeOrigin` (the navigation's
// start on the machine's wall clock, the clock the generator reads too) adds that to
// the navigation's own offset from the storm's start. The pages are closed once each has
// its frame (or after a minute), before the steady state, so its cost figures hold the
// virtual points alone.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../lib/chromium';
import type { StageFigure } from './join-stages';
import { sleep } from './http';
import { percentile, round } from './stats';

export interface ChromiumPageResult {
  pointId: string;
  /** The page's navigation start, ms since the storm's start (performance.timeOrigin). */
  navigationMs: number | null;
  /** The first decoded hall frame, ms since the page's navigation started (the page's clock). */
  firstFrameSinceNavigationMs: number | null;
  /** The same, ms since the storm's start. */
  firstFrameMs: number | null;
  error?: string;
}

export interface ChromiumJoin {
  pages: number;
  /** ms since the storm's start to each page's first decoded hall frame. */
  firstFrameMs: StageFigure;
  perPage: ChromiumPageResult[];
}

/**
 * Runs in each page before its own scripts; stops at the first decoded frame of the hall.
 * Plain JavaScript text: a function passed here would be serialized as the TypeScript
 * loader compiled it, with helpers the page does not have.
 */
const WATCH_FIRST_FRAME = `(() => {
  let busy = false;
  const timer = setInterval(() => {
    const b = window.briefing;
    const hall = b && b.receiver ? b.receiver.consumers().find((c) => c.appData.source === 'host-camera') : undefined;
    if (!hall || busy) return;
    busy = true;
    hall.getStats().then((report) => {
      report.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && Number(s.framesDecoded || 0) > 0 && window.__firstFrame === undefined) {
          window.__firstFrame = performance.now();
          clearInterval(timer);
        }
      });
    }).finally(() => { busy = false; });
  }, 25);
})();`;

/** What the page read: its navigation's start (epoch ms) and its first frame (ms after it). */
const READ_TIMES = '({ origin: performance.timeOrigin, frame: window.__firstFrame ?? null })';

/**
 * Builds the pages' bundles (scripts/build-client.mjs into build/client) for a server
 * this run spawns from this tree: without them `/join/<token>` loads no script.
 */
export function buildClientBundles(): void {
  const script = path.join(__dirname, '..', 'build-client.mjs');
  const r = spawnSync(process.execPath, [script], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
  if (r.status !== 0) throw new Error(`client build failed: ${r.stderr?.toString() ?? r.error?.message}`);
}

interface OpenPage {
  pointId: string;
  token: string;
  ctx: BrowserContext;
  page: Page;
  error?: string;
}

export class ChromiumPoints {
  readonly #browser: Browser;
  readonly #pages: OpenPage[];

  private constructor(browser: Browser, pages: OpenPage[]) {
    this.#browser = browser;
    this.#pages = pages;
  }

  /** One browser, a context and a blank page per point, ready before the storm. */
  static async open(points: { pointId: string; token: string }[]): Promise<ChromiumPoints> {
    const browser = await launchChromium();
    const pages: OpenPage[] = [];
    try {
      for (const p of points) {
        const ctx = await browser.newContext();
        await ctx.addInitScript({ content: WATCH_FIRST_FRAME });
        const page = await ctx.newPage();
        pages.push({ ...p, ctx, page });
      }
    } catch (e) {
      await browser.close().catch(() => undefined);
      throw e;
    }
    return new ChromiumPoints(browser, pages);
  }

  /** Every page to its join link now (not awaited: the storm goes on meanwhile). */
  join(baseUrl: string): void {
    for (const p of this.#pages) {
      p.page.on('pageerror', (e) => (p.error ??= `page error: ${e.message}`));
      p.page.goto(`${baseUrl}/join/${p.token}`).catch((e: Error) => (p.error ??= `navigation: ${e.message}`));
    }
  }

  /** Waits until every page decoded a frame (or `timeoutMs`), then reads each page's times. */
  async measure(t0: number, timeoutMs: number): Promise<ChromiumJoin> {
    const perPage = await Promise.all(
      this.#pages.map(async (p): Promise<ChromiumPageResult> => {
        const r: ChromiumPageResult = {
          pointId: p.pointId,
          navigationMs: null,
          firstFrameSinceNavigationMs: null,
          firstFrameMs: null,
        };
        // Read by Runtime.evaluate, which the page's CSP (no eval) allows; while the page
        // navigates its context is gone for a moment, and the read is tried again.
        const deadline = Date.now() + timeoutMs;
        let t: { origin: number; frame: number | null } | undefined;
        let failure = '';
        while (Date.now() < deadline) {
          try {
            t = (await p.page.evaluate(READ_TIMES)) as { origin: number; frame: number | null };
            if (t.frame !== null) break;
          } catch (e) {
            failure = (e as Error).message.split('\n')[0] ?? '';
          }
          await sleep(250);
        }
        if (t) r.navigationMs = round(t.origin - t0, 0);
        if (t && t.frame !== null) {
          r.firstFrameSinceNavigationMs = round(t.frame, 0);
          r.firstFrameMs = round(t.origin + t.frame - t0, 0);
        } else p.error ??= `no decoded frame within ${timeoutMs / 1000} s${failure ? ` (${failure})` : ''}`;
        return p.error && r.firstFrameMs === null ? { ...r, error: p.error } : r;
      }),
    );
    const v = perPage.flatMap((p) => (p.firstFrameMs === null ? [] : [p.firstFrameMs]));
    return {
      pages: perPage.length,
      firstFrameMs: {
        points: v.length,
        p50: round(percentile(v, 50), 0),
        p95: round(percentile(v, 95), 0),
        max: v.length ? Math.max(...v) : NaN,
      },
      perPage,
    };
  }

  async close(): Promise<void> {
    await this.#browser.close().catch(() => undefined);
  }
}
