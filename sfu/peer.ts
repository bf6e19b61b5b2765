// One participant of a broadcast room: the host console or a connection point. It owns its
// transports, producers and consumers (Maps keyed by mediasoup id) and forgets each one on
// its `close`; closing the peer closes its transports, which close what runs on them.
import { EventEmitter } from 'node:events';
import type { types as ms } from 'mediasoup';
import { SfuError } from './errors';
import type { LayerPolicyState, ViewerMode } from './layer-policy';
import type { MediaSource, PeerRole, TransportDirection } from './types';

export interface PeerTransport {
  readonly transport: ms.WebRtcTransport;
  readonly router: ms.Router;
  readonly direction: TransportDirection;
  readonly slot: number;
  /** The worker it runs on, to tell a worker death from an ordinary close. */
  readonly worker: ms.Worker;
  /** Latest available outgoing bitrate from mediasoup's `bwe` trace (recv transports). */
  availableBitrate: number | undefined;
  /** Weight last added to the slot's load (max(1, consumers)) for recv transports; 0 otherwise. */
  loadWeight: number;
}

export interface PeerProducer {
  readonly producer: ms.Producer;
  readonly source: MediaSource;
  readonly transportId: string;
}

export interface PeerConsumer {
  readonly consumer: ms.Consumer;
  readonly source: MediaSource;
  readonly transportId: string;
  /** Highest spatial layer of the producer (0 without simulcast). */
  readonly maxSpatialLayer: number;
  readonly layerBitratesBps: readonly number[];
  /** The client said it is ready (resumeConsumer); until then it stays paused. */
  clientReady: boolean;
  layerState: LayerPolicyState;
  /** Since when the SFU has sent no layer of this simulcast consumer, not paused (room-consumers.ts). */
  videoStoppedAt?: number;
}

type PeerEvents = { close: [] };

export class Peer extends EventEmitter<PeerEvents> {
  readonly id: string;
  readonly role: PeerRole;
  mode: ViewerMode = 'full';
  readonly transports = new Map<string, PeerTransport>();
  readonly producers = new Map<string, PeerProducer>();
  readonly consumers = new Map<string, PeerConsumer>();
  /** Transports lost with their worker since the last reconnect event. */
  readonly lostTransports: PeerTransport[] = [];
  /** The slot of the last receive transport it had, to report moves. */
  lastRecvSlot: number | undefined;
  /** Transports asked for and not created yet: they count against the cap already. */
  #opening = 0;
  #closed = false;

  constructor(id: string, role: PeerRole) {
    super();
    this.id = id;
    this.role = role;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Holds a place for a transport about to be created, unless the peer has `max` already
   * (open or being created). The returned function gives the place back: call it when the
   * transport has been added, or could not be created.
   */
  holdTransportPlace(max: number): () => void {
    if (this.transports.size + this.#opening >= max) {
      throw new SfuError('limit_exceeded', `a peer may hold ${max} transports at most`);
    }
    this.#opening += 1;
    let held = true;
    return () => {
      if (held) this.#opening -= 1;
      held = false;
    };
  }

  addTransport(entry: PeerTransport): void {
    this.transports.set(entry.transport.id, entry);
    entry.transport.observer.once('close', () => this.transports.delete(entry.transport.id));
  }

  addProducer(entry: PeerProducer): void {
    this.producers.set(entry.producer.id, entry);
    entry.producer.observer.once('close', () => this.producers.delete(entry.producer.id));
  }

  addConsumer(entry: PeerConsumer): void {
    this.consumers.set(entry.consumer.id, entry);
    entry.consumer.observer.once('close', () => this.consumers.delete(entry.consumer.id));
  }

  /** Its consumer of this producer, if it has one (on whichever of its transports). */
  consumerOf(producerId: string): PeerConsumer | undefined {
    for (const pc of this.consumers.values()) if (pc.consumer.producerId === producerId) return pc;
    return undefined;
  }

  consumersOn(transportId: string): number {
    let n = 0;
    for (const pc of this.consumers.values()) if (pc.transportId === transportId) n += 1;
    return n;
  }

  recvTransport(): PeerTransport | undefined {
    for (const t of this.transports.values()) if (t.direction === 'recv') return t;
    return undefined;
  }

  /** Idempotent. Transports close their producers and consumers. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of [...this.transports.values()]) t.transport.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
    this.emit('close');
  }
}
