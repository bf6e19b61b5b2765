// One briefing session on the air: its BroadcastRoom, the host's settings (agenda item,
// pauses, slides, the hall's source) and its hosts' sockets, with parts of their own:
// this node's points (live-points.ts), raised hands (raised-hands.ts), the floor
// (floor-grant.ts), the host's live numbers (host-numbers.ts), its timeline and
// recording (live-record.ts). It turns room events into pushes.
// Created by LiveBroadcasts when a session needs media (lobby, live, or a host
// preparing); closed when the session ends or is cancelled.
import type { Logger } from 'pino';
import { BroadcastRoom, type WorkerPool } from '../../sfu';
import type { AgendaCaption, BroadcastView, HallChoice, LiveNumbers } from '../contract/broadcast';
import type { Session } from '../contract/api';
import type { ControlPlane } from '../assembly/control-plane';
import { OPEN_STATES } from '../contract/session-state';
import { AppError } from '../errors';
import type { LiveState, LiveStateStore } from './live-state';
import type { PointAttendance } from './point-attendance';
import { pointsRoom } from './point-modes';
import type { HostNamespace, HostSocket, PointNamespace } from './sockets';
import type { RecordingPort } from '../recording/recordings';
import { LiveRecord } from './live-record';
import { HallSwitch } from './hall-source';
import { RaisedHands } from './raised-hands';
import { floorMuted } from './floor-mic';
import { FloorGrant } from './floor-grant';
import type { SipFloorPort } from '../sip/floor-bridge';
import type { ClusterPort } from './cluster-port';
import { LivePoints } from './live-points';
import { HostNumbers } from './host-numbers';

export interface LiveSessionDeps {
  pool: WorkerPool;
  control: ControlPlane;
  store: LiveStateStore;
  logger: Logger;
  /** The monitor's connection events of each point (media rebuilt after a worker death). */
  attendance: Pick<PointAttendance, 'recordMediaEvent'>;
  pointNs: PointNamespace;
  hostNs: HostNamespace;
  /** Records the live session's media (NO_RECORDING when recording is off). */
  recording: RecordingPort;
  /** Delegates reported by headcount, from the attendance ledger (0 when unknown). */
  delegatesReported: (sessionId: string) => Promise<number>;
  /** The other nodes (SINGLE_NODE when this process is the whole deployment). */
  cluster: ClusterPort;
  /** Told of each room created (the cluster links it to other nodes' rooms). */
  roomCreated: (sessionId: string, room: BroadcastRoom) => void;
  /** Room systems dial in over SIP: the routers get G.711 and G.722 too. */
  sipCodecs?: boolean;
  /** Video producers' key-frame request window (ms); undefined: the SFU's default. */
  keyFrameRequestDelayMs?: number | undefined;
  /** The floor of points connected over SIP (the gateway, made after the sessions). */
  sipFloor?: () => SipFloorPort | undefined;
}

export const roomOf = {
  points: pointsRoom,
  hosts: (sessionId: string) => `s:${sessionId}:hosts`,
};

export class LiveSession {
  readonly sessionId: string;
  #session: Session;
  #state: LiveState;
  #room: BroadcastRoom | undefined;
  #roomCreating: Promise<BroadcastRoom> | undefined;
  /** This node's points: their sockets, and what they receive. */
  readonly points: LivePoints;
  readonly #hostSockets = new Set<HostSocket>();
  /** Raised hands: this node's, and every node's as the host sees them. */
  readonly hands: RaisedHands;
  /** The floor, here or on another node. */
  readonly floor: FloorGrant;
  readonly #numbers: HostNumbers;
  #closed = false;
  readonly #log: Logger;
  /** Its timeline and recording. */
  readonly #record: LiveRecord;
  /** Which source of the hall the points receive. */
  readonly #hall: HallSwitch;

  private constructor(
    private readonly deps: LiveSessionDeps,
    session: Session,
    state: LiveState,
  ) {
    this.sessionId = session.id;
    this.#session = session;
    this.#state = state;
    this.#log = deps.logger.child({ sessionId: session.id });
    this.#record = new LiveRecord({
      sessionId: session.id,
      control: deps.control,
      recording: deps.recording,
      log: this.#log,
      makesHall: deps.cluster.makesHall,
      now: () => ({ session: this.#session, room: this.#room, wanted: this.#state.recording }),
      changed: () => (this.#closed ? undefined : this.pushView()),
    });
    this.points = new LivePoints({
      sessionId: session.id,
      attendance: deps.attendance,
      log: this.#log,
      left: (pointId) => {
        void this.hands.lower(pointId);
        this.#room?.removePeer(pointId);
      },
    });
    this.hands = new RaisedHands({
      sessionId: session.id,
      cluster: deps.cluster,
      points: deps.control.points,
      hostNs: deps.hostNs,
      hostsRoom: roomOf.hosts(session.id),
      live: () => this.#session.state === 'live',
      log: this.#log,
    });
    const toPoints = () => this.deps.pointNs.local.to(roomOf.points(this.sessionId));
    this.#hall = new HallSwitch({
      room: () => this.#room,
      choice: () => this.#state.hall,
      pointPeers: () => this.points.ids(),
      announce: (p) => toPoints().emit('rtc:newProducer', { producerId: p.producerId, kind: p.kind, source: p.source }),
      withdraw: (producerId) => toPoints().emit('rtc:producerClosed', { producerId }),
      switched: (live) => void this.#record.hall(live ?? null),
    });
    this.floor = new FloorGrant({
      sessionId: session.id,
      cluster: deps.cluster,
      room: () => this.#room,
      requireRoom: () => this.requireRoom(),
      live: () => this.#session.state === 'live',
      servesPoint: (pointId) => this.points.has(pointId),
      sip: () => this.deps.sipFloor?.(),
      lowerHand: (pointId) => this.hands.lower(pointId),
      pushView: () => this.pushView(),
      tell: (pointId, granted) => this.points.socket(pointId)?.emit('floor:you', { granted }),
      holderChanged: () =>
        void this.setFloorMutedByDesk(false).catch((err: unknown) =>
          this.#log.warn({ err }, "could not clear the desk's floor mute"),
        ),
    });
    this.#numbers = new HostNumbers({
      sessionId: session.id,
      invited: () => this.#session.invitedPointIds.length,
      connected: () => this.points.size,
      receivingVideo: () => this.points.receivingVideo(),
      cluster: deps.cluster,
      delegatesReported: deps.delegatesReported,
      hosts: () => this.#hostSockets.size > 0,
      push: (n) => this.deps.hostNs.to(roomOf.hosts(this.sessionId)).emit('numbers', n),
    });
  }

  static async create(deps: LiveSessionDeps, session: Session): Promise<LiveSession> {
    const state = await deps.store.get(session.id);
    return new LiveSession(deps, session, state);
  }

  get session(): Session {
    return this.#session;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get room(): BroadcastRoom | undefined {
    return this.#room;
  }

  /** The room, created on first need while the session is in a media state. */
  async requireRoom(): Promise<BroadcastRoom> {
    if (this.#room && !this.#room.closed) return this.#room;
    // A control node (NODE_ROLE=control) runs no mediasoup worker by design.
    if (this.deps.pool.slots.length === 0) {
      throw new AppError('unavailable', 'this server carries no media; connect to the node the cluster assigns');
    }
    if (!OPEN_STATES.includes(this.#session.state)) {
      throw new AppError(
        'not_open',
        this.#session.state === 'ended' ? 'the briefing has ended' : 'the briefing is not open',
      );
    }
    this.#roomCreating ??= BroadcastRoom.create({
      pool: this.deps.pool,
      roomId: this.sessionId,
      logger: this.#log.child({ component: 'room' }),
      sipCodecs: this.deps.sipCodecs ?? false,
      keyFrameRequestDelayMs: this.deps.keyFrameRequestDelayMs,
    }).then(
      (room) => {
        this.#roomCreating = undefined;
        if (this.#closed) {
          room.close();
          throw new AppError('not_open', 'the briefing has ended');
        }
        this.#room = room;
        this.#wireRoom(room);
        this.floor.watch(room);
        this.#record.watch(room);
        this.#record.follow();
        this.deps.roomCreated(this.sessionId, room);
        return room;
      },
      (err: unknown) => {
        this.#roomCreating = undefined;
        throw err;
      },
    );
    return this.#roomCreating;
  }

  // ----- view -----

  caption(): AgendaCaption | null {
    const i = this.#state.agendaIndex;
    const item = i === null ? undefined : this.#session.agenda[i];
    if (i === null || !item) return null;
    return { index: i, total: this.#session.agenda.length, title: item.title, speaker: item.speaker, role: item.role };
  }

  async view(): Promise<BroadcastView> {
    const s = this.#session;
    const floorId = this.floor.holder();
    const floorPoint = floorId ? await this.deps.control.points.get(floorId) : undefined;
    return {
      sessionId: s.id,
      title: s.title,
      state: s.state,
      scheduledStart: s.scheduledStart,
      lobbyOpensAt: s.lobbyOpensAt,
      plannedEnd: s.plannedEnd,
      caption: this.caption(),
      paused: { video: this.#state.pausedVideo, audio: this.#state.pausedAudio },
      slidesOn: this.#state.slidesOn,
      floor: floorId
        ? { pointId: floorId, name: floorPoint?.name ?? floorId, muted: floorMuted(this.#room, floorId) }
        : null,
      producers: (this.#room?.listProducers() ?? [])
        .filter((p) => this.#hall.reachesPoints(p))
        .map((p) => ({ producerId: p.producerId, kind: p.kind, source: p.source })),
      hall: this.#hall.view(),
      recording: this.#record.status(this.#state.recording),
    };
  }

  async pushView(): Promise<BroadcastView> {
    const v = await this.view();
    this.deps.pointNs.to(roomOf.points(this.sessionId)).emit('view', v);
    this.deps.hostNs.to(roomOf.hosts(this.sessionId)).emit('view', v);
    return v;
  }

  numbers(): Promise<LiveNumbers> {
    return this.#numbers.get();
  }

  // ----- session changes (from the control plane) -----

  async sessionChanged(session: Session): Promise<void> {
    this.#session = session;
    // Going live shows the first agenda item's caption at once.
    // Read first: another node may have moved the agenda since this one last read it.
    if (session.state === 'live' && this.#state.agendaIndex === null && session.agenda.length > 0)
      this.#state = await this.deps.store.get(this.sessionId);
    if (session.state === 'live' && this.#state.agendaIndex === null && session.agenda.length > 0) {
      const at = new Date();
      await this.#store({ agendaIndex: 0 });
      await this.#record.settings({ agendaIndex: 0 }, session, at);
    }
    // Going live or ending never waits on the recording (its disk, its recorders).
    this.#record.follow();
    if (!OPEN_STATES.includes(session.state)) {
      // The recording ends by itself (its recorders finish their segments).
      this.#room?.close();
      this.#room = undefined;
      this.points.roomClosed();
    }
    await this.pushView();
  }

  // ----- host settings -----

  async setState(patch: Partial<LiveState>): Promise<BroadcastView> {
    const at = new Date();
    await this.#store(patch);
    await this.#record.settings(patch, this.#session, at);
    return this.pushView();
  }

  /** The host chose the hall's source: points switch to it on their same transports. */
  async chooseHall(choice: HallChoice): Promise<BroadcastView> {
    await this.#store({ hall: choice });
    this.#hall.update();
    return this.pushView();
  }

  /** The desk's mute of the floor, kept so a microphone published again starts paused. */
  async setFloorMutedByDesk(muted: boolean): Promise<void> {
    if (this.#state.floorMutedByDesk === muted) return;
    // Kept here before it is stored: a microphone published meanwhile starts paused.
    this.#state = { ...this.#state, floorMutedByDesk: muted };
    await this.#store({ floorMutedByDesk: muted });
  }

  /**
   * Another node stored a change of the host's settings: read them again. The points
   * here switch to the hall's source now chosen; their view came from that node.
   */
  async reloadState(): Promise<void> {
    this.#state = await this.deps.store.get(this.sessionId);
    this.#hall.update();
  }

  /** Stores a change of the host's settings, keeps it here and tells the other nodes. */
  async #store(patch: Partial<LiveState>): Promise<void> {
    await this.deps.store.set(this.sessionId, patch);
    this.#state = { ...this.#state, ...patch };
    this.deps.cluster.liveChanged(this.sessionId);
  }

  get liveState(): LiveState {
    return this.#state;
  }

  // ----- hosts -----

  attachHost(socket: HostSocket): void {
    this.#hostSockets.add(socket);
    void socket.join(roomOf.hosts(this.sessionId));
    this.#numbers.resend();
  }

  detachHost(socket: HostSocket, peerId: string): void {
    this.#hostSockets.delete(socket);
    void socket.leave(roomOf.hosts(this.sessionId));
    this.#room?.removePeer(peerId);
  }

  // ----- room events → clients -----

  #wireRoom(room: BroadcastRoom): void {
    // Media is per process: with several nodes, a room's producers reach only the sockets
    // served by this node's room (`local` changes nothing in one process).
    const toPoints = () => this.deps.pointNs.local.to(roomOf.points(this.sessionId));
    const hosts = () => this.deps.hostNs.local.to(roomOf.hosts(this.sessionId));
    const hostOf = (peerId: string) => [...this.#hostSockets].find((s) => s.data.peerId === peerId);

    const hallMedia = this.deps.control.hallMedia;
    const noted = (err: unknown) => this.#log.warn({ err }, "could not note the hall's media");
    room.on('newProducer', (p) => {
      hallMedia.added(this.sessionId, p.producerId, p.source).catch(noted);
      hosts().emit('rtc:newProducer', { producerId: p.producerId, kind: p.kind, source: p.source });
      // Points hear of it if it is the live source's (or the live source changed with it).
      if (this.#hall.update(p)) void this.pushView();
    });
    room.on('producerClosed', (p) => {
      hallMedia.removed(this.sessionId, p.producerId).catch(noted);
      toPoints().emit('rtc:producerClosed', { producerId: p.producerId });
      hosts().emit('rtc:producerClosed', { producerId: p.producerId });
      if (this.#hall.update()) void this.pushView();
    });
    room.on('consumerClosed', ({ peerId, consumerId }) => {
      this.points.videoConsumerClosed(peerId, consumerId);
      const point = this.points.socket(peerId);
      if (point) point.emit('rtc:consumerClosed', { consumerId });
      else hostOf(peerId)?.emit('rtc:consumerClosed', { consumerId });
    });
    room.on('viewerNeedsReconnect', ({ peerId }) => {
      this.points.videoTransportReset(peerId);
      const point = this.points.socket(peerId);
      if (!point) hostOf(peerId)?.emit('rtc:reconnect', { reason: 'worker-died' });
      else {
        point.emit('rtc:reconnect', { reason: 'worker-died' });
        this.points.mediaLost(peerId);
      }
    });
    room.on('publisherNeedsReconnect', ({ peerId, role }) => {
      if (role === 'host') hostOf(peerId)?.emit('rtc:republish', { reason: 'worker-died' });
      else this.points.socket(peerId)?.emit('floor:you', { granted: true });
    });
    room.on('closed', () => {
      hallMedia.roomClosed(this.sessionId).catch(noted);
      if (this.#room === room) this.#room = undefined;
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#numbers.close();
    this.#room?.close();
    this.#room = undefined;
  }
}
