// The text channel between the desk and the points of a session: a point's technician
// writes from its page, the desk (the monitor's technicians, the host console) answers
// one point, a district or every point. Messages are kept with the session
// (domain/talk/store.ts) and pushed through Socket.IO rooms, which the Redis adapter
// carries to whichever node serves each page: to the point's page(s), to every monitor
// watching the session and to the session's host consoles.
import type { Logger } from 'pino';
import type { ControlPlane } from '../assembly/control-plane';
import {
  hostTalkRequests,
  pointTalkRequests,
  TALK_CONSOLE_RECENT,
  TALK_HISTORY_RATE,
  talkReaches,
  type TalkMessage,
  type TalkTarget,
} from '../contract/desk';
import type { TalkStore } from '../domain/talk/store';
import { notFound } from '../errors';
import { roomOf } from './live-session';
import { pointRoom } from './point-modes';
import { bindRequests } from './requests';
import type { HostSocket, PointSocket, SocketNamespaces } from './sockets';

/** The Socket.IO room of the monitors watching a session. */
export const monitorRoom = (sessionId: string) => `mon:${sessionId}`;

export interface DeskTalkDeps {
  store: TalkStore;
  namespaces: SocketNamespaces;
  control: Pick<ControlPlane, 'sessions' | 'points'>;
  logger: Logger;
}

export class DeskTalk {
  readonly #log: Logger;

  constructor(private readonly deps: DeskTalkDeps) {
    this.#log = deps.logger.child({ component: 'desk-talk' });
  }

  /** The point's conversation with the desk, oldest first. */
  async history(sessionId: string, pointId: string): Promise<TalkMessage[]> {
    const point = await this.deps.control.points.get(pointId);
    const district = point?.district ?? null;
    // The lists hold only what reaches the point; the filter keeps the rule in one place.
    return (await this.deps.store.conversation(sessionId, pointId, district)).filter((m) =>
      talkReaches(m, pointId, district),
    );
  }

  /** A point's technician wrote to the desk (counted against the point's window). */
  async fromPoint(sessionId: string, pointId: string, text: string): Promise<TalkMessage> {
    await this.deps.store.countPointMessage(sessionId, pointId);
    const point = await this.deps.control.points.get(pointId);
    const m = await this.deps.store.add({
      sessionId,
      from: 'point',
      pointId,
      by: point?.name ?? pointId,
      to: null,
      text,
    });
    this.#push(m, [pointRoom(sessionId, pointId)]);
    return m;
  }

  /** The desk wrote to a point, a district or all; the target must hold an invited point. */
  async fromDesk(sessionId: string, by: string, to: TalkTarget, text: string): Promise<TalkMessage> {
    const rooms = await this.#rooms(sessionId, to);
    const m = await this.deps.store.add({ sessionId, from: 'desk', pointId: null, by, to, text });
    this.#log.info({ sessionId, by, to, points: rooms.length }, 'the desk wrote to points');
    this.#push(m, rooms);
    return m;
  }

  unread(sessionId: string): Promise<Record<string, number>> {
    return this.deps.store.unread(sessionId);
  }

  /** A desk read the point's messages: every monitor drops its marker. */
  async markRead(sessionId: string, pointId: string): Promise<void> {
    if (await this.deps.store.markRead(sessionId, pointId)) {
      this.deps.namespaces.monitor.to(monitorRoom(sessionId)).emit('talk:read', { sessionId, pointId });
    }
  }

  /** The requests of a point's page (its identity is its join token's). */
  bindPoint(socket: PointSocket, id: { sessionId: string; pointId: string }, log: Logger): void {
    bindRequests(
      socket,
      { 'talk:send': pointTalkRequests['talk:send'] },
      { 'talk:send': ({ text }) => this.fromPoint(id.sessionId, id.pointId, text) },
      id,
      log,
    );
    // History is read when a page opens, not polled: its own, tighter limit.
    bindRequests(
      socket,
      { 'talk:history': pointTalkRequests['talk:history'] },
      { 'talk:history': async () => ({ messages: await this.history(id.sessionId, id.pointId) }) },
      id,
      log,
      TALK_HISTORY_RATE,
    );
  }

  /** The requests of a host console, for the session it is attached to. */
  bindHost(socket: HostSocket, sessionId: () => string, log: Logger): void {
    const by = socket.data.user.username;
    bindRequests(
      socket,
      hostTalkRequests,
      {
        'talk:send': ({ to, text }) => this.fromDesk(sessionId(), by, to, text),
        'talk:history': async ({ pointId }) => {
          const s = sessionId();
          if (!pointId) return { messages: await this.deps.store.recent(s, TALK_CONSOLE_RECENT) };
          await this.requireInvited(s, pointId);
          return { messages: await this.history(s, pointId) };
        },
      },
      {},
      log,
    );
  }

  async requireInvited(sessionId: string, pointId: string): Promise<void> {
    const s = await this.deps.control.sessions.require(sessionId);
    if (!s.invitedPointIds.includes(pointId)) throw notFound(`point ${pointId} in this session`);
  }

  /** The point rooms a desk message goes to. */
  async #rooms(sessionId: string, to: TalkTarget): Promise<string[]> {
    const s = await this.deps.control.sessions.require(sessionId);
    if (to.kind === 'all') return s.invitedPointIds.map((p) => pointRoom(sessionId, p));
    if (to.kind === 'point') {
      if (!s.invitedPointIds.includes(to.pointId)) throw notFound(`point ${to.pointId} in this session`);
      return [pointRoom(sessionId, to.pointId)];
    }
    const points = await Promise.all(s.invitedPointIds.map((p) => this.deps.control.points.get(p)));
    const inDistrict = points.filter((p) => p?.district === to.district).map((p) => pointRoom(sessionId, p!.id));
    if (inDistrict.length === 0) throw notFound(`invited points of district ${to.district} in this session`);
    return inDistrict;
  }

  #push(m: TalkMessage, pointRooms: string[]): void {
    const { point, monitor, host } = this.deps.namespaces;
    if (pointRooms.length) point.to(pointRooms).emit('talk', m);
    monitor.to(monitorRoom(m.sessionId)).emit('talk', m);
    host.to(roomOf.hosts(m.sessionId)).emit('talk', m);
  }
}
