// What the boot script (client/src/boot/boot.ts) and the pages' bundles share.

/** Set on `window` once a page's module graph has loaded and its entry begins to run. */
export const STARTED_GLOBAL = '__pageStarted';

/** The page's reloads so far (sessionStorage), cleared once a load starts the page. */
export const RELOADS_KEY = 'briefing.bootReloads';

/** The wait before the next reload: 2 s, 4 s, 8 s, … at most 30 s. */
export function reloadDelayMs(reloads: number): number {
  return Math.min(2000 * 2 ** Math.min(reloads, 10), 30_000);
}
