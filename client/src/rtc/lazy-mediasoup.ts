// The point page's one way to mediasoup-client (rtc/mediasoup.ts): imported when first
// needed, once. A failed import (the chunk's load cut by a network change) is tried again
// by the next call: the receiver's build, which needs it, retries with a backoff.
export type Mediasoup = typeof import('./mediasoup.js');

let loading: Promise<Mediasoup> | undefined;

export function loadMediasoup(): Promise<Mediasoup> {
  if (!loading) {
    const p = import('./mediasoup.js');
    p.catch(() => {
      if (loading === p) loading = undefined;
    });
    loading = p;
  }
  return loading;
}
