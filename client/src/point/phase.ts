// Where a point page is, on its root element (`<html data-point="…">`), for the end-to-end
// tests and a technician's console to wait on:
// - `starting`: its controls are wired (its script has run), and again while its socket
//   reconnects. A page before the lobby opens (it shows the session and a countdown
//   without a socket) stays `starting`.
// - `connected`: the server's view is shown on a connected socket, and no media transport
//   is connected: the media is being built or rebuilt (a socket reconnect, the server's
//   rtc:reconnect, the media watchdog), its ICE is reconnecting, or the briefing ended or
//   was cancelled and the page closed its media.
// - `receiving`: the hall's media transport is connected, on a connected socket whose
//   view is shown.
// - `refused`: the server turned the link away (invalid, expired, revoked, no longer
//   invited, cancelled) or let the point go (`kicked`: its link revoked while connected,
//   the session gone, or opened on another screen). For good: the page does not reconnect.
// The rules are pure (phaseAfter); PointPhase keeps the page's part of their context.

export type PagePhase = 'starting' | 'connected' | 'receiving' | 'refused';

export type PhaseEvent =
  /** The page's controls are wired. */
  | 'wired'
  /** The server's view, asked for once the socket (re)connected, is shown. */
  | 'view-shown'
  /** The socket dropped; it reconnects by itself. */
  | 'socket-lost'
  /** The server refused the link or let the point go. */
  | 'refused'
  /** The receive transport's ICE and DTLS connected. */
  | 'media-connected'
  /** No receive transport is connected: (re)built, reconnecting, or closed with the briefing. */
  | 'media-down';

export interface PhaseContext {
  /** The page's socket is connected now. */
  socketConnected: boolean;
  /** The server's view was shown since the socket last connected. */
  viewShown: boolean;
}

/** The phase an event moves a page to, or undefined when it stays where it is. */
export function phaseAfter(event: PhaseEvent, ctx: PhaseContext): PagePhase | undefined {
  const shown = ctx.socketConnected && ctx.viewShown;
  switch (event) {
    case 'wired':
    case 'socket-lost':
      return 'starting';
    case 'refused':
      return 'refused';
    case 'view-shown':
      return ctx.socketConnected ? 'connected' : undefined;
    case 'media-connected':
      return shown ? 'receiving' : undefined;
    case 'media-down':
      return shown ? 'connected' : undefined;
  }
}

/** A page's phase: follows its events and writes it on `root` (`data-point`). */
export class PointPhase {
  #viewShown = false;

  constructor(
    private readonly root: { dataset: DOMStringMap },
    private readonly socket: { readonly connected: boolean },
  ) {}

  get current(): PagePhase | undefined {
    return this.root.dataset.point as PagePhase | undefined;
  }

  on(event: PhaseEvent): void {
    if (this.current === 'refused') return;
    if (event === 'view-shown') this.#viewShown = this.socket.connected;
    else if (event === 'socket-lost' || event === 'refused') this.#viewShown = false;
    const next = phaseAfter(event, { socketConnected: this.socket.connected, viewShown: this.#viewShown });
    if (next) this.root.dataset.point = next;
  }
}
