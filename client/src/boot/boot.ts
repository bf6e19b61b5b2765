// The boot script: a classic script the server puts first in every page's <head>
// (server/http/pages.ts), before the page's <link rel="modulepreload"> and module entry.
// When the entry or one of its chunks fails to load (a network change during the load,
// `net::ERR_NETWORK_CHANGED`; a server restarting), the whole module graph fails and
// nothing of the page runs. The boot script sees the failed load (an `error` event of a
// /bundle script or preload, caught in the capture phase since it does not bubble), and if
// the page has not started once the document has loaded, it says so on the page and tries
// again: after about 2 s, 4 s, 8 s, … at most 30 s, the count kept in sessionStorage and
// cleared once a load starts the page. A try first asks the server for the page (HEAD):
// only an answer of 2xx reloads it. A reload onto a server that is down or a proxy's
// 502 would land on an error page with no boot script, and the tries would end there;
// a failed check instead counts as a try and waits for the next.
// Bundled on its own, no imports at run time.
import { RELOADS_KEY, reloadDelayMs, retryNote, STARTED_GLOBAL } from './marker';

/** A check of the server that has not answered by then counts as failed. */
const CHECK_TIMEOUT_MS = 10_000;
const KEPT = new RegExp(`^${RELOADS_KEY.replace('.', '\\.')}=(\\d+)$`);

const started = () => (window as unknown as Record<string, unknown>)[STARTED_GLOBAL] === true;
const bundle = `${location.origin}/bundle/`;
let failed = false;
let retrying = false;

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

/** Whether the server answers for this page now (so a reload will bring a boot script back). */
async function serverAnswers(): Promise<boolean> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), CHECK_TIMEOUT_MS);
  try {
    return (await fetch(location.href, { method: 'HEAD', cache: 'no-store', signal: abort.signal })).ok;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function retry(): void {
  if (retrying || started() || document.readyState !== 'complete') return;
  retrying = true;
  const note = document.createElement('div');
  note.className = 'status warn';
  note.setAttribute('role', 'status');
  note.setAttribute('data-testid', 'boot-retry');
  // Appended empty, its text added after: a status inserted with its text already in it is
  // often not read out by screen readers.
  document.body.append(note);
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
      keep(n + 1);
      void serverAnswers().then((ok) => (ok ? location.reload() : wait(n + 1)));
    }, ms);
  };
  wait(reloads());
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
  try {
    sessionStorage.removeItem(RELOADS_KEY);
  } catch {
    // nothing kept there
  }
  if (KEPT.test(window.name)) window.name = '';
});
addEventListener('load', () => failed && retry());
