// What the boot script (client/src/boot/boot.ts), the pages and the tests share. The
// pages set the started flag through client/src/boot/started.ts, which imports nothing;
// the boot script and the pages read and write the globals through `bootGlobals` here.

/** Set on `window` once a page's module graph has loaded and its entry begins to run. */
export const STARTED_GLOBAL = '__pageStarted';

/**
 * Set on `window` by the boot script: a function a started page calls when a part it
 * loads later (a lazy chunk) failed to load. The browser keeps a failed module fetch for
 * the page's lifetime, so only a reload brings the part back: the boot script says so on
 * the page and reloads with the same waits and server checks as for a failed first load.
 * Once per page; the count of such reloads is kept until a page runs with no such failure
 * (a reload whose chunk fails again waits longer).
 */
export const RELOAD_GLOBAL = '__pageReload';

/**
 * The boot script's globals on `window` (STARTED_GLOBAL, RELOAD_GLOBAL), read here only,
 * and set here only but for the started flag (./started.ts, which imports nothing). What is
 * found there is checked, not trusted: any script may have set it, and a page served
 * without the boot script (a test's page) has no reload.
 */
export const bootGlobals = {
  /** Whether the page's module graph has loaded and its entry has begun to run. */
  started: (): boolean => Reflect.get(globalThis, STARTED_GLOBAL) === true,
  /** The boot script's reload of a started page, or undefined where no boot script ran. */
  reload: (): (() => void) | undefined => {
    const reload: unknown = Reflect.get(globalThis, RELOAD_GLOBAL);
    return typeof reload === 'function' ? () => void reload() : undefined;
  },
  /** Set by the boot script. */
  setReload: (reload: () => void): void => void Reflect.set(globalThis, RELOAD_GLOBAL, reload),
};

/**
 * The page's reloads so far: in sessionStorage, or in `window.name` (`<key>=<n>`) where
 * the browser refuses storage. Cleared once a load starts the page.
 */
export const RELOADS_KEY = 'briefing.bootReloads';

/** From this try on (the first is 1), the note asks to tell the central technician. */
export const TELL_TECHNICIAN_FROM = 5;

/**
 * The wait before the next try: 2 s, 4 s, 8 s, … at most 30 s, times a factor between
 * 0.8 and 1.2 (`random` in [0, 1)), so the pages that failed in the same outage do not
 * all come back at the same moment. A count that is negative or not a number counts as 0.
 */
export function reloadDelayMs(reloads: number, random = 0.5): number {
  const n = Math.max(0, reloads) || 0;
  return Math.round(Math.min(2000 * 2 ** Math.min(n, 10), 30_000) * (0.8 + 0.4 * random));
}

/** The note on a page about to try again (`reloads` done so far), Vietnamese and English. */
export function retryNote(reloads: number, waitMs: number): [vi: string, en: string] {
  const s = Math.round(waitMs / 1000);
  const late = reloads + 1 >= TELL_TECHNICIAN_FROM;
  return [
    `Trang chưa tải xong (mất kết nối tới máy chủ). Tự động tải lại sau ${s} giây…` +
      (late ? ' Nếu vẫn lỗi, hãy báo kỹ thuật viên trung tâm.' : ''),
    `The page did not finish loading (lost the connection to the server). Reloading in ${s} s…` +
      (late ? ' If this goes on, tell the central technician.' : ''),
  ];
}

/**
 * How long a load that has not started the page may go with no resource of the page
 * completed before it counts as stalled: 60 s on the first load, 2 min after one try,
 * 4 min after two or more (`reloads` done so far; negative or not a number counts as 0). The browser tells of
 * a resource only once it has all arrived, so this must outlast the page's largest file
 * on the slowest link served: the largest chunk is about 92 KiB as sent (gzip), some 12 s
 * at 64 kbps. Longer after each try, as a reload starts the stalled download again.
 */
export function stallAfterMs(reloads: number): number {
  const n = Math.max(0, reloads) || 0;
  return 60_000 * 2 ** Math.min(n, 2);
}
