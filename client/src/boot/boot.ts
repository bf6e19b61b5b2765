// The boot script: a classic script the server puts first in every page's <head>
// (server/http/pages.ts), before the page's <link rel="modulepreload"> and module entry.
// When the entry or one of its chunks fails to load (a network change during the load,
// `net::ERR_NETWORK_CHANGED`; a server restarting), the whole module graph fails and
// nothing of the page runs. The boot script sees the failed load (an `error` event of a
// /bundle script or preload, caught in the capture phase since it does not bubble), and if
// the page has not started once the document has loaded, it says so on the page and tries
// again: after about 2 s, 4 s, 8 s, … at most 30 s, the count kept in sessionStorage and
// cleared once a load starts the page.
//
// A load can also stall with no error: a request that never completes (a connection that
// died without a reset, a link that stopped carrying data) holds the page's modules, and
// the document's load, for as long as the browser waits, minutes or for good. Such a load
// counts as failed once the page has not started, the document has not loaded, and no
// resource of the page has completed for `stallAfterMs` (60 s, longer after each try):
// the browser tells of a resource only once it has all arrived (PerformanceObserver
// `resource` entries), so the wait must outlast the largest file on the slowest link
// served, and since a reload starts the stalled download again, it grows with the tries.
// A stalled load is stopped (`window.stop()`) before its try: the page cannot start between
// the note and the reload, and the stalled requests give up the connections to the server
// (six per host over HTTP/1.1, one over HTTP/2) that the try's checks need.
// Where the browser has no PerformanceObserver, a stall is never counted.
//
// A try first asks the server (HEAD) for the page and for the page's entry bundle, and
// reloads only when both answer 2xx. A reload onto a server that is down or a proxy's 502
// would land on an error page with no boot script, and the tries would end there; one
// onto a server that answers the page but not its bundles (a client being rebuilt, a
// proxy failing /bundle) would fail again at once. A failed check counts as a try and
// waits for the next. The entry is asked rather than the script that failed: a chunk is
// named by its content, so after a deploy the failed one answers 404 for good.
//
// A page that has started may still fail to load a part it imports later (the point page's
// and the host console's mediasoup-client chunk): the browser keeps that failed fetch for
// the page's lifetime, so no import of it in the page can succeed. Such a page calls
// RELOAD_GLOBAL (ui/page-status.ts) and is reloaded the same way, its count carried over
// from the load that started it.
// Bundled on its own, no imports at run time.
import { bootGlobals, RELOADS_KEY, reloadDelayMs, retryNote, stallAfterMs } from './marker';

/** A check of the server that has not answered by then counts as failed. */
const CHECK_TIMEOUT_MS = 10_000;
/** How often a load that has not started is looked at for a stall. */
const STALL_TICK_MS = 5000;
const KEPT = new RegExp(`^${RELOADS_KEY.replace('.', '\\.')}=(\\d+)$`);

const { started } = bootGlobals;
const bundle = `${location.origin}/bundle/`;
let failed = false;
let retrying = false;
/** The count this load found, kept for a started page's reload (RELOAD_GLOBAL). */
let found: number | undefined;

function reloads(): number {
  let kept: string | null;
  try {
    kept = sessionStorage.getItem(RELOADS_KEY);
  } catch {
    kept = KEPT.exec(window.name)?.[1] ?? null; // storage refused: kept in the tab's name
  }
  return Math.max(0, Number(kept)) || 0;
}

function keep(n: number): void {
  try {
    sessionStorage.setItem(RELOADS_KEY, String(n));
  } catch {
    window.name = `${RELOADS_KEY}=${n}`;
  }
}

/** Whether the server answers 2xx for `url` now, not from any cache. */
async function answers(url: string): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), CHECK_TIMEOUT_MS);
  try {
    return (await fetch(url, { method: 'HEAD', cache: 'no-store', signal: abort.signal })).ok;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** The page's module entry, once the parser has reached it. */
function entry(): string | undefined {
  for (const s of document.querySelectorAll<HTMLScriptElement>('script[type=module][src]'))
    if (s.src.startsWith(bundle)) return s.src;
  return undefined;
}

/**
 * Whether the server answers for this page and its entry bundle now (so a reload will
 * bring a boot script back, and the page's scripts with it).
 */
async function serverAnswers(): Promise<boolean> {
  const script = entry();
  const ok = await Promise.all([answers(location.href), script === undefined || answers(script)]);
  return ok.every(Boolean);
}

/**
 * Says so on the page and tries again; `stalled`: without waiting for the document's load;
 * `lazy`: a started page whose later part failed to load.
 */
function retry(how: 'failed' | 'stalled' | 'lazy' = 'failed'): void {
  if (retrying || (how !== 'lazy' && started()) || (how === 'failed' && document.readyState !== 'complete')) return;
  retrying = true;
  if (how === 'stalled') window.stop();
  const note = document.createElement('div');
  note.className = 'status warn';
  note.setAttribute('role', 'status');
  note.setAttribute('data-testid', 'boot-retry');
  // Appended empty, its text added after: a status inserted with its text already in it is
  // often not read out by screen readers.
  (document.body ?? document.documentElement).append(note);
  // Should the page start all the same (a request that stop() did not end), it is left
  // alone: no reload, and no try counted; a part of it that fails later may retry.
  const startedMeanwhile = (): boolean => {
    if (how === 'lazy' || !started()) return false;
    note.remove();
    retrying = false;
    return true;
  };
  const wait = (n: number) => {
    const ms = reloadDelayMs(n, Math.random());
    setTimeout(() => {
      const spans = retryNote(n, ms).map((text, i) => {
        const span = document.createElement('span');
        span.className = span.lang = i ? 'en' : 'vi';
        span.textContent = text;
        return span;
      });
      note.replaceChildren(...spans);
    }, 0);
    setTimeout(() => {
      if (startedMeanwhile()) return;
      keep(n + 1);
      void serverAnswers().then((ok) => startedMeanwhile() || (ok ? location.reload() : wait(n + 1)));
    }, ms);
  };
  wait(how === 'lazy' ? (found ?? reloads()) : reloads());
}

/** Counts a load that has not started the page and has made no progress for long as failed. */
function watchForStall(): void {
  let last = performance.now();
  const progress = () => (last = performance.now());
  let observer: PerformanceObserver;
  try {
    observer = new PerformanceObserver(progress);
    observer.observe({ type: 'resource' });
  } catch {
    return; // no way to see progress: never count a stall
  }
  document.addEventListener('readystatechange', progress);
  const limit = stallAfterMs(reloads());
  const timer = setInterval(() => {
    // Started, or loaded (a failure of the load is then the `load` listener's).
    const over = started() || retrying || document.readyState === 'complete';
    if (!over && performance.now() - last < limit) return;
    clearInterval(timer);
    observer.disconnect();
    document.removeEventListener('readystatechange', progress);
    if (!over) retry('stalled');
  }, STALL_TICK_MS);
}

addEventListener(
  'error',
  (e) => {
    const t = e.target;
    const src =
      t instanceof HTMLScriptElement ? t.src : t instanceof HTMLLinkElement && t.rel === 'modulepreload' ? t.href : '';
    if (!src.startsWith(bundle)) return;
    failed = true;
    retry();
  },
  true,
);
addEventListener('DOMContentLoaded', () => {
  if (!started()) return;
  found = reloads();
  try {
    sessionStorage.removeItem(RELOADS_KEY);
  } catch {
    // nothing kept there
  }
  if (KEPT.test(window.name)) window.name = '';
});
addEventListener('load', () => failed && retry());
watchForStall();
bootGlobals.setReload(() => retry('lazy'));
