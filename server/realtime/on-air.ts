// The sessions on the air in this process, by id. LiveBroadcasts alone opens and closes
// them; the others only look: the health monitor's and /metrics' SFU figures, and, on a
// node of several, the cluster's links and heartbeat. Being its own object, it exists
// before all of them, so each is built with it rather than told of the broadcast later.
import type { BroadcastRoom } from '../../sfu';
import type { LiveSession } from './live-session';

export type RoomListener = (sessionId: string, room: BroadcastRoom) => void;

/** What the readers of the sessions on the air may do. */
export interface OnAirView {
  /** The live session of `sessionId` if this process has one (never creates it). */
  peek(sessionId: string): Promise<LiveSession> | undefined;
  /** The rooms open now. */
  rooms(): BroadcastRoom[];
  /** Told of each room a live session creates; returns the unsubscribe. */
  onRoomCreated(fn: RoomListener): () => void;
}

export class OnAir implements OnAirView {
  readonly #sessions = new Map<string, Promise<LiveSession>>();
  readonly #opened = new Map<string, LiveSession>();
  readonly #roomListeners = new Set<RoomListener>();

  peek(sessionId: string): Promise<LiveSession> | undefined {
    return this.#sessions.get(sessionId);
  }

  rooms(): BroadcastRoom[] {
    const out: BroadcastRoom[] = [];
    for (const live of this.#opened.values()) if (live.room && !live.room.closed) out.push(live.room);
    return out;
  }

  onRoomCreated(fn: RoomListener): () => void {
    this.#roomListeners.add(fn);
    return () => this.#roomListeners.delete(fn);
  }

  // ---- for LiveBroadcasts and its sessions

  /** Registers a session being opened; forgotten again if opening fails. */
  opening(sessionId: string, live: Promise<LiveSession>): void {
    this.#sessions.set(sessionId, live);
    live.then(
      (l) => {
        if (this.#sessions.get(sessionId) === live) this.#opened.set(sessionId, l);
      },
      () => {
        if (this.#sessions.get(sessionId) === live) this.#sessions.delete(sessionId);
      },
    );
  }

  forget(sessionId: string): void {
    this.#sessions.delete(sessionId);
    this.#opened.delete(sessionId);
  }

  /** Every session, opened or opening; the registry is empty afterwards. */
  takeAll(): Promise<LiveSession>[] {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    this.#opened.clear();
    return all;
  }

  roomCreated(sessionId: string, room: BroadcastRoom): void {
    for (const fn of this.#roomListeners) fn(sessionId, room);
  }
}
