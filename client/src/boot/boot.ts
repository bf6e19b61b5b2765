// The boot script: a classic script the server puts first in every page's <head>
// (server/http/pages.ts), before the page's <link rel="modulepreload"> and module entry.
// When the entry or one of its chunks fails to load (a network change during the load,
// `net::ERR_NETWORK_CHANGED`; a server restarting), the whole module graph fails and
// nothing of the page runs. The boot script sees the failed load (an `error` event of a
// /bundle script or preload, caught in the capture phase since it does not bubble), and if
// the page has not started once the document has loaded, it says so on the page and loads
// it again: after 2 s, 4 s, 8 s, … at most 30 s, the count kept in sessionStorage and
// cleared once a load starts the page. Before each reload it asks the server for the page
// (HEAD) and reloads only on an answer of 2xx: a reload onto a server that is down or a
// proxy's 502 would land on an error page with no boot script, and the tries would end
// there; a failed check instead counts as a try and waits for the next.
// Bundled on its own, no imports at run time.
import { RELOADS_KEY, reloadDelayMs, STARTED_GLOBAL } from './marker';

/** A check of the server that has not answered by then counts as failed. */
const CHECK_TIMEOUT_MS = 10_000;

const started = () => (window as unknown as Record<string, unknown>)[STARTED_GLOBAL] === true;
const bundle = `${location.origin}/bundle/`;
let failed = false;
let retrying = false;

function reloads(): number {
  try {
    return Number(sessionStorage.getItem(RELOADS_KEY)) || 0;
  } catch {
    return 0; // storage refused: every wait is the first one, still never a tight loop
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
  document.body.append(note);
  const wait = (n: number) => {
    const seconds = reloadDelayMs(n) / 1000;
    const lines: [lang: string, text: string][] = [
      ['vi', `Trang chưa tải xong do mạng gián đoạn. Tự động tải lại sau ${seconds} giây…`],
      ['en', `The page did not finish loading (network interrupted). Reloading in ${seconds} s…`],
    ];
    note.replaceChildren(
      ...lines.map(([lang, text]) => {
        const span = document.createElement('span');
        span.className = lang;
        span.textContent = text;
        return span;
      }),
    );
    setTimeout(() => {
      try {
        sessionStorage.setItem(RELOADS_KEY, String(n + 1));
      } catch {
        // storage refused: the next load waits the first delay again
      }
      void serverAnswers().then((ok) => (ok ? location.reload() : wait(n + 1)));
    }, seconds * 1000);
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
    // nothing kept, nothing to clear
  }
});
addEventListener('load', () => failed && retry());
