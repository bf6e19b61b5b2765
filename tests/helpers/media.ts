// Waiting on what a point page decodes (the stats and the host going live are in
// scripts/lib/briefing-pages.ts, shared with the benchmarks), and reload markers.
import type { Page } from 'playwright-core';
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
