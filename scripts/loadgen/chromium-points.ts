// Real Chromium points inside the join storm (--chromium-points N): one headless Debian
// Chromium (scripts/lib/chromium.ts), a context and a page each, opened on about:blank
// before the storm and sent to `/join/<token>` at the storm's start, beside the virtual
// points. Each page times its own first join in stages (client/src/rtc/join-stages.ts:
// script start, socket, device, transport, the hall camera's consumer and its resume, ICE,
// DTLS, its first RTP packet and first decoded frame), in ms since its navigation started,
// and keeps them in `window.__joinStages`, read here. `performance.timeOrigin` (the
// navigation's start on the machine's wall clock, the clock the generator reads too) places
// the first frame against the storm's start. The pages are closed once each has its frame
// (or after a minute), before the steady state, so its cost figures hold the virtual
// points alone.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  JOIN_PAGE_STAGES,
  JOIN_STAGES_GLOBAL,
  JOIN_STAGES_PARAM,
  type JoinPageStage,
  type JoinPageStages,
} from '../../client/src/rtc/join-stages';
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
  /** The page's first join in stages, ms since its navigation started (what it reached). */
  stages: JoinPageStages;
  /** How the page itself loaded (navigation and resource timing), ms since its navigation started. */
  load?: PageLoad;
  error?: string;
}

/** The page's own load: its HTML asked for and received, its scripts asked for and all received. */
export interface PageLoad {
  htmlRequest: number | null;
  html: number | null;
  scriptsRequested: number | null;
  scriptsLoaded: number | null;
}

export interface ChromiumJoin {
  pages: number;
  /** ms since the storm's start to each page's first decoded hall frame. */
  firstFrameMs: StageFigure;
  /** Each stage of the pages' joins, ms since each page's navigation started. */
  stagesMs: Record<JoinPageStage, StageFigure>;
  perPage: ChromiumPageResult[];
}

/** p50 / p95 / max of each stage over the pages that reached it. */
export function pageStagesOf(pages: readonly Pick<ChromiumPageResult, 'stages'>[]): Record<JoinPageStage, StageFigure> {
  const out = {} as Record<JoinPageStage, StageFigure>;
  for (const stage of JOIN_PAGE_STAGES) out[stage] = figureOf(pages.flatMap((p) => p.stages[stage] ?? []));
  return out;
}

function figureOf(v: number[]): StageFigure {
  return {
    points: v.length,
    p50: round(percentile(v, 50), 0),
    p95: round(percentile(v, 95), 0),
    max: v.length ? round(Math.max(...v), 0) : NaN,
  };
}

/** What the page read: its navigation's start (epoch ms) and its join's stages (ms after it). */
const READ_TIMES = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const js = performance.getEntriesByType('resource').filter((e) => /[.]js$/.test(e.name));
  return {
    origin: performance.timeOrigin,
    stages: window.${JOIN_STAGES_GLOBAL} ?? {},
    load: {
      htmlRequest: nav ? nav.requestStart : null,
      html: nav ? nav.responseEnd : null,
      scriptsRequested: js.length ? Math.min(...js.map((e) => e.startTime)) : null,
      scriptsLoaded: js.length ? Math.max(...js.map((e) => e.responseEnd)) : null,
    },
  };
})()`;
type PageTimes = { origin: number; stages: JoinPageStages; load: PageLoad };

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

  /**
   * One browser, a context and a blank page per point, ready before the storm.
   * `handleSignals`: see launchChromium (../lib/chromium.ts).
   */
  static async open(
    points: { pointId: string; token: string }[],
    opts: { handleSignals?: boolean } = {},
  ): Promise<ChromiumPoints> {
    const browser = await launchChromium(opts);
    const pages: OpenPage[] = [];
    try {
      for (const p of points) {
        const ctx = await browser.newContext();
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
      // A module of the page that fails to load stops its script without a page error.
      p.page.on('requestfailed', (r) => (p.error ??= `request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
      p.page.on('console', (m) => {
        if (m.type() === 'error') p.error ??= `console: ${m.text()}`;
      });
      p.page
        .goto(`${baseUrl}/join/${p.token}?${JOIN_STAGES_PARAM}=1`)
        .catch((e: Error) => (p.error ??= `navigation: ${e.message}`));
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
          stages: {},
        };
        // Read by Runtime.evaluate, which the page's CSP (no eval) allows; while the page
        // navigates its context is gone for a moment, and the read is tried again.
        const deadline = Date.now() + timeoutMs;
        let t: PageTimes | undefined;
        let failure = '';
        while (Date.now() < deadline) {
          try {
            t = (await p.page.evaluate(READ_TIMES)) as PageTimes;
            // A read that failed while the page navigated says nothing once one succeeds.
            failure = '';
            if (t.stages.firstFrame !== undefined) break;
          } catch (e) {
            failure = (e as Error).message.split('\n')[0] ?? '';
          }
          await sleep(250);
        }
        if (t) {
          r.navigationMs = round(t.origin - t0, 0);
          r.stages = t.stages;
          r.load = t.load;
        }
        const frame = t?.stages.firstFrame;
        if (t && frame !== undefined) {
          r.firstFrameSinceNavigationMs = round(frame, 0);
          r.firstFrameMs = round(t.origin + frame - t0, 0);
        } else p.error ??= `no decoded frame within ${timeoutMs / 1000} s${failure ? ` (${failure})` : ''}`;
        return p.error && r.firstFrameMs === null ? { ...r, error: p.error } : r;
      }),
    );
    const v = perPage.flatMap((p) => (p.firstFrameMs === null ? [] : [p.firstFrameMs]));
    return { pages: perPage.length, firstFrameMs: figureOf(v), stagesMs: pageStagesOf(perPage), perPage };
  }

  async close(): Promise<void> {
    await this.#browser.close().catch(() => undefined);
  }
}
