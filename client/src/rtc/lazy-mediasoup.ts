// The pages' one way to rtc/mediasoup.ts (for the point page, all of mediasoup-client):
// imported when first needed, once. A failed import is not tried again: the browser keeps
// a failed module fetch for the page's lifetime (the import of that URL fails at once from
// then on), so only a reload brings the chunk back. It rejects with RequestError
// `chunk_unavailable`, on which the page reloads (ui/page-status.ts).
import { RequestError } from '../net/request';

export type Mediasoup = typeof import('./mediasoup.js');

let loading: Promise<Mediasoup> | undefined;

export function loadMediasoup(): Promise<Mediasoup> {
  loading ??= import('./mediasoup.js').catch((err: unknown) => {
    throw new RequestError('chunk_unavailable', `mediasoup-client did not load: ${String(err)}`);
  });
  return loading;
}
