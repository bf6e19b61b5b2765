// One live briefing's media. The host (and the point holding the floor) produce on an
// origin router; one fan-out router per worker receives everything from the origin; points
// consume from the least-loaded fan-out router. The room owns its peers; a peer owns its
// transports, producers and consumers. Worker deaths become events the signalling layer
// relays ("reconnect your transport", "produce again").
//
// This file is the room's core and its public face: its peers, the API the signalling
// layer calls, and closing. The rest is in parts the room builds and owns, one concern each:
//   room-topology.ts   origin and fan-out routers, placement, worker deaths and rebuilds
//   room-transports.ts a peer's WebRtcTransports
//   room-producers.ts  every producer of the room, and how its close is announced
//   room-consumers.ts  how a peer receives a producer
//   floor.ts           who may send: the host, and the one point holding the floor
//   viewer-layers.ts   viewer modes and the layer policy applied to consumers
//   plain-ingest.ts    plain RTP (ffmpeg) senders feeding the origin
//   sip-media.ts       room systems over SIP: the shared transcode's feed, one leg per stream
//   room-stats.ts      room, viewer and producer statistics
import { EventEmitter } from 'node:events';
import type { types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import { SfuError } from './errors';
import { Floor } from './floor';
import { DEFAULT_LAYER_POLICY, type LayerPolicyConfig, type ViewerMode } from './layer-policy';
import { DEFAULT_PEER_LIMITS, type PeerLimits } from './limits';
import { KEY_FRAME_REQUEST_DELAY_MS, ROUTER_MEDIA_CODECS, SIP_MEDIA_CODECS } from './media-codecs';
import { Peer, type PeerTransport } from './peer';
import { PlainIngests } from './plain-ingest';
import { RecordingTaps, type RecordingTapInfo, type RecordingTapTarget } from './recording-taps';
import { RoomConsumers } from './room-consumers';
import type { RoomContext, RoomEmit } from './room-context';
import { RoomProducers } from './room-producers';
import { RoomStatsReader } from './room-stats';
import { RoomTopology } from './room-topology';
import { RoomTransports } from './room-transports';
import { SipMedia } from './sip-media';
import type {
  BroadcastRoomEvents,
  ConsumerParams,
  MediaKind,
  MediaSource,
  PlainIngestInfo,
  PlainIngestOptions,
  ProducerInfo,
  ProducerStats,
  RoomStats,
  TransportDirection,
  TransportParams,
  ViewerStats,
} from './types';
import { ViewerLayers } from './viewer-layers';
import type { WorkerPool } from './worker-pool';

export interface BroadcastRoomOptions {
  pool: WorkerPool;
  roomId: string;
  logger: Logger;
  mediaCodecs?: ms.RtpCodecCapability[];
  /** Add G.711 and G.722 to the routers' codecs: room systems dial in over SIP. */
  sipCodecs?: boolean;
  /** Producer keyFrameRequestDelay for video (ms). Default KEY_FRAME_REQUEST_DELAY_MS. */
  keyFrameRequestDelayMs?: number;
  layerPolicy?: Partial<LayerPolicyConfig>;
  /** How often the layer policy runs over all video consumers (ms); 0 turns it off. Default 2000. */
  layerPolicyIntervalMs?: number;
  /** The slot to put the origin on if it is alive; default the least-loaded live slot. */
  originSlot?: number;
  /** Transport stats younger than this are served from cache (ms). Default 1000. */
  statsMaxAgeMs?: number;
  /** How long a publisher's request waits for an origin being rebuilt (ms). Default 10000. */
  originWaitMs?: number;
  /** Caps on what one peer may hold. Default DEFAULT_PEER_LIMITS. */
  limits?: Partial<PeerLimits>;
}

export class BroadcastRoom extends EventEmitter<BroadcastRoomEvents> {
  readonly id: string;
  readonly #log: Logger;
  readonly #limits: PeerLimits;
  readonly #peers = new Map<string, Peer>();
  readonly #producers: RoomProducers;
  readonly #topology: RoomTopology;
  readonly #transports: RoomTransports;
  readonly #floor: Floor;
  readonly #consumers: RoomConsumers;
  readonly #ingests: PlainIngests;
  readonly #taps: RecordingTaps;
  readonly #sip: SipMedia;
  readonly #stats: RoomStatsReader;
  readonly #layers: ViewerLayers;
  #closed = false;

  private constructor(opts: BroadcastRoomOptions) {
    super();
    this.id = opts.roomId;
    this.#log = opts.logger.child({ roomId: opts.roomId });
    this.#limits = { ...DEFAULT_PEER_LIMITS, ...opts.limits };
    const keyFrameDelayMs = opts.keyFrameRequestDelayMs ?? KEY_FRAME_REQUEST_DELAY_MS;
    const ctx: RoomContext = {
      roomId: this.id,
      log: this.#log,
      peers: this.#peers,
      isClosed: () => this.#closed,
      floorHolder: () => this.#floor.holder,
      emit: this.emit.bind(this) as RoomEmit,
    };
    this.#topology = new RoomTopology({
      ...ctx,
      pool: opts.pool,
      mediaCodecs: [...(opts.mediaCodecs ?? ROUTER_MEDIA_CODECS), ...(opts.sipCodecs ? SIP_MEDIA_CODECS : [])],
      originWaitMs: opts.originWaitMs ?? 10_000,
      producerIds: () => this.#producers.ids(),
    });
    this.#producers = new RoomProducers({
      ...ctx,
      topology: this.#topology,
      keyFrameDelayMs,
      checkMayProduce: (peer, source) => this.#floor.checkMayProduce(peer, source),
    });
    this.#floor = new Floor({
      ...ctx,
      producers: this.#producers,
      forgetPublisher: (peerId) => this.#topology.forgetPublisher(peerId),
    });
    this.#transports = new RoomTransports({
      ...ctx,
      maxTransportsPerPeer: this.#limits.maxTransportsPerPeer,
      topology: this.#topology,
      floor: this.#floor,
    });
    this.#layers = new ViewerLayers({ ...ctx, policy: { ...DEFAULT_LAYER_POLICY, ...opts.layerPolicy } });
    this.#consumers = new RoomConsumers({
      ...ctx,
      maxConsumersPerTransport: this.#limits.maxConsumersPerTransport,
      producers: this.#producers,
      topology: this.#topology,
      layers: this.#layers,
    });
    this.#ingests = new PlainIngests({
      ...ctx,
      listenIp: opts.pool.ingestListenIp,
      keyFrameDelayMs,
      originReady: () => this.#topology.originReady(),
      producers: this.#producers,
    });
    this.#taps = new RecordingTaps({
      ...ctx,
      listenIp: opts.pool.ingestListenIp,
      originReady: () => this.#topology.originReady(),
      producers: { get: (id) => this.#producers.get(id) ?? this.#sip.inbound(id) },
    });
    this.#sip = new SipMedia({
      ...ctx,
      listenIp: opts.pool.ingestListenIp,
      originReady: () => this.#topology.originReady(),
      producers: this.#producers,
    });
    this.#stats = new RoomStatsReader({
      ...ctx,
      topology: this.#topology,
      producers: this.#producers,
      maxAgeMs: opts.statsMaxAgeMs ?? 1000,
    });
  }

  static async create(opts: BroadcastRoomOptions): Promise<BroadcastRoom> {
    const room = new BroadcastRoom(opts);
    try {
      await room.#topology.start(opts.originSlot);
    } catch (err) {
      room.close();
      throw err;
    }
    room.#layers.start(opts.layerPolicyIntervalMs ?? 2000);
    room.#log.info({ originSlot: room.#topology.origin?.slot, fanouts: room.fanoutSlots() }, 'broadcast room created');
    return room;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Identical on every router of the room (same codecs): what clients load their Device with. */
  get rtpCapabilities(): ms.RtpCapabilities {
    const router = this.#topology.anyRouter();
    if (!router) throw new SfuError('unavailable', 'the room has no live router');
    return router.rtpCapabilities;
  }

  get floorHolder(): string | undefined {
    return this.#floor.holder;
  }

  /**
   * The origin router and its slot, for another node's room that pipes to or from it
   * (remote-pipe.ts). Undefined while the origin is being rebuilt.
   */
  get origin(): { slot: number; router: ms.Router } | undefined {
    const origin = this.#topology.origin;
    return origin ? { slot: origin.slot, router: origin.router } : undefined;
  }

  /** The pool slots of the live fan-out routers. */
  fanoutSlots(): number[] {
    return this.#topology.liveFanouts().map((f) => f.slot);
  }

  // ---------------------------------------------------------------------------------------
  // Peers

  addHost(peerId: string): Peer {
    return this.#addPeer(peerId, 'host');
  }

  /** A connection point: it consumes, and produces only while it holds the floor. */
  addViewer(peerId: string): Peer {
    return this.#addPeer(peerId, 'viewer');
  }

  getPeer(peerId: string): Peer | undefined {
    return this.#peers.get(peerId);
  }

  hasPeer(peerId: string): boolean {
    return this.#peers.has(peerId);
  }

  /** Idempotent. Closes its transports; takes the floor back if it held it. */
  removePeer(peerId: string): void {
    const peer = this.#peers.get(peerId);
    if (!peer) return;
    if (this.#floor.holder === peerId) this.#floor.revoke('peer-left');
    this.#producers.markClosing(peer.producers.keys(), 'peer-left');
    peer.close();
  }

  #addPeer(peerId: string, role: 'host' | 'viewer'): Peer {
    this.#assertOpen();
    const existing = this.#peers.get(peerId);
    if (existing) {
      if (existing.role !== role)
        throw new SfuError('conflict', `peer ${peerId} is already in the room as ${existing.role}`);
      return existing;
    }
    const peer = new Peer(peerId, role);
    this.#peers.set(peerId, peer);
    peer.once('close', () => {
      this.#peers.delete(peerId);
      if (!this.#closed) this.emit('peerClosed', { peerId });
    });
    return peer;
  }

  // ---------------------------------------------------------------------------------------
  // Transports

  /** A WebRtcTransport for the peer, placed by the topology (room-transports.ts). */
  async createWebRtcTransport(peerId: string, direction: TransportDirection): Promise<TransportParams> {
    return this.#transports.create(this.#requirePeer(peerId), direction);
  }

  async connectTransport(peerId: string, transportId: string, dtlsParameters: ms.DtlsParameters): Promise<void> {
    const { transport } = this.#requireTransport(peerId, transportId);
    try {
      await transport.connect({ dtlsParameters });
    } catch (err) {
      throw new SfuError('bad_request', `cannot connect transport: ${(err as Error).message}`, { cause: err });
    }
  }

  async restartIce(peerId: string, transportId: string): Promise<ms.IceParameters> {
    const { transport } = this.#requireTransport(peerId, transportId);
    try {
      return await transport.restartIce();
    } catch (err) {
      throw new SfuError('unavailable', 'ICE restart failed; create a new transport', { cause: err });
    }
  }

  closeTransport(peerId: string, transportId: string): void {
    this.#peers.get(peerId)?.transports.get(transportId)?.transport.close();
  }

  // ---------------------------------------------------------------------------------------
  // Producers

  async produce(
    peerId: string,
    transportId: string,
    opts: { kind: MediaKind; rtpParameters: ms.RtpParameters; source: MediaSource; paused?: boolean },
  ): Promise<{ id: string }> {
    return this.#producers.produce(this.#requirePeer(peerId), transportId, opts);
  }

  async closeProducer(peerId: string, producerId: string): Promise<void> {
    this.#requireProducer(peerId, producerId).close();
  }

  async pauseProducer(peerId: string, producerId: string): Promise<void> {
    await this.#requireProducer(peerId, producerId).pause();
  }

  async resumeProducer(peerId: string, producerId: string): Promise<void> {
    await this.#requireProducer(peerId, producerId).resume();
  }

  /** Every producer a newcomer may consume, host's and floor's alike. */
  listProducers(): ProducerInfo[] {
    return this.#producers.list();
  }

  /**
   * A producer made on the origin router by someone else: a PipeTransport from another
   * node's room (remote-pipe.ts). It fans out and is consumed like the host's.
   */
  async adoptProducer(producer: ms.Producer, source: MediaSource, peerId: string): Promise<void> {
    this.#assertOpen();
    const origin = this.#topology.origin;
    if (!origin) throw new SfuError('unavailable', 'the origin is being rebuilt; retry');
    await this.#producers.register(producer, source, peerId, origin.worker);
  }

  // ---------------------------------------------------------------------------------------
  // Consumers

  /**
   * A consumer on the peer's receive transport, created PAUSED: call resumeConsumer once
   * the client has set up its side, so the first key frame is not lost.
   */
  async consume(
    peerId: string,
    transportId: string,
    producerId: string,
    rtpCapabilities: ms.RtpCapabilities,
  ): Promise<ConsumerParams> {
    const peer = this.#requirePeer(peerId);
    return this.#consumers.consume(peer, this.#requireTransport(peerId, transportId), producerId, rtpCapabilities);
  }

  /** The client is ready: media flows (video stays paused in audio-only mode). */
  async resumeConsumer(peerId: string, consumerId: string): Promise<void> {
    const peer = this.#requirePeer(peerId);
    const pc = peer.consumers.get(consumerId);
    if (!pc) throw new SfuError('not_found', `consumer ${consumerId} not found`);
    await this.#layers.clientReady(peer, pc);
  }

  closeConsumer(peerId: string, consumerId: string): void {
    this.#peers.get(peerId)?.consumers.get(consumerId)?.consumer.close();
  }

  /** The operator's switch for a weak link: full (up to 720p), low (180p), audio-only. */
  async setViewerMode(peerId: string, mode: ViewerMode): Promise<void> {
    await this.#layers.setMode(this.#requirePeer(peerId), mode);
  }

  /**
   * One pass of the layer policy over every ready video consumer; runs on a timer
   * (layerPolicyIntervalMs) and is public for tests.
   */
  runLayerPolicy(now = Date.now()): void {
    this.#layers.run(now);
  }

  // ---------------------------------------------------------------------------------------
  // The floor

  /** One point at a time may send camera and microphone. Granting it again to the holder is a no-op. */
  grantFloor(peerId: string): void {
    this.#floor.grant(this.#requirePeer(peerId));
  }

  /** Closes the holder's producers (viewers' consumers of them close) and send transports. */
  revokeFloor(): void {
    this.#floor.revoke('revoked');
  }

  // ---------------------------------------------------------------------------------------
  // Plain RTP ingest (plain-ingest.ts)

  async createPlainIngest(opts: PlainIngestOptions): Promise<PlainIngestInfo> {
    this.#assertOpen();
    return this.#ingests.create(opts);
  }

  hasIngest(ingestId: string): boolean {
    return this.#ingests.has(ingestId);
  }

  closeIngest(ingestId: string): void {
    this.#ingests.close(ingestId);
  }

  // ---------------------------------------------------------------------------------------
  // Recording taps (recording-taps.ts)

  /** Sends a producer as plain RTP to a local recorder; paused until `resumeRecordingTap`. */
  async openRecordingTap(producerId: string, target: RecordingTapTarget): Promise<RecordingTapInfo> {
    this.#assertOpen();
    return this.#taps.open(producerId, target);
  }

  async resumeRecordingTap(tapId: string): Promise<void> {
    await this.#taps.resume(tapId);
  }

  async recordingKeyFrame(tapId: string): Promise<void> {
    await this.#taps.requestKeyFrame(tapId);
  }

  closeRecordingTap(tapId: string): void {
    this.#taps.close(tapId);
  }

  // ---------------------------------------------------------------------------------------
  // Stats (room-stats.ts)

  /** Room systems over SIP: the shared transcode's feeds and the legs to each system (sip-media.ts). */
  get sip(): SipMedia {
    this.#assertOpen();
    return this.#sip;
  }

  stats(): RoomStats {
    return this.#stats.room();
  }

  async getViewerStats(peerId: string): Promise<ViewerStats> {
    return this.#stats.viewer(this.#requirePeer(peerId));
  }

  /** Stats of many viewers at once (all by default), at most `concurrency` worker requests in flight. */
  async getViewersStats(peerIds?: string[], concurrency = 32): Promise<ViewerStats[]> {
    return this.#stats.viewers(peerIds, concurrency);
  }

  /** What reaches the origin from a producer, per RTP stream (simulcast layer): for the host console. */
  async getProducerStats(producerId: string): Promise<ProducerStats> {
    return this.#stats.producer(producerId);
  }

  // ---------------------------------------------------------------------------------------

  #assertOpen(): void {
    if (this.#closed) throw new SfuError('not_found', `room ${this.id} is closed`);
  }

  #requirePeer(peerId: string): Peer {
    this.#assertOpen();
    const peer = this.#peers.get(peerId);
    if (!peer) throw new SfuError('not_found', `peer ${peerId} not in room ${this.id}`);
    return peer;
  }

  #requireTransport(peerId: string, transportId: string): PeerTransport {
    const t = this.#requirePeer(peerId).transports.get(transportId);
    if (!t) throw new SfuError('not_found', `transport ${transportId} not found`);
    return t;
  }

  #requireProducer(peerId: string, producerId: string): ms.Producer {
    const p = this.#requirePeer(peerId).producers.get(producerId);
    if (!p) throw new SfuError('not_found', `producer ${producerId} not found`);
    return p.producer;
  }

  /** Idempotent: closes peers, ingests and routers; no per-object events, one `closed`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#layers.stop();
    this.#floor.revoke('room-closed');
    for (const peer of [...this.#peers.values()]) peer.close();
    this.#ingests.closeAll();
    this.#taps.closeAll();
    this.#sip.closeAll();
    this.#topology.close();
    this.#log.info('broadcast room closed');
    this.emit('closed');
  }
}
