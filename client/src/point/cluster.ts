// Scale-out: with several nodes, a point's page lives on the node the cluster assigned
// it (an edge), so its socket and media stay same-origin (the page's CSP allows no
// other). The page asks the server it was opened on where to go and moves there; a page
// on an edge that keeps failing to reach it goes back "home" to be assigned a live one.
// On a single server the page is told so in its HTML (`<meta name="briefing-cluster"
// content="none">`) and does not ask: its socket connects at once.
//
// The home travels in the URL (`?home=`), so anyone can craft a link with any home: the
// page follows it only when the node it is on vouches for it (GET /cluster/v1/node-urls,
// the public URLs of the cluster's nodes), else its home is its own origin. The check is
// made while the node answers, at load: once the node is down it cannot be asked.
import type { NodeUrls, PointNode } from '../../../server/contract/cluster';

const HOME_PARAM = 'home';
/** Failed reconnects in a row before an edge page goes home (the socket retries every 0.5-5 s). */
const GO_HOME_AFTER = 4;

/**
 * The origin a page may go home to: `raw`'s origin when it is one of the cluster's
 * `known` URLs (and http or https), otherwise the page's own origin. Pure (unit-tested).
 */
export function vouchedHome(raw: string | null, selfOrigin: string, known: readonly string[]): string {
  if (!raw) return selfOrigin;
  let wanted: URL;
  try {
    wanted = new URL(raw);
  } catch {
    return selfOrigin;
  }
  if (wanted.protocol !== 'http:' && wanted.protocol !== 'https:') return selfOrigin;
  for (const k of known) {
    try {
      if (new URL(k).origin === wanted.origin) return wanted.origin;
    } catch {
      /* not a URL: vouches for nothing */
    }
  }
  return selfOrigin;
}

/**
 * The shape of GET /cluster/v1/node-urls (NodeUrlsSchema in the contract), checked by
 * hand: the point page loads no zod. Pure (unit-tested).
 */
export function isNodeUrls(v: unknown): v is NodeUrls {
  if (typeof v !== 'object' || v === null) return false;
  const urls = (v as { urls?: unknown }).urls;
  return Array.isArray(urls) && urls.every((u) => typeof u === 'string');
}

let home: Promise<string> | undefined;
/** Set once the check has answered; until then the page has no other home than itself. */
let resolvedHome: string | undefined;

/** This page's home origin, checked with the node it is on (once per page). */
function checkHome(): Promise<string> {
  home ??= (async () => {
    const raw = new URLSearchParams(location.search).get(HOME_PARAM);
    if (!raw) return location.origin;
    try {
      const res = await fetch('/cluster/v1/node-urls', { cache: 'no-store' });
      if (res.status !== 200) return location.origin; // 204: one process, no cluster
      const body: unknown = await res.json();
      return vouchedHome(raw, location.origin, isNodeUrls(body) ? body.urls : []);
    } catch {
      return location.origin;
    }
  })().then((h) => (resolvedHome = h));
  return home;
}

/** The server that sent this page is a single server, not a node of a cluster. */
function servedAlone(): boolean {
  return document.querySelector<HTMLMetaElement>('meta[name="briefing-cluster"]')?.content === 'none';
}

/** Resolves true when the page is moving to its node (do not connect here). */
export async function followAssignment(token: string): Promise<boolean> {
  if (servedAlone()) return false;
  const homeChecked = checkHome();
  try {
    const res = await fetch(`/cluster/v1/join/${encodeURIComponent(token)}/node`, { cache: 'no-store' });
    if (res.status !== 200) return false; // 204: one process, no cluster
    const node = (await res.json()) as PointNode;
    const target = new URL(node.url);
    if (target.origin === location.origin) return false;
    const h = await homeChecked;
    location.replace(`${target.origin}/join/${encodeURIComponent(token)}?${HOME_PARAM}=${encodeURIComponent(h)}`);
    return true;
  } catch {
    return false;
  }
}

/** Call on each failed (re)connect and on success; an edge page that keeps failing goes home. */
export function homeFallback(token: string): { failed: () => void; connected: () => void } {
  let failures = 0;
  return {
    failed: () => {
      if (!resolvedHome || resolvedHome === location.origin || ++failures < GO_HOME_AFTER) return;
      location.replace(`${resolvedHome}/join/${encodeURIComponent(token)}`);
    },
    connected: () => {
      failures = 0;
    },
  };
}
