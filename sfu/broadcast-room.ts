// One live briefing's media: an origin router where the host (and the point holding the
// floor) produce, and one fan-out router per worker fed from the origin by pipeToRouter.
// Points consume from the least-loaded fan-out router. The room owns its peers; a peer
// owns its transports, producers and consumers. Worker deaths are turned into events the
// signalling layer relays ("reconnect your transport", "produce again").
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import { SfuError } from './errors';
import { FanoutRouter, SlotLoad } from './fanout-router';
import {
  DEFAULT_LAYER_POLICY,
  decideLayer,
  initialLayerState,
  modeCap,
  type LayerPolicyConfig,
  type ViewerMode,
} from './layer-policy';
import {
  DEFAULT_LAYER_BITRATES_BPS,
  FLOOR_MAX_INCOMING_BITRATE,
  HOST_MAX_INCOMING_BITRATE,
  KEY_FRAME_REQUEST_DELAY_MS,
  ROUTER_MEDIA_CODECS,
  VIEWER_INITIAL_OUTGOING_BITRATE,
} from './media-codecs';
import { Peer, type PeerConsumer, type PeerTransport } from './peer';
import type {
  BroadcastRoomEvents,
  ConsumerParams,
  ConsumerStatsInfo,
  MediaKind,
  MediaSource,
  PlainIngestEndpoint,
  PlainIngestInfo,
  PlainIngestOptions,
  ProducerCloseReason,
  ProducerInfo,
  ProducerStats,
  RoomStats,
  RouterStats,
  TransportDirection,
  TransportParams,
  TransportStatsInfo,
  ViewerStats,
} from './types';
import type { WorkerPool, WorkerSlot } from './worker-pool';

export interface BroadcastRoomOptions {
  pool: WorkerPool;
  roomId: string;
  logger: Logger;
  mediaCodecs?: ms.RtpCodecCapability[];
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
}

interface Origin {
  slot: number;
  worker: ms.Worker;
  router: ms.Router;
}

interface RoomProducer {
  producer: ms.Producer;
  source: MediaSource;
  peerId: string;
  worker: ms.Worker;
  closeReason: ProducerCloseReason | undefined;
}

interface PlainIngest {
  id: string;
  transports: ms.PlainTransport[];
  worker: ms.Worker;
  reported: boolean;
}

const SOURCE_KIND: Record<MediaSource, MediaKind> = {
  'host-camera': 'video',
  'host-mic': 'audio',
  'host-screen': 'video',
  'floor-camera': 'video',
  'floor-mic': 'audio',
};

export class BroadcastRoom extends EventEmitter<BroadcastRoomEvents> {
  readonly id: string;
  readonly #pool: WorkerPool;
  readonly #log: Logger;
  readonly #codecs: ms.RtpCodecCapability[];
  readonly #keyFrameDelay: number;
  readonly #policy: LayerPolicyConfig;
  readonly #statsMaxAge: number;
  readonly #originWaitMs: number;
  readonly #load: SlotLoad;
  readonly #peers = new Map<string, Peer>();
  readonly #producers = new Map<string, RoomProducer>();
  readonly #fanouts = new Map<number, FanoutRouter>();
  readonly #ingests = new Map<string, PlainIngest>();
  readonly #statsCache = new WeakMap<ms.WebRtcTransport, { at: number; stat: ms.WebRtcTransportStat | undefined }>();
  #origin: Origin | undefined;
  #originWaiters: { resolve: (o: Origin) => void; reject: (e: Error) => void }[] = [];
  #originBuilding: Promise<void> | undefined;
  /** Publishers that lost their origin transports, told once the new origin is up. */
  #pendingPublishers = new Map<string, string[]>();
  #floorPeerId: string | undefined;
  #policyTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #onWorkerDied = (slot: WorkerSlot) => this.#handleWorkerDied(slot);
  readonly #onWorkerReplaced = (slot: WorkerSlot) => void this.#handleWorkerReplaced(slot);

  private constructor(opts: BroadcastRoomOptions) {
    super();
    this.id = opts.roomId;
    this.#pool = opts.pool;
    this.#log = opts.logger.child({ roomId: opts.roomId });
    this.#codecs = opts.mediaCodecs ?? ROUTER_MEDIA_CODECS;
    this.#keyFrameDelay = opts.keyFrameRequestDelayMs ?? KEY_FRAME_REQUEST_DELAY_MS;
    this.#policy = { ...DEFAULT_LAYER_POLICY, ...opts.layerPolicy };
    this.#statsMaxAge = opts.statsMaxAgeMs ?? 1000;
    this.#originWaitMs = opts.originWaitMs ?? 10_000;
    this.#load = SlotLoad.of(opts.pool);
  }

  static async create(opts: BroadcastRoomOptions): Promise<BroadcastRoom> {
    const room = new BroadcastRoom(opts);
    try {
      await room.#buildOrigin(opts.originSlot);
      if (!room.#origin) throw new SfuError('unavailable', 'no live mediasoup worker for the origin router');
      await Promise.all(opts.pool.aliveSlots().map((s) => room.#addFanout(s)));
    } catch (err) {
      room.close();
      throw err;
    }
    opts.pool.on('workerDied', room.#onWorkerDied);
    opts.pool.on('workerReplaced', room.#onWorkerReplaced);
    const interval = opts.layerPolicyIntervalMs ?? 2000;
    if (interval > 0) {
      room.#policyTimer = setInterval(() => room.runLayerPolicy(), interval);
      room.#policyTimer.unref();
    }
    room.#log.info({ originSlot: room.#origin?.slot, fanouts: [...room.#fanouts.keys()] }, 'broadcast room created');
    return room;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Identical on every router of the room (same codecs): what clients load their Device with. */
  get rtpCapabilities(): ms.RtpCapabilities {
    const router = this.#origin?.router ?? [...this.#fanouts.values()][0]?.router;
    if (!router) throw new SfuError('unavailable', 'the room has no live router');
    return router.rtpCapabilities;
  }

  get floorHolder(): string | undefined {
    return this.#floorPeerId;
  }

  /**
   * The origin router and its slot, for a future cross-process edge that sets up its
   * own PipeTransport pair to it. Undefined while the origin is being rebuilt.
   */
  get origin(): { slot: number; router: ms.Router } | undefined {
    return this.#origin ? { slot: this.#origin.slot, router: this.#origin.router } : undefined;
  }

  /** The fan-out routers by pool slot (live ones only). */
  fanoutSlots(): number[] {
    return [...this.#fanouts.values()].filter((f) => f.alive).map((f) => f.slot);
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
    if (this.#floorPeerId === peerId) this.#revokeFloor('peer-left');
    this.#markProducers(peer, 'peer-left');
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

  /**
   * A WebRtcTransport on the worker's WebRtcServer (UDP preferred, TCP allowed, no SCTP).
   * recv for a viewer: the least-loaded live fan-out router. send (host, or the floor
   * holder) and the host's recv (to hear the floor): the origin router.
   */
  async createWebRtcTransport(peerId: string, direction: TransportDirection): Promise<TransportParams> {
    const peer = this.#requirePeer(peerId);
    if (direction === 'send' && peer.role === 'viewer' && this.#floorPeerId !== peerId) {
      throw new SfuError('forbidden', 'a point may send media only while it holds the floor');
    }
    let router: ms.Router;
    let worker: ms.Worker;
    let slot: number;
    // A viewer's place is reserved before the worker answers: in a join storm hundreds of
    // requests pick a router within the same few milliseconds, and counting only created
    // transports put most of them on whichever router looked empty first.
    let reserved: number | undefined;
    if (direction === 'recv' && peer.role === 'viewer') {
      const fanout = this.#pickFanout();
      ({ router, worker, slot } = fanout);
      reserved = slot;
      this.#load.add(slot, 1);
    } else {
      ({ router, worker, slot } = await this.#originReady());
    }
    const release = () => {
      if (reserved !== undefined) this.#load.add(reserved, -1);
      reserved = undefined;
    };
    const webRtcServer = this.#pool.slots[slot]?.webRtcServer;
    if (!webRtcServer || worker.closed) {
      release();
      throw new SfuError('unavailable', 'the chosen worker is not serving; retry');
    }
    let transport: ms.WebRtcTransport;
    try {
      transport = await router.createWebRtcTransport({
        webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: VIEWER_INITIAL_OUTGOING_BITRATE,
        appData: { roomId: this.id, peerId, direction },
      });
    } catch (err) {
      release();
      throw new SfuError('unavailable', 'could not create a transport; retry', { cause: err });
    }
    if (peer.closed || this.#closed) {
      release();
      transport.close();
      throw new SfuError('not_found', `peer ${peerId} left`);
    }
    const entry: PeerTransport = {
      transport,
      router,
      direction,
      slot,
      worker,
      availableBitrate: undefined,
      loadWeight: 0,
    };
    peer.addTransport(entry);
    transport.observer.once('close', () => {
      this.#setLoad(entry, 0);
      if (worker.died && !peer.closed) peer.lostTransports.push(entry);
    });
    if (direction === 'send') {
      const max = peer.role === 'host' ? HOST_MAX_INCOMING_BITRATE : FLOOR_MAX_INCOMING_BITRATE;
      await transport
        .setMaxIncomingBitrate(max)
        .catch((err: unknown) => this.#log.warn({ err }, 'setMaxIncomingBitrate'));
    } else {
      transport.on('trace', (trace) => {
        if (trace.type === 'bwe' && typeof trace.info?.availableBitrate === 'number') {
          entry.availableBitrate = trace.info.availableBitrate;
        }
      });
      await transport.enableTraceEvent(['bwe']).catch(() => undefined);
      if (peer.role === 'viewer') {
        release();
        if (!transport.closed) this.#setLoad(entry, 1);
        if (peer.lastRecvSlot !== undefined && peer.lastRecvSlot !== slot) {
          this.emit('peerMoved', { peerId, fromSlot: peer.lastRecvSlot, toSlot: slot });
        }
        peer.lastRecvSlot = slot;
      }
    }
    this.#log.debug({ peerId, transportId: transport.id, direction, slot }, 'transport created');
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
      sctpParameters: undefined,
    };
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
    const peer = this.#requirePeer(peerId);
    this.#checkMayProduce(peer, opts.source);
    if (SOURCE_KIND[opts.source] !== opts.kind) {
      throw new SfuError('bad_request', `source ${opts.source} carries ${SOURCE_KIND[opts.source]}, not ${opts.kind}`);
    }
    for (const p of peer.producers.values()) {
      if (p.source === opts.source) throw new SfuError('conflict', `already producing ${opts.source}`);
    }
    const entry = this.#requireTransport(peerId, transportId);
    if (entry.direction !== 'send') throw new SfuError('bad_request', 'not a send transport');
    let producer: ms.Producer;
    try {
      producer = await entry.transport.produce({
        kind: opts.kind,
        rtpParameters: opts.rtpParameters,
        paused: opts.paused ?? false,
        ...(opts.kind === 'video' ? { keyFrameRequestDelay: this.#keyFrameDelay } : {}),
        appData: { peerId, source: opts.source },
      });
    } catch (err) {
      throw new SfuError('bad_request', `cannot produce: ${(err as Error).message}`, { cause: err });
    }
    // The floor may have been taken back while the worker answered.
    try {
      this.#checkMayProduce(peer, opts.source);
    } catch (err) {
      producer.close();
      throw err;
    }
    peer.addProducer({ producer, source: opts.source, transportId });
    await this.#registerProducer(producer, opts.source, peerId, entry.worker);
    return { id: producer.id };
  }

  async closeProducer(peerId: string, producerId: string): Promise<void> {
    const p = this.#requirePeer(peerId).producers.get(producerId);
    if (!p) throw new SfuError('not_found', `producer ${producerId} not found`);
    p.producer.close();
  }

  async pauseProducer(peerId: string, producerId: string): Promise<void> {
    const p = this.#requirePeer(peerId).producers.get(producerId);
    if (!p) throw new SfuError('not_found', `producer ${producerId} not found`);
    await p.producer.pause();
  }

  async resumeProducer(peerId: string, producerId: string): Promise<void> {
    const p = this.#requirePeer(peerId).producers.get(producerId);
    if (!p) throw new SfuError('not_found', `producer ${producerId} not found`);
    await p.producer.resume();
  }

  /** Every producer a newcomer may consume, host's and floor's alike. */
  listProducers(): ProducerInfo[] {
    return [...this.#producers.values()].map((p) => this.#producerInfo(p));
  }

  /**
   * A producer made on the origin router by someone else: an edge node's PipeTransport
   * from the origin node (sfu/remote-pipe.ts). It fans out and is consumed like the host's.
   */
  async adoptProducer(producer: ms.Producer, source: MediaSource, peerId: string): Promise<void> {
    this.#assertOpen();
    const origin = this.#origin;
    if (!origin) throw new SfuError('unavailable', 'the origin is being rebuilt; retry');
    await this.#registerProducer(producer, source, peerId, origin.worker);
  }

  #checkMayProduce(peer: Peer, source: MediaSource): void {
    if (peer.closed) throw new SfuError('not_found', `peer ${peer.id} left`);
    if (peer.role === 'host') {
      if (!source.startsWith('host-'))
        throw new SfuError('bad_request', `the host produces host-* sources, not ${source}`);
      return;
    }
    if (this.#floorPeerId !== peer.id)
      throw new SfuError('forbidden', 'a point may produce only while it holds the floor');
    if (!source.startsWith('floor-'))
      throw new SfuError('forbidden', `a point with the floor may produce floor-camera and floor-mic only`);
  }

  async #registerProducer(
    producer: ms.Producer,
    source: MediaSource,
    peerId: string,
    worker: ms.Worker,
  ): Promise<void> {
    const rp: RoomProducer = { producer, source, peerId, worker, closeReason: undefined };
    this.#producers.set(producer.id, rp);
    producer.observer.once('close', () => {
      this.#producers.delete(producer.id);
      for (const f of this.#fanouts.values()) f.forget(producer.id);
      if (this.#closed) return;
      const reason = rp.closeReason ?? (worker.died ? 'worker-died' : 'closed');
      this.#log.info({ producerId: producer.id, source, peerId, reason }, 'producer closed');
      this.emit('producerClosed', { producerId: producer.id, kind: producer.kind, source, peerId, reason });
    });
    producer.observer.on('pause', () => this.emit('producerPaused', this.#producerInfo(rp)));
    producer.observer.on('resume', () => this.emit('producerResumed', this.#producerInfo(rp)));
    const origin = this.#origin;
    if (origin) {
      const results = await Promise.allSettled(
        [...this.#fanouts.values()].map((f) => f.pipe(origin.router, producer.id)),
      );
      const failed = results.filter((r) => r.status === 'rejected').length;
      if (failed && !producer.closed) this.#log.warn({ producerId: producer.id, failed }, 'some fan-out pipes failed');
    }
    if (producer.closed) throw new SfuError('conflict', 'the producer closed while it was being set up');
    this.#log.info({ producerId: producer.id, source, peerId, kind: producer.kind }, 'producer ready');
    this.emit('newProducer', this.#producerInfo(rp));
  }

  #producerInfo(p: RoomProducer): ProducerInfo {
    return {
      producerId: p.producer.id,
      kind: p.producer.kind,
      source: p.source,
      peerId: p.peerId,
      paused: p.producer.paused,
    };
  }

  #markProducers(peer: Peer, reason: ProducerCloseReason): void {
    for (const id of peer.producers.keys()) {
      const rp = this.#producers.get(id);
      if (rp) rp.closeReason = reason;
    }
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
    const entry = this.#requireTransport(peerId, transportId);
    if (entry.direction !== 'recv') throw new SfuError('bad_request', 'not a receive transport');
    const rp = this.#producers.get(producerId);
    if (!rp) throw new SfuError('not_found', `producer ${producerId} not found`);
    if (rp.peerId === peerId) throw new SfuError('bad_request', 'a peer does not consume its own producer');
    const fanout = [...this.#fanouts.values()].find((f) => f.router === entry.router);
    if (fanout && !fanout.hasProducer(producerId)) {
      // Piping may still be in flight (a new producer, or a new fan-out router).
      const origin = this.#origin;
      if (!origin) throw new SfuError('unavailable', 'the origin is being rebuilt; retry');
      await fanout.pipe(origin.router, producerId).catch((err: unknown) => {
        throw new SfuError('not_found', `producer ${producerId} is not available here`, { cause: err });
      });
    }
    if (!entry.router.canConsume({ producerId, rtpCapabilities })) {
      throw new SfuError('bad_request', 'these RTP capabilities cannot consume this producer');
    }
    const kind = rp.producer.kind;
    const encodings = rp.producer.rtpParameters.encodings ?? [];
    const maxSpatialLayer = kind === 'video' ? Math.max(0, encodings.length - 1) : 0;
    const declared = encodings.map((e) => e.maxBitrate);
    const layerBitratesBps =
      declared.length > 1 && declared.every((b) => typeof b === 'number')
        ? (declared as number[])
        : DEFAULT_LAYER_BITRATES_BPS;
    const layerState = initialLayerState(peer.mode, maxSpatialLayer, Date.now());
    let consumer: ms.Consumer;
    try {
      consumer = await entry.transport.consume({
        producerId,
        rtpCapabilities,
        paused: true,
        ...(kind === 'video' && maxSpatialLayer > 0
          ? { preferredLayers: { spatialLayer: layerState.spatialLayer } }
          : {}),
        appData: { peerId, source: rp.source },
      });
    } catch (err) {
      throw new SfuError('bad_request', `cannot consume: ${(err as Error).message}`, { cause: err });
    }
    if (peer.closed || consumer.closed) {
      consumer.close();
      throw new SfuError('not_found', 'the peer or its transport closed meanwhile');
    }
    const pc: PeerConsumer = {
      consumer,
      source: rp.source,
      transportId,
      maxSpatialLayer,
      layerBitratesBps,
      clientReady: false,
      layerState,
    };
    peer.addConsumer(pc);
    this.#setLoad(entry, Math.max(1, this.#consumersOn(peer, transportId)));
    consumer.observer.once('close', () => {
      if (!entry.transport.closed) this.#setLoad(entry, Math.max(1, this.#consumersOn(peer, transportId)));
    });
    consumer.on('producerclose', () => {
      if (!this.#closed) this.emit('consumerClosed', { peerId, consumerId: consumer.id, producerId });
    });
    consumer.on('score', (s) =>
      this.emit('consumerScore', { peerId, consumerId: consumer.id, score: s.score, producerScore: s.producerScore }),
    );
    consumer.on('layerschange', (layers) =>
      this.emit('consumerLayersChanged', { peerId, consumerId: consumer.id, layers: layers ?? null }),
    );
    return {
      id: consumer.id,
      producerId,
      kind,
      rtpParameters: consumer.rtpParameters,
      type: consumer.type,
      source: rp.source,
      producerPaused: consumer.producerPaused,
    };
  }

  /** The client is ready: media flows (video stays paused in audio-only mode). */
  async resumeConsumer(peerId: string, consumerId: string): Promise<void> {
    const peer = this.#requirePeer(peerId);
    const pc = peer.consumers.get(consumerId);
    if (!pc) throw new SfuError('not_found', `consumer ${consumerId} not found`);
    pc.clientReady = true;
    await this.#applyPause(peer, pc);
  }

  closeConsumer(peerId: string, consumerId: string): void {
    this.#peers.get(peerId)?.consumers.get(consumerId)?.consumer.close();
  }

  /** The operator's switch for a weak link: full (up to 720p), low (180p), audio-only. */
  async setViewerMode(peerId: string, mode: ViewerMode): Promise<void> {
    const peer = this.#requirePeer(peerId);
    peer.mode = mode;
    const now = Date.now();
    await Promise.all(
      [...peer.consumers.values()]
        .filter((pc) => pc.consumer.kind === 'video')
        .map(async (pc) => {
          pc.layerState = initialLayerState(mode, pc.maxSpatialLayer, now);
          if (modeCap(mode, pc.maxSpatialLayer) !== null && pc.maxSpatialLayer > 0) {
            await this.#setPreferred(peer, pc, pc.layerState.spatialLayer);
          }
          await this.#applyPause(peer, pc);
        }),
    );
    this.#log.info({ peerId, mode }, 'viewer mode set');
    this.emit('viewerModeChanged', { peerId, mode });
  }

  /**
   * One pass of the layer policy over every ready video consumer; runs on a timer
   * (layerPolicyIntervalMs) and is public for tests. In-memory inputs only (scores and
   * bandwidth come from mediasoup events), so it costs no worker round trips unless a
   * ceiling changes.
   */
  runLayerPolicy(now = Date.now()): void {
    if (this.#closed) return;
    for (const peer of this.#peers.values()) {
      for (const pc of peer.consumers.values()) {
        if (pc.consumer.kind !== 'video' || pc.maxSpatialLayer === 0 || !pc.clientReady || pc.consumer.closed) continue;
        const t = peer.transports.get(pc.transportId);
        const decision = decideLayer(
          {
            mode: peer.mode,
            maxSpatialLayer: pc.maxSpatialLayer,
            score: pc.consumer.score?.score,
            availableBitrateBps: t?.availableBitrate,
            now,
          },
          pc.layerState,
          { ...this.#policy, layerBitratesBps: pc.layerBitratesBps },
        );
        const changed = decision.spatialLayer !== pc.layerState.spatialLayer;
        pc.layerState = {
          spatialLayer: decision.spatialLayer,
          upSince: decision.upSince,
          changedAt: decision.changedAt,
        };
        if (changed && !decision.paused) void this.#setPreferred(peer, pc, decision.spatialLayer);
      }
    }
  }

  async #setPreferred(peer: Peer, pc: PeerConsumer, spatialLayer: number): Promise<void> {
    try {
      await pc.consumer.setPreferredLayers({ spatialLayer });
      this.emit('consumerPreferredLayersChanged', { peerId: peer.id, consumerId: pc.consumer.id, spatialLayer });
    } catch (err) {
      if (!pc.consumer.closed) this.#log.warn({ err, peerId: peer.id }, 'setPreferredLayers failed');
    }
  }

  async #applyPause(peer: Peer, pc: PeerConsumer): Promise<void> {
    const c = pc.consumer;
    const shouldPause = !pc.clientReady || (c.kind === 'video' && peer.mode === 'audio-only');
    try {
      if (shouldPause && !c.paused) await c.pause();
      else if (!shouldPause && c.paused) await c.resume();
    } catch (err) {
      if (!c.closed) throw new SfuError('unavailable', 'could not change the consumer state', { cause: err });
    }
  }

  #consumersOn(peer: Peer, transportId: string): number {
    let n = 0;
    for (const pc of peer.consumers.values()) if (pc.transportId === transportId) n += 1;
    return n;
  }

  // ---------------------------------------------------------------------------------------
  // The floor

  /** One point at a time may send camera and microphone. Granting it again to the holder is a no-op. */
  grantFloor(peerId: string): void {
    const peer = this.#requirePeer(peerId);
    if (peer.role !== 'viewer') throw new SfuError('bad_request', 'only a connection point can be given the floor');
    if (this.#floorPeerId === peerId) return;
    if (this.#floorPeerId) throw new SfuError('conflict', `the floor is held by ${this.#floorPeerId}; revoke it first`);
    this.#floorPeerId = peerId;
    this.#log.info({ peerId }, 'floor granted');
    this.emit('floorGranted', { peerId });
  }

  /** Closes the holder's producers (viewers' consumers of them close) and send transports. */
  revokeFloor(): void {
    this.#revokeFloor('revoked');
  }

  #revokeFloor(reason: 'revoked' | 'peer-left' | 'room-closed'): void {
    const peerId = this.#floorPeerId;
    if (!peerId) return;
    this.#floorPeerId = undefined;
    this.#pendingPublishers.delete(peerId);
    const peer = this.#peers.get(peerId);
    if (peer) {
      this.#markProducers(peer, reason === 'peer-left' ? 'peer-left' : 'floor-revoked');
      for (const p of [...peer.producers.values()]) p.producer.close();
      for (const t of [...peer.transports.values()]) if (t.direction === 'send') t.transport.close();
    }
    this.#log.info({ peerId, reason }, 'floor revoked');
    if (reason !== 'room-closed') this.emit('floorRevoked', { peerId, reason });
  }

  // ---------------------------------------------------------------------------------------
  // Plain RTP ingest (ffmpeg, GStreamer): comedia PlainTransports on the origin

  async createPlainIngest(opts: PlainIngestOptions): Promise<PlainIngestInfo> {
    this.#assertOpen();
    if (!opts.video && !opts.audio) throw new SfuError('bad_request', 'an ingest needs video, audio or both');
    const origin = await this.#originReady();
    const ingest: PlainIngest = {
      id: `ingest-${randomUUID()}`,
      transports: [],
      worker: origin.worker,
      reported: false,
    };
    this.#ingests.set(ingest.id, ingest);
    const info: PlainIngestInfo = { ingestId: ingest.id };
    const rtcpMux = opts.rtcpMux ?? false;
    const open = async (
      kind: MediaKind,
      rtpParameters: ms.RtpParameters,
      source: MediaSource,
    ): Promise<PlainIngestEndpoint> => {
      const transport = await origin.router.createPlainTransport({
        listenIp: opts.listenIp ?? this.#pool.ingestListenIp,
        comedia: true,
        rtcpMux,
        appData: { roomId: this.id, ingestId: ingest.id },
      });
      ingest.transports.push(transport);
      transport.observer.once('close', () => this.#onIngestTransportClosed(ingest));
      const producer = await transport.produce({
        kind,
        rtpParameters,
        ...(kind === 'video' ? { keyFrameRequestDelay: this.#keyFrameDelay } : {}),
        appData: { ingestId: ingest.id, source },
      });
      await this.#registerProducer(producer, source, ingest.id, origin.worker);
      return {
        producerId: producer.id,
        ip: transport.tuple.localIp,
        port: transport.tuple.localPort,
        rtcpPort: transport.rtcpTuple?.localPort,
      };
    };
    try {
      if (opts.video) {
        const mimeType = opts.video.mimeType ?? 'video/VP8';
        info.video = await open(
          'video',
          {
            codecs: [
              {
                mimeType,
                clockRate: 90000,
                payloadType: opts.video.payloadType,
                ...(mimeType === 'video/H264'
                  ? {
                      parameters: {
                        'packetization-mode': 1,
                        'profile-level-id': '42e01f',
                        'level-asymmetry-allowed': 1,
                      },
                    }
                  : {}),
                rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
              },
            ],
            encodings: [{ ssrc: opts.video.ssrc }],
          },
          'host-camera',
        );
      }
      if (opts.audio) {
        info.audio = await open(
          'audio',
          {
            codecs: [
              {
                mimeType: 'audio/opus',
                clockRate: 48000,
                channels: 2,
                payloadType: opts.audio.payloadType,
                parameters: { 'sprop-stereo': 1 },
              },
            ],
            encodings: [{ ssrc: opts.audio.ssrc }],
          },
          'host-mic',
        );
      }
    } catch (err) {
      ingest.reported = true;
      this.closeIngest(ingest.id);
      if (err instanceof SfuError) throw err;
      throw new SfuError('bad_request', `cannot create the ingest: ${(err as Error).message}`, { cause: err });
    }
    this.#log.info({ ...info }, 'plain ingest ready');
    return info;
  }

  hasIngest(ingestId: string): boolean {
    return this.#ingests.has(ingestId);
  }

  closeIngest(ingestId: string): void {
    const ingest = this.#ingests.get(ingestId);
    if (!ingest) return;
    this.#ingests.delete(ingestId);
    for (const rp of this.#producers.values()) if (rp.peerId === ingestId) rp.closeReason = 'closed';
    for (const t of ingest.transports) t.close();
  }

  #onIngestTransportClosed(ingest: PlainIngest): void {
    this.#ingests.delete(ingest.id);
    for (const t of ingest.transports) t.close();
    if (ingest.reported || this.#closed) return;
    ingest.reported = true;
    this.emit('ingestClosed', { ingestId: ingest.id, reason: ingest.worker.died ? 'worker-died' : 'closed' });
  }

  // ---------------------------------------------------------------------------------------
  // Stats (cheap: in-memory for consumers; one cached getStats per transport)

  stats(): RoomStats {
    const routers: RouterStats[] = [];
    for (const f of this.#fanouts.values()) {
      if (!f.alive) continue;
      let transports = 0;
      let consumers = 0;
      for (const peer of this.#peers.values()) {
        if (peer.role !== 'viewer') continue;
        for (const t of peer.transports.values()) if (t.router === f.router && t.direction === 'recv') transports += 1;
        for (const pc of peer.consumers.values())
          if (peer.transports.get(pc.transportId)?.router === f.router) consumers += 1;
      }
      const producers = f.isOrigin ? this.#producers.size : f.pipedCount;
      routers.push({ slot: f.slot, routerId: f.router.id, origin: f.isOrigin, producers, transports, consumers });
    }
    routers.sort((a, b) => a.slot - b.slot);
    let viewers = 0;
    for (const p of this.#peers.values()) if (p.role === 'viewer') viewers += 1;
    return {
      roomId: this.id,
      originSlot: this.#origin?.slot,
      floorPeerId: this.#floorPeerId,
      peers: this.#peers.size,
      viewers,
      producers: this.listProducers(),
      routers,
    };
  }

  async getViewerStats(peerId: string): Promise<ViewerStats> {
    const peer = this.#requirePeer(peerId);
    const transports: TransportStatsInfo[] = [];
    for (const t of peer.transports.values()) {
      const stat = await this.#transportStat(t.transport);
      transports.push({
        transportId: t.transport.id,
        direction: t.direction,
        slot: t.slot,
        iceState: t.transport.iceState,
        dtlsState: t.transport.dtlsState,
        bytesSent: stat?.bytesSent ?? 0,
        bytesReceived: stat?.bytesReceived ?? 0,
        sendBitrate: stat?.sendBitrate ?? 0,
        recvBitrate: stat?.recvBitrate ?? 0,
        availableOutgoingBitrate: stat?.availableOutgoingBitrate ?? t.availableBitrate,
      });
    }
    const consumers: ConsumerStatsInfo[] = [...peer.consumers.values()].map((pc) => {
      const c = pc.consumer;
      return {
        consumerId: c.id,
        producerId: c.producerId,
        source: pc.source,
        kind: c.kind,
        paused: c.paused,
        producerPaused: c.producerPaused,
        score: c.score?.score ?? 0,
        producerScore: c.score?.producerScore ?? 0,
        currentLayers: c.currentLayers ?? null,
        preferredLayers: c.preferredLayers ?? null,
      };
    });
    return { peerId, mode: peer.mode, slot: peer.recvTransport()?.slot, transports, consumers };
  }

  /** Stats of many viewers at once, at most `concurrency` worker requests in flight. */
  async getViewersStats(peerIds?: string[], concurrency = 32): Promise<ViewerStats[]> {
    const ids = peerIds ?? [...this.#peers.values()].filter((p) => p.role === 'viewer').map((p) => p.id);
    const out: ViewerStats[] = [];
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        if (!this.#peers.has(id)) continue;
        out.push(
          await this.getViewerStats(id).catch(() => ({
            peerId: id,
            mode: 'full' as const,
            slot: undefined,
            transports: [],
            consumers: [],
          })),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
    return out;
  }

  /** What reaches the origin from a producer, per RTP stream (simulcast layer): for the host console. */
  async getProducerStats(producerId: string): Promise<ProducerStats> {
    const rp = this.#producers.get(producerId);
    if (!rp) throw new SfuError('not_found', `producer ${producerId} not found`);
    const stats = (await rp.producer.getStats().catch(() => [])) as ms.ProducerStat[];
    return {
      ...this.#producerInfo(rp),
      streams: stats.map((s) => ({
        ssrc: s.ssrc,
        rid: s.rid,
        score: s.score,
        packetCount: s.packetCount,
        byteCount: s.byteCount,
        bitrate: s.bitrate,
      })),
    };
  }

  async #transportStat(t: ms.WebRtcTransport): Promise<ms.WebRtcTransportStat | undefined> {
    const cached = this.#statsCache.get(t);
    const now = Date.now();
    if (cached && now - cached.at < this.#statsMaxAge) return cached.stat;
    if (t.closed) return undefined;
    const stat = (await t.getStats().catch(() => []))[0];
    this.#statsCache.set(t, { at: now, stat });
    return stat;
  }

  // ---------------------------------------------------------------------------------------
  // Origin, fan-out routers, placement, worker deaths

  #pickFanout(): FanoutRouter {
    let best: FanoutRouter | undefined;
    for (const f of this.#fanouts.values()) {
      if (!f.ready || !f.alive || !this.#pool.slots[f.slot]?.webRtcServer) continue;
      if (!best || this.#load.get(f.slot) < this.#load.get(best.slot)) best = f;
    }
    if (!best) throw new SfuError('unavailable', 'no live fan-out router; retry');
    return best;
  }

  #setLoad(entry: PeerTransport, weight: number): void {
    if (entry.direction !== 'recv' || (entry.loadWeight === 0 && weight === 0)) return;
    this.#load.add(entry.slot, weight - entry.loadWeight);
    entry.loadWeight = weight;
  }

  /**
   * The origin goes on the preferred (or least-loaded) live slot. If the room already has a
   * fan-out router there (a rebuild after the origin's worker died), that router is promoted:
   * its viewers keep their transports and simply see the new producers appear.
   */
  async #buildOrigin(preferredSlot?: number): Promise<void> {
    if (this.#origin || this.#closed) return;
    if (this.#originBuilding) return this.#originBuilding;
    const alive = this.#pool.aliveSlots();
    const slot =
      alive.find((s) => s.index === preferredSlot) ??
      [...alive].sort((a, b) => this.#load.get(a.index) - this.#load.get(b.index))[0];
    if (!slot?.worker) return;
    const worker = slot.worker;
    this.#originBuilding = (async () => {
      let fanout = this.#fanouts.get(slot.index);
      if (!fanout || !fanout.alive) {
        const router = await worker.createRouter({ mediaCodecs: this.#codecs, appData: { roomId: this.id } });
        if (this.#closed) {
          router.close();
          return;
        }
        fanout = this.#trackFanout(slot.index, worker, router);
        fanout.ready = true;
      }
      fanout.isOrigin = true;
      const origin: Origin = { slot: slot.index, worker, router: fanout.router };
      this.#origin = origin;
      fanout.router.observer.once('close', () => {
        if (this.#origin === origin) this.#origin = undefined;
      });
      for (const w of this.#originWaiters.splice(0)) w.resolve(origin);
    })().finally(() => {
      this.#originBuilding = undefined;
    });
    return this.#originBuilding;
  }

  #trackFanout(slot: number, worker: ms.Worker, router: ms.Router): FanoutRouter {
    const fanout = new FanoutRouter(slot, worker, router, this.#log);
    this.#fanouts.set(slot, fanout);
    router.observer.once('close', () => {
      if (this.#fanouts.get(slot) === fanout) this.#fanouts.delete(slot);
      if (worker.died && !this.#closed) this.emit('fanoutLost', { slot });
    });
    return fanout;
  }

  #originReady(): Promise<Origin> {
    this.#assertOpen();
    if (this.#origin && !this.#origin.router.closed) return Promise.resolve(this.#origin);
    return new Promise<Origin>((resolve, reject) => {
      const waiter = {
        resolve: (o: Origin) => {
          clearTimeout(timer);
          resolve(o);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.#originWaiters = this.#originWaiters.filter((w) => w !== waiter);
        reject(new SfuError('unavailable', 'the origin router is being rebuilt; retry'));
      }, this.#originWaitMs);
      this.#originWaiters.push(waiter);
    });
  }

  async #addFanout(slot: WorkerSlot): Promise<void> {
    const worker = slot.worker;
    if (!worker || worker.closed || this.#closed) return;
    const existing = this.#fanouts.get(slot.index);
    if (existing && existing.alive) return;
    const router = await worker.createRouter({ mediaCodecs: this.#codecs, appData: { roomId: this.id } });
    if (this.#closed) {
      router.close();
      return;
    }
    const fanout = this.#trackFanout(slot.index, worker, router);
    const origin = this.#origin;
    if (origin) {
      await Promise.allSettled([...this.#producers.keys()].map((id) => fanout.pipe(origin.router, id)));
    }
    fanout.ready = true;
    this.#log.info({ slot: slot.index, routerId: router.id }, 'fan-out router ready');
    this.emit('fanoutAdded', { slot: slot.index, routerId: router.id });
  }

  #handleWorkerDied(slot: WorkerSlot): void {
    if (this.#closed) return;
    const log = this.#log.child({ slot: slot.index });
    // The fan-out router on that worker has already left #fanouts (its router's close).
    const originLost = !this.#origin || this.#origin.worker.died;
    if (originLost) this.#origin = undefined;
    let viewersToMove = 0;
    for (const peer of this.#peers.values()) {
      if (!peer.lostTransports.length) continue;
      const lost = peer.lostTransports.splice(0);
      const onFanout = lost.filter((t) => t.direction === 'recv' && peer.role === 'viewer').map((t) => t.transport.id);
      const onOrigin = lost
        .filter((t) => !(t.direction === 'recv' && peer.role === 'viewer'))
        .map((t) => t.transport.id);
      if (onFanout.length) {
        viewersToMove += 1;
        this.emit('viewerNeedsReconnect', { peerId: peer.id, transportIds: onFanout, reason: 'worker-died' });
      }
      if (onOrigin.length) {
        this.#pendingPublishers.set(peer.id, [...(this.#pendingPublishers.get(peer.id) ?? []), ...onOrigin]);
      }
    }
    log.warn({ originLost, viewersToMove }, 'worker died under the room');
    if (originLost) {
      // Every origin producer died with it; the fan-outs' pipes closed with them.
      void this.#rebuildOrigin(slot.index);
    }
  }

  async #rebuildOrigin(deadSlot: number): Promise<void> {
    try {
      await this.#buildOrigin();
    } catch (err) {
      this.#log.error({ err }, 'could not rebuild the origin router; waiting for a replaced worker');
    }
    const origin = this.#origin;
    if (!origin) return; // No live worker: workerReplaced will build it.
    this.#log.warn({ fromSlot: deadSlot, toSlot: origin.slot }, 'origin router rebuilt');
    this.emit('originRebuilt', { slot: origin.slot, routerId: origin.router.id });
    this.#flushPublishers();
  }

  #flushPublishers(): void {
    const pending = [...this.#pendingPublishers.entries()];
    this.#pendingPublishers.clear();
    for (const [peerId, transportIds] of pending) {
      const peer = this.#peers.get(peerId);
      if (!peer) continue;
      const role = peer.role === 'host' ? 'host' : this.#floorPeerId === peerId ? 'floor' : undefined;
      if (!role) continue;
      this.emit('publisherNeedsReconnect', { peerId, role, transportIds, reason: 'worker-died' });
    }
  }

  async #handleWorkerReplaced(slot: WorkerSlot): Promise<void> {
    if (this.#closed) return;
    try {
      if (!this.#origin) await this.#rebuildOrigin(slot.index);
      await this.#addFanout(slot);
    } catch (err) {
      this.#log.error({ err, slot: slot.index }, 'could not use the replaced worker');
    }
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

  /** Idempotent: closes peers, ingests and routers; no per-object events, one `closed`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#policyTimer) clearInterval(this.#policyTimer);
    this.#pool.off('workerDied', this.#onWorkerDied);
    this.#pool.off('workerReplaced', this.#onWorkerReplaced);
    this.#revokeFloor('room-closed');
    for (const peer of [...this.#peers.values()]) peer.close();
    for (const id of [...this.#ingests.keys()]) this.closeIngest(id);
    for (const f of this.#fanouts.values()) f.close();
    this.#fanouts.clear();
    this.#origin?.router.close();
    this.#origin = undefined;
    for (const w of this.#originWaiters.splice(0)) w.reject(new SfuError('not_found', `room ${this.id} is closed`));
    this.#log.info('broadcast room closed');
    this.emit('closed');
  }
}
