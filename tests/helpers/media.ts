// Waiting on what a point page decodes (the stats and the host going live are in
// scripts/lib/briefing-pages.ts, shared with the benchmarks), and reload markers.
import type { Page, Request } from 'playwright-core';
import { mediaStats, type MediaStat } from '../../scripts/lib/briefing-pages';
import { waitFor } from './orchestrator';

export { hostGoesLive, mediaStats, type MediaStat } from '../../scripts/lib/briefing-pages';

/** Waits until the page decodes `source` past `above` (frames, or audio energy). */
export function decoding(
  page: Page,
  source: string,
  opts: { what?: 'frames' | 'energy'; above?: number; notId?: string; timeoutMs?: number } = {},
): Promise<MediaStat> {
  const what = opts.what ?? 'frames';
  const above = opts.above ?? 0;
  return waitFor(
    async () => (await mediaStats(page)).find((s) => s.source === source && s[what] > above && s.id !== opts.notId),
    `${source} ${what} above ${above}${opts.notId ? ' on a new consumer' : ''}`,
    opts.timeoutMs ?? 30_000,
    100,
  );
}

/** Frames of the hall camera decoded by the page right now (0 without a consumer). */
export async function hallFrames(page: Page): Promise<number> {
  try {
    return (await mediaStats(page)).find((s) => s.source === 'host-camera')?.frames ?? 0;
  } catch {
    return 0;
  }
}

/** Marks the page so a test can tell later that it was never reloaded. */
export async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { __noReload: boolean }).__noReload = true;
  });
}

export function notReloaded(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload === true);
}

/** What a point page says of itself (`<html data-point>`, client/src/pages/join.ts). */
export type PointPhase = 'starting' | 'connected' | 'receiving';
const PHASES: readonly PointPhase[] = ['starting', 'connected', 'receiving'];

/**
 * Opens a point's link and waits until the page says it reached `until` (default
 * `connected`: its controls wired and the server's view shown), rather than racing the
 * page's script. A page that does not get there fails with what it did reach: its phase,
 * status line and join stages, its script errors and the requests that failed.
 */
export async function openPointPage(
  page: Page,
  url: string,
  opts: { until?: PointPhase; timeoutMs?: number } = {},
): Promise<void> {
  const until = opts.until ?? 'connected';
  const seen: string[] = [];
  page.on('pageerror', (e) => seen.push(`page error: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && seen.push(`console: ${m.text()}`));
  page.on('requestfailed', (r) => seen.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => r.status() >= 400 && seen.push(`HTTP ${r.status()}: ${r.url()}`));
  // Chromium drops the requests in flight when the host's network interfaces change (a
  // test's own namespace and veth pair, set up just before, settle a moment later): a page
  // whose script was dropped so never starts, and is loaded again, twice at most.
  for (let attempt = 0; ; attempt++) {
    let dropped = false;
    const onFailed = (r: Request) => {
      if (r.resourceType() === 'script' && r.failure()?.errorText === 'net::ERR_NETWORK_CHANGED') dropped = true;
    };
    page.on('requestfailed', onFailed);
    await page.goto(url).finally(() => page.off('requestfailed', onFailed));
    if (!dropped || attempt >= 2 || (await page.$('html[data-point]'))) break;
    seen.push(`loaded again: a script was dropped on a network change`);
  }
  const wanted = PHASES.slice(PHASES.indexOf(until)).map((p) => `html[data-point="${p}"]`);
  try {
    await page.waitForSelector(wanted.join(', '), { state: 'attached', timeout: opts.timeoutMs ?? 30_000 });
  } catch (e) {
    const state = await page
      .evaluate(() => ({
        phase: document.documentElement.dataset.point ?? '(script not run)',
        status: document.querySelector('[role=status]')?.textContent ?? '',
        stages: (window as unknown as { __joinStages?: unknown }).__joinStages ?? {},
      }))
      .catch((err: Error) => ({ unreadable: err.message }));
    throw new Error(
      `the point page did not reach "${until}": ${JSON.stringify(state)}; ${seen.join('; ') || 'no errors'}\n${(e as Error).message}`,
    );
  }
}
