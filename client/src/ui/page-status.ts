// A page's status line, and what it says when mediasoup-client did not load. The point page
// and the host console import mediasoup-client's chunk only when they first need the media
// (rtc/lazy-mediasoup.ts rejects with RequestError `chunk_unavailable` when it fails): the
// browser keeps a failed module fetch for the page's lifetime, so no import in the page can
// bring it back. The page says so and reloads through the boot script (boot/marker.ts
// `bootGlobals.reload`), which waits longer after each try, its count carried over from the
// load that started the page. From then on the line keeps that text, whatever the page
// would say next.
import { bootGlobals } from '../boot/marker';
import { RequestError } from '../net/request';
import { setBi, type Text } from './i18n';

export type StatusKind = 'info' | 'ok' | 'warn' | 'bad';

export const MEDIA_UNAVAILABLE_TEXT: Text = [
  'Không tải được thành phần hình ảnh, đang tải lại trang…',
  'Could not load the media component, reloading…',
];

/** Whether `err` is mediasoup-client's chunk that did not load (rtc/lazy-mediasoup.ts). */
export const isChunkUnavailable = (err: unknown): boolean =>
  err instanceof RequestError && err.code === 'chunk_unavailable';

export class PageStatus {
  #reloading = false;

  constructor(readonly node: HTMLElement) {}

  /** Writes the line (its class `status <kind>`), unless the page is reloading. */
  say(text: Text, kind: StatusKind = 'info'): void {
    if (this.#reloading) return;
    this.node.className = `status ${kind}`;
    setBi(this.node, text);
  }

  /**
   * Whether `err` is mediasoup-client's chunk that did not load; if so, the first time,
   * the line says so and the page reloads. Without the boot script's reload (no boot
   * script) the line says so and is not held: no reload will come.
   */
  mediaUnavailable(err: unknown): boolean {
    if (!isChunkUnavailable(err)) return false;
    if (this.#reloading) return true;
    this.say(MEDIA_UNAVAILABLE_TEXT, 'bad');
    const reload = bootGlobals.reload();
    if (reload) {
      this.#reloading = true;
      reload();
    }
    return true;
  }
}
