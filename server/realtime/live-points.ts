// The points a live session serves on this node: one socket per point (a newer page of
// the same point replaces the older), the video consumers each has resumed ("points
// receiving video"), and the monitor's record of a point's media rebuilt after a worker
// death (how long its video was gone).
import type { Logger } from 'pino';
import type { MediaEvent } from '../contract/attendance';
import type { PointAttendance } from './point-attendance';
import { pointsRoom } from './point-modes';
import type { PointSocket } from './sockets';

export interface LivePointsDeps {
  sessionId: string;
  /** The monitor's connection events of each point. */
  attendance: Pick<PointAttendance, 'recordMediaEvent'>;
  log: Logger;
  /** A point's socket left the session: its hand goes down, its media goes. */
  left: (pointId: string) => void;
}

export class LivePoints {
  readonly #d: LivePointsDeps;
  /** The one socket currently speaking for each point (a second tab replaces the first). */
  readonly #sockets = new Map<string, PointSocket>();
  /** Video consumers resumed per point: "points receiving video". */
  readonly #videoConsumers = new Map<string, Set<string>>();
  /** Points told to rebuild their media after a worker death, and since when (for the monitor). */
  readonly #mediaLost = new Map<string, number>();

  constructor(deps: LivePointsDeps) {
    this.#d = deps;
  }

  get size(): number {
    return this.#sockets.size;
  }

  has(pointId: string): boolean {
    return this.#sockets.has(pointId);
  }

  ids(): IterableIterator<string> {
    return this.#sockets.keys();
  }

  socket(pointId: string): PointSocket | undefined {
    return this.#sockets.get(pointId);
  }

  attach(socket: PointSocket, pointId: string): void {
    const previous = this.#sockets.get(pointId);
    if (previous && previous !== socket) {
      // The same point opened its page again (refresh, second tab, another PC): the
      // newest page is the point; the old one is told why and let go.
      previous.emit('kicked', { reason: 'Điểm cầu đã mở trên một màn hình khác · opened on another screen' });
      this.#detach(pointId);
      previous.disconnect(true);
    }
    this.#sockets.set(pointId, socket);
    void socket.join(pointsRoom(this.#d.sessionId));
  }

  /** The socket left: its media goes, its hand goes down, its floor (if any) ends. */
  detach(socket: PointSocket, pointId: string): void {
    if (this.#sockets.get(pointId) !== socket) return;
    this.#detach(pointId);
  }

  kick(pointId: string, reason: string): void {
    const s = this.#sockets.get(pointId);
    if (!s) return;
    s.emit('kicked', { reason });
    this.#detach(pointId);
    s.disconnect(true);
  }

  #detach(pointId: string): void {
    this.#sockets.delete(pointId);
    this.#videoConsumers.delete(pointId);
    this.#mediaLost.delete(pointId);
    this.#d.left(pointId);
  }

  /** The points of this node receiving video (at least one video consumer resumed). */
  receivingVideo(): string[] {
    return [...this.#videoConsumers].filter(([, set]) => set.size > 0).map(([pointId]) => pointId);
  }

  videoConsumerResumed(pointId: string, consumerId: string): void {
    let set = this.#videoConsumers.get(pointId);
    if (!set) this.#videoConsumers.set(pointId, (set = new Set()));
    set.add(consumerId);
    const lostAt = this.#mediaLost.get(pointId);
    if (lostAt !== undefined) {
      this.#mediaLost.delete(pointId);
      this.#mediaEvent(pointId, { code: 'video-back', params: { ms: Date.now() - lostAt } });
    }
  }

  videoConsumerClosed(pointId: string, consumerId: string): void {
    this.#videoConsumers.get(pointId)?.delete(consumerId);
  }

  /** The point's receive transport is new (or gone): none of its consumers count. */
  videoTransportReset(pointId: string): void {
    this.#videoConsumers.delete(pointId);
  }

  /** The room closed: no point receives video from it. */
  roomClosed(): void {
    this.#videoConsumers.clear();
  }

  /** The point was told to rebuild its media (its worker died): the monitor is told, and how long it took. */
  mediaLost(pointId: string): void {
    this.#mediaLost.set(pointId, Date.now());
    this.#mediaEvent(pointId, { code: 'worker-died', params: {} });
  }

  #mediaEvent(pointId: string, e: MediaEvent): void {
    if (!this.#sockets.has(pointId)) return;
    this.#d.attendance
      .recordMediaEvent({ sessionId: this.#d.sessionId, pointId }, e)
      .catch((err: unknown) => this.#d.log.debug({ err, pointId }, 'could not record a media event'));
  }
}
