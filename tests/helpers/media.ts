// Waiting on what a point page decodes (the stats and the host going live are in
// scripts/lib/briefing-pages.ts, shared with the benchmarks), and reload markers.
import type { ConsoleMessage, Page, Request, Response } from 'playwright-core';
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

/** What a point page says of itself (`<html data-point>`, client/src/point/phase.ts). */
export type PointPhase = 'starting' | 'connected' | 'receiving' | 'refused';
const PHASES: readonly PointPhase[] = ['starting', 'connected', 'receiving'];

/** A point page's phase now (undefined before its script ran). */
export function pointPhase(page: Page): Promise<string | undefined> {
  return page.evaluate(() => document.documentElement.dataset.point);
}

/**
 * Opens a point's link and waits until the page says it reached `until` (default
 * `connected`: its controls wired and the server's view shown), rather than racing the
 * page's script. A page that does not get there fails with what it did reach: its phase,
 * status line and join stages, its script errors and the requests that failed; a page
 * that says `refused` (unless that is what is waited for) fails at once.
 */
export async function openPointPage(
  page: Page,
  url: string,
  opts: { until?: PointPhase; timeoutMs?: number } = {},
): Promise<void> {
  const until = opts.until ?? 'connected';
  const seen: string[] = [];
  const onError = (e: Error) => seen.push(`page error: ${e.message}`);
  const onConsole = (m: ConsoleMessage) => m.type() === 'error' && seen.push(`console: ${m.text()}`);
  const onRequestFailed = (r: Request) => seen.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
  const onResponse = (r: Response) => r.status() >= 400 && seen.push(`HTTP ${r.status()}: ${r.url()}`);
  page.on('pageerror', onError);
  page.on('console', onConsole);
  page.on('requestfailed', onRequestFailed);
  page.on('response', onResponse);
  // Chromium drops the requests in flight when the host's network interfaces change:
  // any network namespace and veth pair made on the host (this test's, or another's
  // running beside it) settle a moment later. A page whose script was dropped so never
  // starts until its boot script loads it again (client/src/boot/boot.ts): the wait
  // below covers that reload, and each drop is written to stderr so a host whose network
  // keeps changing shows in the logs.
  const onDropped = (r: Request) => {
    if (r.resourceType() !== 'script' || r.failure()?.errorText !== 'net::ERR_NETWORK_CHANGED') return;
    const note = `${r.url()} dropped on a network change; the page reloads itself`;
    seen.push(note);
    process.stderr.write(`[openPointPage] ${url}: ${note}\n`);
  };
  page.on('requestfailed', onDropped);
  const describe = async () =>
    JSON.stringify(
      await page
        .evaluate(() => ({
          phase: document.documentElement.dataset.point ?? '(script not run)',
          status: document.querySelector('[role=status]')?.textContent ?? '',
          stages: (window as unknown as { __joinStages?: unknown }).__joinStages ?? {},
        }))
        .catch((err: Error) => ({ unreadable: err.message })),
    );
  try {
    await page.goto(url);
    const wanted = (until === 'refused' ? ['refused'] : [...PHASES.slice(PHASES.indexOf(until)), 'refused']).map(
      (p) => `html[data-point="${p}"]`,
    );
    try {
      await page.waitForSelector(wanted.join(', '), { state: 'attached', timeout: opts.timeoutMs ?? 30_000 });
    } catch (e) {
      throw new Error(
        `the point page did not reach "${until}": ${await describe()}; ${seen.join('; ') || 'no errors'}\n${(e as Error).message}`,
      );
    }
    if (until !== 'refused' && (await pointPhase(page)) === 'refused') {
      throw new Error(`the point page was refused, waiting for "${until}": ${await describe()}`);
    }
  } finally {
    page.off('pageerror', onError);
    page.off('console', onConsole);
    page.off('requestfailed', onRequestFailed);
    page.off('response', onResponse);
    page.off('requestfailed', onDropped);
  }
}
