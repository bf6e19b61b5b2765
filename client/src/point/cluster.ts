// Scale-out: with several nodes, a point's page lives on the node the cluster assigned
// it (an edge), so its socket and media stay same-origin (the page's CSP allows no
// other). The page asks the server it was opened on where to go and moves there; a page
// on an edge that keeps failing to reach it goes back "home" to be assigned a live one.
// On a single server the question answers 404 and nothing moves.
import type { PointNode } from '../../../server/contract/cluster';

const HOME_PARAM = 'home';
/** Failed reconnects in a row before an edge page goes home (the socket retries every 0.5-5 s). */
const GO_HOME_AFTER = 4;

function homeUrl(): URL | undefined {
  const raw = new URLSearchParams(location.search).get(HOME_PARAM);
  if (!raw) return undefined;
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves true when the page is moving to its node (do not connect here). */
export async function followAssignment(token: string): Promise<boolean> {
  try {
    const res = await fetch(`/cluster/v1/join/${encodeURIComponent(token)}/node`, { cache: 'no-store' });
    if (res.status !== 200) return false; // 204: one process, no cluster
    const node = (await res.json()) as PointNode;
    const target = new URL(node.url);
    if (target.origin === location.origin) return false;
    const home = homeUrl()?.origin ?? location.origin;
    location.replace(`${target.origin}/join/${encodeURIComponent(token)}?${HOME_PARAM}=${encodeURIComponent(home)}`);
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
      const home = homeUrl();
      if (!home || home.origin === location.origin || ++failures < GO_HOME_AFTER) return;
      location.replace(`${home.origin}/join/${encodeURIComponent(token)}`);
    },
    connected: () => {
      failures = 0;
    },
  };
}
