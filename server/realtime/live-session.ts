// One briefing session on the air: its BroadcastRoom, the host's settings (agenda item,
// pauses, slides), raised hands (raised-hands.ts), the floor (floor-grant.ts), and the
// sockets of its points and hosts.
// It turns room events into pushes and keeps the host's live numbers current.
// Created by LiveBroadcasts when a session needs media (lobby, live, or a host
// preparing); closed when the session ends or is cancelled.
import type { Logger } from 'pino';
import { BroadcastRoom, type WorkerPool } from '../../sfu';
import type { AgendaCaption, BroadcastView, HallChoice, Hand, LiveNumbers } from '../contract/broadcast';
import type { Session } from '../contract/api';
import type { MediaEvent } from '../contract/attendance';
import type { ControlPlane } from '../assembly/control-plane';
import { OPEN_STATES } from '../contract/session-state';
import { AppError } from '../errors';
import type { LiveState, LiveStateStore } from './live-state';
import type { PointAttendance } from './point-attendance';
import { pointsRoom } from './point-modes';
import type { HostNamespace, HostSocket, PointNamespace, PointSocket } from './sockets';
import type { RecordingPort } from '../recording/recordings';
import { LiveRecord } from './live-record';
import { HallSwitch } from './hall-source';
import { RaisedHands } from './raised-hands';
import { floorMuted } from './floor-mic';
import { FloorGrant } from './floor-grant';
import type { ClusterPort } from './cluster-port';

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
  /** The one socket currently speaking for each point (a second tab replaces the first). */
  readonly #pointSockets = new Map<string, PointSocket>();
  readonly #hostSockets = new Set<HostSocket>();
  readonly #hands: RaisedHands;
  /** Video consumers resumed per point: "points receiving video". */
  readonly #videoConsumers = new Map<string, Set<string>>();
  /** The floor, here or on another node. */
  readonly #floor: FloorGrant;
  /** Points told to rebuild their media after a worker death, and since when (for the monitor). */
  readonly #mediaLost = new Map<string, number>();
  #numbersTimer: NodeJS.Timeout | undefined;
  #lastNumbers = '';
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
    this.#record = new LiveRecord(session.id, deps.control, deps.recording, this.#log);
    this.#hands = new RaisedHands({
      sessionId: session.id,
      cluster: deps.cluster,
      points: deps.control.points,
      hostNs: deps.hostNs,
      hostsRoom: roomOf.hosts(session.id),
      log: this.#log,
    });
    const points = () => this.deps.pointNs.local.to(roomOf.points(this.sessionId));
    this.#hall = new HallSwitch({
      room: () => this.#room,
      choice: () => this.#state.hall,
      pointPeers: () => this.#pointSockets.keys(),
      announce: (p) => points().emit('rtc:newProducer', { producerId: p.producerId, kind: p.kind, source: p.source }),
      withdraw: (producerId) => points().emit('rtc:producerClosed', { producerId }),
      switched: (live) => void this.#record.hall(live ?? null),
    });
    this.#floor = new FloorGrant({
      sessionId: session.id,
      cluster: deps.cluster,
      room: () => this.#room,
      requireRoom: () => this.requireRoom(),
      live: () => this.#session.state === 'live',
      servesPoint: (pointId) => this.#pointSockets.has(pointId),
      lowerHand: (pointId) => this.lowerHand(pointId),
      pushView: () => this.pushView(),
    });
    // One timer per session, not per point: the host's numbers at most once a second.
    this.#numbersTimer = setInterval(() => void this.#pushNumbers(), 1000);
    this.#numbersTimer.unref();
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
    }).then(
      (room) => {
        this.#roomCreating = undefined;
        if (this.#closed) {
          room.close();
          throw new AppError('not_open', 'the briefing has ended');
        }
        this.#room = room;
        this.#wireRoom(room);
        this.#recordMedia();
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
    const floorId = this.#floor.holder();
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

  /** This node's raised hands. */
  hands(): Hand[] {
    return this.#hands.local();
  }

  /** Every node's raised hands, in order of raising: what the host sees. */
  allHands(): Promise<Hand[]> {
    return this.#hands.all();
  }

  /** The points of this node receiving video (at least one video consumer resumed). */
  pointsReceivingVideo(): string[] {
    return [...this.#videoConsumers].filter(([, set]) => set.size > 0).map(([pointId]) => pointId);
  }

  async numbers(): Promise<LiveNumbers> {
    const receiving = this.pointsReceivingVideo();
    return {
      invited: this.#session.invitedPointIds.length,
      connected: await this.deps.cluster
        .connectedPoints(this.sessionId, this.#pointSockets.size)
        .catch(() => this.#pointSockets.size),
      receivingVideo: await this.deps.cluster.receivingVideo(this.sessionId, receiving).catch(() => receiving.length),
      delegatesReported: await this.deps.delegatesReported(this.sessionId).catch(() => 0),
    };
  }

  async #pushNumbers(): Promise<void> {
    if (this.#hostSockets.size === 0) return;
    const n = await this.numbers();
    const key = JSON.stringify(n);
    if (key === this.#lastNumbers) return;
    this.#lastNumbers = key;
    this.deps.hostNs.to(roomOf.hosts(this.sessionId)).emit('numbers', n);
  }

  /** Sends every node's hands to this node's hosts. */
  pushHands(): Promise<void> {
    return this.#hands.push();
  }

  // ----- session changes (from the control plane) -----

  async sessionChanged(session: Session): Promise<void> {
    this.#session = session;
    // Going live shows the first agenda item's caption at once.
    if (session.state === 'live' && this.#state.agendaIndex === null && session.agenda.length > 0) {
      const at = new Date();
      await this.deps.store.set(this.sessionId, { agendaIndex: 0 });
      this.#state = { ...this.#state, agendaIndex: 0 };
      await this.#record.settings({ agendaIndex: 0 }, session, at);
    }
    // Going live or ending never waits on the recording (its disk, its recorders).
    this.#recordMedia();
    if (!OPEN_STATES.includes(session.state)) {
      // The recording ends by itself (its recorders finish their segments).
      this.#room?.close();
      this.#room = undefined;
      this.#videoConsumers.clear();
    }
    await this.pushView();
  }

  /**
   * Starts, follows or stops the recording for the session and room as they are now,
   * without waiting: a slow or hung recordings disk never holds the broadcast. Once the
   * recording's state changed (started, or not for a full disk), the hosts are shown it.
   */
  #recordMedia(): void {
    const status = () => JSON.stringify(this.#record.status(this.#state.recording));
    const before = status();
    void this.#record
      .media(this.#session, this.#room, this.#state.recording)
      .then(() => (this.#closed || status() === before ? undefined : this.pushView()))
      .catch((err: unknown) => this.#log.warn({ err }, 'could not show the recording state'));
  }

  // ----- host settings -----

  async setState(patch: Partial<LiveState>): Promise<BroadcastView> {
    const at = new Date();
    await this.deps.store.set(this.sessionId, patch);
    this.#state = { ...this.#state, ...patch };
    await this.#record.settings(patch, this.#session, at);
    return this.pushView();
  }

  /** The host chose the hall's source: points switch to it on their same transports. */
  async chooseHall(choice: HallChoice): Promise<BroadcastView> {
    await this.deps.store.set(this.sessionId, { hall: choice });
    this.#state = { ...this.#state, hall: choice };
    this.#hall.update();
    return this.pushView();
  }

  /** The desk's mute of the floor, kept so a microphone published again starts paused. */
  async setFloorMutedByDesk(muted: boolean): Promise<void> {
    if (this.#state.floorMutedByDesk === muted) return;
    this.#state = { ...this.#state, floorMutedByDesk: muted };
    await this.deps.store.set(this.sessionId, { floorMutedByDesk: muted });
  }

  get liveState(): LiveState {
    return this.#state;
  }

  // ----- points -----

  attachPoint(socket: PointSocket, pointId: string): void {
    const previous = this.#pointSockets.get(pointId);
    if (previous && previous !== socket) {
      // The same point opened its page again (refresh, second tab, another PC): the
      // newest page is the point; the old one is told why and let go.
      previous.emit('kicked', { reason: 'Điểm cầu đã mở trên một màn hình khác · opened on another screen' });
      this.#detachPoint(previous, pointId);
      previous.disconnect(true);
    }
    this.#pointSockets.set(pointId, socket);
    void socket.join(roomOf.points(this.sessionId));
  }

  /** The socket left: its media goes, its hand goes down, its floor (if any) ends. */
  detachPoint(socket: PointSocket, pointId: string): void {
    if (this.#pointSockets.get(pointId) !== socket) return;
    this.#detachPoint(socket, pointId);
  }

  #detachPoint(_socket: PointSocket, pointId: string): void {
    this.#pointSockets.delete(pointId);
    this.#videoConsumers.delete(pointId);
    this.#mediaLost.delete(pointId);
    void this.#hands.lower(pointId);
    this.#room?.removePeer(pointId);
  }

  pointSocket(pointId: string): PointSocket | undefined {
    return this.#pointSockets.get(pointId);
  }

  kickPoint(pointId: string, reason: string): void {
    const s = this.#pointSockets.get(pointId);
    if (!s) return;
    s.emit('kicked', { reason });
    this.#detachPoint(s, pointId);
    s.disconnect(true);
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

  #mediaEvent(pointId: string, e: MediaEvent): void {
    if (!this.#pointSockets.has(pointId)) return;
    this.deps.attendance
      .recordMediaEvent({ sessionId: this.sessionId, pointId }, e)
      .catch((err: unknown) => this.#log.debug({ err, pointId }, 'could not record a media event'));
  }

  videoTransportReset(pointId: string): void {
    this.#videoConsumers.delete(pointId);
  }

  async raiseHand(pointId: string): Promise<number> {
    if (this.#session.state !== 'live')
      throw new AppError('not_open', 'hands can be raised only while the briefing is live');
    return this.#hands.raise(pointId);
  }

  lowerHand(pointId: string): Promise<void> {
    return this.#hands.lower(pointId);
  }

  // ----- floor -----

  grantFloor(pointId: string): Promise<BroadcastView> {
    return this.#floor.grant(pointId);
  }

  revokeFloor(): Promise<BroadcastView> {
    return this.#floor.revoke();
  }

  /** Scale-out: the host, on another node, gave or took back the floor of a point served here. */
  floorOrdered(pointId: string, granted: boolean): Promise<boolean> {
    return this.#floor.ordered(pointId, granted);
  }

  /** Scale-out: the floor this node gave to another node's point ended there. */
  remoteFloorEnded(pointId: string): void {
    this.#floor.remoteEnded(pointId);
  }

  // ----- hosts -----

  attachHost(socket: HostSocket): void {
    this.#hostSockets.add(socket);
    void socket.join(roomOf.hosts(this.sessionId));
    this.#lastNumbers = '';
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
    const points = () => this.deps.pointNs.local.to(roomOf.points(this.sessionId));
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
      points().emit('rtc:producerClosed', { producerId: p.producerId });
      hosts().emit('rtc:producerClosed', { producerId: p.producerId });
      if (this.#hall.update()) void this.pushView();
    });
    room.on('consumerClosed', ({ peerId, consumerId }) => {
      this.#videoConsumers.get(peerId)?.delete(consumerId);
      const point = this.#pointSockets.get(peerId);
      if (point) point.emit('rtc:consumerClosed', { consumerId });
      else hostOf(peerId)?.emit('rtc:consumerClosed', { consumerId });
    });
    room.on('viewerNeedsReconnect', ({ peerId }) => {
      this.#videoConsumers.delete(peerId);
      const point = this.#pointSockets.get(peerId);
      if (!point) hostOf(peerId)?.emit('rtc:reconnect', { reason: 'worker-died' });
      else {
        point.emit('rtc:reconnect', { reason: 'worker-died' });
        this.#mediaLost.set(peerId, Date.now());
        this.#mediaEvent(peerId, { code: 'worker-died', params: {} });
      }
    });
    room.on('publisherNeedsReconnect', ({ peerId, role }) => {
      if (role === 'host') hostOf(peerId)?.emit('rtc:republish', { reason: 'worker-died' });
      else this.#pointSockets.get(peerId)?.emit('floor:you', { granted: true });
    });
    const floorMuteCleared = (err: unknown) => this.#log.warn({ err }, "could not clear the desk's floor mute");
    room.on('floorGranted', ({ peerId }) => {
      // The floor changed hands: the desk's mute was for the previous holder.
      this.setFloorMutedByDesk(false).catch(floorMuteCleared);
      void this.#record.floor(peerId, true);
      this.#pointSockets.get(peerId)?.emit('floor:you', { granted: true });
      void this.pushView();
    });
    room.on('floorRevoked', ({ peerId }) => {
      this.setFloorMutedByDesk(false).catch(floorMuteCleared);
      void this.#record.floor(peerId, false);
      this.#pointSockets.get(peerId)?.emit('floor:you', { granted: false });
      this.deps.cluster.floorEnded(this.sessionId, peerId);
      void this.pushView();
    });
    room.on('closed', () => {
      hallMedia.roomClosed(this.sessionId).catch(noted);
      if (this.#room === room) this.#room = undefined;
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#numbersTimer);
    this.#room?.close();
    this.#room = undefined;
  }
}
