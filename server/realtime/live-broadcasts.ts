// Opens and closes the sessions on the air in this process (kept in OnAir). Follows the
// control plane's session events: opens a LiveSession when a session needs media, pushes
// every change to its clients, and closes it when the session ends or is cancelled.
import type { Logger } from 'pino';
import type { Session } from '../contract/api';
import { LiveSession, type LiveSessionDeps } from './live-session';
import type { OnAir } from './on-air';

/** After the end, clients get the final view; the room closes a moment later. */
const CLOSE_DELAY_MS = 2000;

export class LiveBroadcasts {
  readonly #onAir: OnAir;
  readonly #log: Logger;
  readonly #unsubscribe: () => void;
  #closed = false;

  readonly #deps: LiveSessionDeps;

  constructor(deps: Omit<LiveSessionDeps, 'roomCreated'> & { onAir: OnAir }) {
    const { onAir, ...rest } = deps;
    this.#onAir = onAir;
    this.#deps = { ...rest, roomCreated: (sessionId, room) => onAir.roomCreated(sessionId, room) };
    this.#log = deps.logger;
    const events = deps.control.events;
    const onState = ({ sessionId }: { sessionId: string }) => void this.#refresh(sessionId);
    const onAgenda = ({ sessionId }: { sessionId: string }) => void this.#refresh(sessionId, false);
    const onRevoked = ({ sessionId, pointId }: { sessionId: string; pointId: string }) => {
      void this.#onAir
        .peek(sessionId)
        ?.then((live) => live.points.kick(pointId, 'Đường dẫn đã bị thu hồi · this link was revoked'));
    };
    events.on('stateChanged', onState);
    events.on('agendaChanged', onAgenda);
    events.on('sessionUpdated', onAgenda);
    events.on('linkRevoked', onRevoked);
    this.#unsubscribe = () => {
      events.off('stateChanged', onState);
      events.off('agendaChanged', onAgenda);
      events.off('sessionUpdated', onAgenda);
      events.off('linkRevoked', onRevoked);
    };
  }

  /** The live session for `sessionId`, created on first use. */
  get(sessionId: string): Promise<LiveSession> {
    if (this.#closed) return Promise.reject(new Error('shutting down'));
    let p = this.#onAir.peek(sessionId);
    if (!p) {
      p = this.#deps.control.sessions.require(sessionId).then((s: Session) => LiveSession.create(this.#deps, s));
      this.#onAir.opening(sessionId, p);
    }
    return p;
  }

  /** The live session for `sessionId` if this process has one (never creates it). */
  peek(sessionId: string): Promise<LiveSession> | undefined {
    return this.#onAir.peek(sessionId);
  }

  async #refresh(sessionId: string, create = true): Promise<void> {
    try {
      const existing = this.#onAir.peek(sessionId);
      if (!existing && !create) return;
      const session = await this.#deps.control.sessions.get(sessionId);
      if (!session) return;
      if (!existing && !['lobby', 'live'].includes(session.state)) return;
      const live = await this.get(sessionId);
      await live.sessionChanged(session);
      if (session.state === 'ended' || session.state === 'cancelled') {
        setTimeout(() => {
          live.close();
          if (this.#onAir.peek(sessionId) && !['lobby', 'live'].includes(live.session.state))
            this.#onAir.forget(sessionId);
        }, CLOSE_DELAY_MS).unref();
      }
    } catch (err) {
      this.#log.warn({ err, sessionId }, 'could not apply a session change to its live broadcast');
    }
  }

  /** Closes every room. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    const all = await Promise.allSettled(this.#onAir.takeAll());
    for (const r of all) if (r.status === 'fulfilled') r.value.close();
  }
}
