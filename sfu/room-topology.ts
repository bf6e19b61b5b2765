// Where a broadcast room's media runs, and what a worker's death does to it.
//
// The origin router is where the host and the floor holder produce; one fan-out router per
// live worker receives every origin producer through pipeToRouter and serves the points
// placed on that worker (on the origin's own worker the origin router plays that part). A
// point's receive transport goes on the least-loaded fan-out router; anything else (the
// host's transports, the floor holder's send transport) goes on the origin.
//
// A dead worker takes its routers, transports and producers with it. The room then tells
// each viewer that lost its receive transport to make a new one (placed on a live worker);
// if the origin was lost, rebuilds it on a live worker (promoting the fan-out router already
// there, whose viewers keep their transports) and, once it accepts transports, tells each
// publisher to produce again. When the pool replaces the worker, the room adds a fan-out
// router on it and pipes every producer into it.
import type { types as ms } from 'mediasoup';
import { SfuError } from './errors';
import { FanoutRouter, SlotLoad } from './fanout-router';
import type { Peer, PeerTransport } from './peer';
import type { RoomContext } from './room-context';
import type { TransportDirection } from './types';
import type { WorkerPool, WorkerSlot } from './worker-pool';

export interface Origin {
  readonly slot: number;
  readonly worker: ms.Worker;
  readonly router: ms.Router;
}

/** Where a new transport goes; a viewer's place is counted in its slot's load until `release`. */
export interface Placement extends Origin {
  readonly webRtcServer: ms.WebRtcServer;
  /** Gives back the place counted for a viewer's receive transport; idempotent. */
  release(): void;
}

export interface RoomTopologyDeps extends Pick<
  RoomContext,
  'roomId' | 'log' | 'peers' | 'isClosed' | 'floorHolder' | 'emit'
> {
  pool: WorkerPool;
  mediaCodecs: ms.RtpCodecCapability[];
  /** How long a publisher's request waits for an origin being rebuilt (ms). */
  originWaitMs: number;
  /** The ids of every producer of the room, piped into a new fan-out router. */
  producerIds: () => Iterable<string>;
}

export class RoomTopology {
  readonly #deps: RoomTopologyDeps;
  readonly #pool: WorkerPool;
  readonly #load: SlotLoad;
  readonly #fanouts = new Map<number, FanoutRouter>();
  #origin: Origin | undefined;
  #originWaiters: { resolve: (o: Origin) => void; reject: (e: Error) => void }[] = [];
  #originBuilding: Promise<void> | undefined;
  /** Publishers that lost their origin transports, told once the new origin is up. */
  readonly #pendingPublishers = new Map<string, string[]>();
  readonly #onWorkerDied = (slot: WorkerSlot) => this.#handleWorkerDied(slot);
  readonly #onWorkerReplaced = (slot: WorkerSlot) => void this.#handleWorkerReplaced(slot);

  constructor(deps: RoomTopologyDeps) {
    this.#deps = deps;
    this.#pool = deps.pool;
    this.#load = SlotLoad.of(deps.pool);
  }

  /**
   * Builds the origin (on `originSlot` if it is alive) and a fan-out router on every live
   * worker, then follows the pool's worker deaths and replacements until `close`.
   */
  async start(originSlot: number | undefined): Promise<void> {
    await this.#buildOrigin(originSlot);
    if (!this.#origin) throw new SfuError('unavailable', 'no live mediasoup worker for the origin router');
    await Promise.all(this.#pool.aliveSlots().map((s) => this.#addFanout(s)));
    this.#pool.on('workerDied', this.#onWorkerDied);
    this.#pool.on('workerReplaced', this.#onWorkerReplaced);
  }

  /** Undefined while the origin is being rebuilt. */
  get origin(): Origin | undefined {
    return this.#origin;
  }

  /** The origin router, or else any fan-out router: every router of the room has the same capabilities. */
  anyRouter(): ms.Router | undefined {
    return this.#origin?.router ?? [...this.#fanouts.values()][0]?.router;
  }

  /** The live fan-out routers (the origin's among them). */
  liveFanouts(): FanoutRouter[] {
    return [...this.#fanouts.values()].filter((f) => f.alive);
  }

  /** The origin, at once, or once it has been rebuilt; refused after `originWaitMs`. */
  originReady(): Promise<Origin> {
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
      }, this.#deps.originWaitMs);
      this.#originWaiters.push(waiter);
    });
  }

  // ---------------------------------------------------------------------------------------
  // Placement and load

  /**
   * A viewer's receive transport goes on the least-loaded live fan-out router; every other
   * transport on the origin. A viewer's place is counted before the worker answers: in a
   * join storm hundreds of requests pick a router within the same few milliseconds, and
   * counting only created transports put most of them on whichever router looked empty first.
   */
  async place(peer: Peer, direction: TransportDirection): Promise<Placement> {
    let target: Origin;
    let reserved: number | undefined;
    if (direction === 'recv' && peer.role === 'viewer') {
      target = this.#pickFanout();
      reserved = target.slot;
      this.#load.add(reserved, 1);
    } else {
      target = await this.originReady();
    }
    const release = () => {
      if (reserved !== undefined) this.#load.add(reserved, -1);
      reserved = undefined;
    };
    const webRtcServer = this.#pool.slots[target.slot]?.webRtcServer;
    if (!webRtcServer || target.worker.closed) {
      release();
      throw new SfuError('unavailable', 'the chosen worker is not serving; retry');
    }
    return { slot: target.slot, worker: target.worker, router: target.router, webRtcServer, release };
  }

  /**
   * Follows a peer's new transport: its weight leaves the load when it closes, and a close
   * by its worker's death is kept for the reconnect events.
   */
  track(peer: Peer, entry: PeerTransport): void {
    entry.transport.observer.once('close', () => {
      this.#setLoad(entry, 0);
      if (entry.worker.died && !peer.closed) peer.lostTransports.push(entry);
    });
  }

  /** A viewer's receive transport weighs max(1, its consumers) in its slot's load. */
  updateLoad(peer: Peer, entry: PeerTransport): void {
    this.#setLoad(entry, Math.max(1, peer.consumersOn(entry.transport.id)));
  }

  #setLoad(entry: PeerTransport, weight: number): void {
    if (entry.direction !== 'recv' || (entry.loadWeight === 0 && weight === 0)) return;
    this.#load.add(entry.slot, weight - entry.loadWeight);
    entry.loadWeight = weight;
  }

  #pickFanout(): FanoutRouter {
    let best: FanoutRouter | undefined;
    for (const f of this.#fanouts.values()) {
      if (!f.ready || !f.alive || !this.#pool.slots[f.slot]?.webRtcServer) continue;
      if (!best || this.#load.get(f.slot) < this.#load.get(best.slot)) best = f;
    }
    if (!best) throw new SfuError('unavailable', 'no live fan-out router; retry');
    return best;
  }

  // ---------------------------------------------------------------------------------------
  // Piping producers into the fan-out routers

  /** Pipes a new origin producer into every fan-out router; the routers forget it when it closes. */
  async fanOut(producer: ms.Producer): Promise<void> {
    producer.observer.once('close', () => {
      for (const f of this.#fanouts.values()) f.forget(producer.id);
    });
    const origin = this.#origin;
    if (!origin) return;
    const results = await Promise.allSettled(
      [...this.#fanouts.values()].map((f) => f.pipe(origin.router, producer.id)),
    );
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed && !producer.closed)
      this.#deps.log.warn({ producerId: producer.id, failed }, 'some fan-out pipes failed');
  }

  /** Makes sure the producer is on this router: its pipe may still be in flight (a new producer, or a new fan-out router). */
  async ensurePiped(router: ms.Router, producerId: string): Promise<void> {
    const fanout = [...this.#fanouts.values()].find((f) => f.router === router);
    if (!fanout || fanout.hasProducer(producerId)) return;
    const origin = this.#origin;
    if (!origin) throw new SfuError('unavailable', 'the origin is being rebuilt; retry');
    await fanout.pipe(origin.router, producerId).catch((err: unknown) => {
      throw new SfuError('not_found', `producer ${producerId} is not available here`, { cause: err });
    });
  }

  // ---------------------------------------------------------------------------------------
  // Building the origin and the fan-out routers

  /**
   * The origin goes on the preferred (or least-loaded) live slot. If the room already has a
   * fan-out router there (a rebuild after the origin's worker died), that router is promoted:
   * its viewers keep their transports and simply see the new producers appear.
   */
  async #buildOrigin(preferredSlot?: number): Promise<void> {
    if (this.#origin || this.#deps.isClosed()) return;
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
        const router = await this.#createRouter(worker);
        if (!router) return;
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

  async #addFanout(slot: WorkerSlot): Promise<void> {
    const worker = slot.worker;
    if (!worker || worker.closed || this.#deps.isClosed()) return;
    const existing = this.#fanouts.get(slot.index);
    if (existing && existing.alive) return;
    const router = await this.#createRouter(worker);
    if (!router) return;
    const fanout = this.#trackFanout(slot.index, worker, router);
    const origin = this.#origin;
    if (origin) await Promise.allSettled([...this.#deps.producerIds()].map((id) => fanout.pipe(origin.router, id)));
    fanout.ready = true;
    this.#deps.log.info({ slot: slot.index, routerId: router.id }, 'fan-out router ready');
    this.#deps.emit('fanoutAdded', { slot: slot.index, routerId: router.id });
  }

  /** A router for this room on the worker; undefined (and closed) if the room closed meanwhile. */
  async #createRouter(worker: ms.Worker): Promise<ms.Router | undefined> {
    const router = await worker.createRouter({
      mediaCodecs: this.#deps.mediaCodecs,
      appData: { roomId: this.#deps.roomId },
    });
    if (!this.#deps.isClosed()) return router;
    router.close();
    return undefined;
  }

  #trackFanout(slot: number, worker: ms.Worker, router: ms.Router): FanoutRouter {
    const fanout = new FanoutRouter(slot, worker, router, this.#deps.log);
    this.#fanouts.set(slot, fanout);
    router.observer.once('close', () => {
      if (this.#fanouts.get(slot) === fanout) this.#fanouts.delete(slot);
      if (worker.died && !this.#deps.isClosed()) this.#deps.emit('fanoutLost', { slot });
    });
    return fanout;
  }

  // ---------------------------------------------------------------------------------------
  // Worker deaths and replacements

  #handleWorkerDied(slot: WorkerSlot): void {
    if (this.#deps.isClosed()) return;
    // The fan-out router on that worker has already left #fanouts (its router's close).
    const originLost = !this.#origin || this.#origin.worker.died;
    if (originLost) this.#origin = undefined;
    let viewersToMove = 0;
    for (const peer of this.#deps.peers.values()) {
      if (!peer.lostTransports.length) continue;
      const lost = peer.lostTransports.splice(0);
      const isFanout = (t: PeerTransport) => t.direction === 'recv' && peer.role === 'viewer';
      const onFanout = lost.filter(isFanout).map((t) => t.transport.id);
      const onOrigin = lost.filter((t) => !isFanout(t)).map((t) => t.transport.id);
      if (onFanout.length) {
        viewersToMove += 1;
        this.#deps.emit('viewerNeedsReconnect', { peerId: peer.id, transportIds: onFanout, reason: 'worker-died' });
      }
      if (onOrigin.length) {
        this.#pendingPublishers.set(peer.id, [...(this.#pendingPublishers.get(peer.id) ?? []), ...onOrigin]);
      }
    }
    this.#deps.log.warn({ slot: slot.index, originLost, viewersToMove }, 'worker died under the room');
    // Every origin producer died with it; the fan-outs' pipes closed with them.
    if (originLost) void this.#rebuildOrigin(slot.index);
  }

  async #rebuildOrigin(deadSlot: number): Promise<void> {
    try {
      await this.#buildOrigin();
    } catch (err) {
      this.#deps.log.error({ err }, 'could not rebuild the origin router; waiting for a replaced worker');
    }
    const origin = this.#origin;
    if (!origin) return; // No live worker: workerReplaced will build it.
    this.#deps.log.warn({ fromSlot: deadSlot, toSlot: origin.slot }, 'origin router rebuilt');
    this.#deps.emit('originRebuilt', { slot: origin.slot, routerId: origin.router.id });
    this.#flushPublishers();
  }

  /** Forgets a publisher that no longer publishes (the floor was taken back). */
  forgetPublisher(peerId: string): void {
    this.#pendingPublishers.delete(peerId);
  }

  #flushPublishers(): void {
    const pending = [...this.#pendingPublishers.entries()];
    this.#pendingPublishers.clear();
    for (const [peerId, transportIds] of pending) {
      const peer = this.#deps.peers.get(peerId);
      if (!peer) continue;
      const role = peer.role === 'host' ? 'host' : this.#deps.floorHolder() === peerId ? 'floor' : undefined;
      if (!role) continue;
      this.#deps.emit('publisherNeedsReconnect', { peerId, role, transportIds, reason: 'worker-died' });
    }
  }

  async #handleWorkerReplaced(slot: WorkerSlot): Promise<void> {
    if (this.#deps.isClosed()) return;
    try {
      if (!this.#origin) await this.#rebuildOrigin(slot.index);
      await this.#addFanout(slot);
    } catch (err) {
      this.#deps.log.error({ err, slot: slot.index }, 'could not use the replaced worker');
    }
  }

  /** Idempotent: stops following the pool, closes the routers, refuses the waiting publishers. */
  close(): void {
    this.#pool.off('workerDied', this.#onWorkerDied);
    this.#pool.off('workerReplaced', this.#onWorkerReplaced);
    for (const f of this.#fanouts.values()) f.close();
    this.#fanouts.clear();
    this.#origin?.router.close();
    this.#origin = undefined;
    for (const w of this.#originWaiters.splice(0)) {
      w.reject(new SfuError('not_found', `room ${this.#deps.roomId} is closed`));
    }
  }
}
