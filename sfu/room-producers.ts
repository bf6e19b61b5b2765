// Every producer of a broadcast room, whoever made it: the host's and the floor holder's
// (on their send transports), a plain ingest's (ffmpeg), and those adopted from another
// node through a pipe. A producer is listed, piped into every fan-out router, and only then
// announced, so whoever hears of it can consume it at once. The registry forgets a producer
// on its `close` and announces that close once, with the reason its owner gave (the floor
// taken back, the peer gone...) or, when nobody gave one, a worker death or a plain close.
import type { types as ms } from 'mediasoup';
import { SfuError } from './errors';
import type { Peer } from './peer';
import type { RoomContext } from './room-context';
import type { RoomTopology } from './room-topology';
import type { MediaKind, MediaSource, ProducerCloseReason, ProducerInfo } from './types';

const SOURCE_KIND: Record<MediaSource, MediaKind> = {
  'host-camera': 'video',
  'host-mic': 'audio',
  'host-screen': 'video',
  'floor-camera': 'video',
  'floor-mic': 'audio',
};

export interface RoomProducer {
  readonly producer: ms.Producer;
  readonly source: MediaSource;
  /** The peer that produces it; for a plain ingest, its ingest id. */
  readonly peerId: string;
  /** The worker it runs on, to tell a worker death from an ordinary close. */
  readonly worker: ms.Worker;
  /** Why it is being closed, set just before its owner closes it. */
  closeReason: ProducerCloseReason | undefined;
}

export interface RoomProducersDeps extends Pick<RoomContext, 'log' | 'isClosed' | 'emit'> {
  topology: Pick<RoomTopology, 'fanOut'>;
  /** Producer keyFrameRequestDelay for video (ms). */
  keyFrameDelayMs: number;
  /** Throws unless the peer may produce this source now (floor.ts). */
  checkMayProduce: (peer: Peer, source: MediaSource) => void;
}

export class RoomProducers {
  readonly #deps: RoomProducersDeps;
  readonly #byId = new Map<string, RoomProducer>();

  constructor(deps: RoomProducersDeps) {
    this.#deps = deps;
  }

  get size(): number {
    return this.#byId.size;
  }

  get(producerId: string): RoomProducer | undefined {
    return this.#byId.get(producerId);
  }

  ids(): string[] {
    return [...this.#byId.keys()];
  }

  list(): ProducerInfo[] {
    return [...this.#byId.values()].map(producerInfo);
  }

  /** A peer's producer on its send transport: one per source, while it may produce it. */
  async produce(
    peer: Peer,
    transportId: string,
    opts: { kind: MediaKind; rtpParameters: ms.RtpParameters; source: MediaSource; paused?: boolean },
  ): Promise<{ id: string }> {
    const { source, kind } = opts;
    this.#deps.checkMayProduce(peer, source);
    if (SOURCE_KIND[source] !== kind) {
      throw new SfuError('bad_request', `source ${source} carries ${SOURCE_KIND[source]}, not ${kind}`);
    }
    for (const p of peer.producers.values()) {
      if (p.source === source) throw new SfuError('conflict', `already producing ${source}`);
    }
    const entry = peer.transports.get(transportId);
    if (!entry) throw new SfuError('not_found', `transport ${transportId} not found`);
    if (entry.direction !== 'send') throw new SfuError('bad_request', 'not a send transport');
    let producer: ms.Producer;
    try {
      producer = await entry.transport.produce({
        kind,
        rtpParameters: opts.rtpParameters,
        paused: opts.paused ?? false,
        ...(kind === 'video' ? { keyFrameRequestDelay: this.#deps.keyFrameDelayMs } : {}),
        appData: { peerId: peer.id, source },
      });
    } catch (err) {
      throw new SfuError('bad_request', `cannot produce: ${(err as Error).message}`, { cause: err });
    }
    // The floor may have been taken back while the worker answered.
    try {
      this.#deps.checkMayProduce(peer, source);
    } catch (err) {
      producer.close();
      throw err;
    }
    peer.addProducer({ producer, source, transportId });
    await this.register(producer, source, peer.id, entry.worker);
    return { id: producer.id };
  }

  /** Makes a new producer the room's: listed, piped into every fan-out router, then announced. */
  async register(producer: ms.Producer, source: MediaSource, peerId: string, worker: ms.Worker): Promise<void> {
    const rp = this.#add(producer, source, peerId, worker);
    await this.#deps.topology.fanOut(producer);
    if (producer.closed) throw new SfuError('conflict', 'the producer closed while it was being set up');
    this.#deps.log.info({ producerId: producer.id, source, peerId, kind: producer.kind }, 'producer ready');
    this.#deps.emit('newProducer', producerInfo(rp));
  }

  /** Lists the producer, and announces its pauses, resumes and close from now on. */
  #add(producer: ms.Producer, source: MediaSource, peerId: string, worker: ms.Worker): RoomProducer {
    const rp: RoomProducer = { producer, source, peerId, worker, closeReason: undefined };
    const { log, emit } = this.#deps;
    this.#byId.set(producer.id, rp);
    producer.observer.once('close', () => {
      this.#byId.delete(producer.id);
      if (this.#deps.isClosed()) return;
      const reason = rp.closeReason ?? (worker.died ? 'worker-died' : 'closed');
      log.info({ producerId: producer.id, source, peerId, reason }, 'producer closed');
      emit('producerClosed', { producerId: producer.id, kind: producer.kind, source, peerId, reason });
    });
    producer.observer.on('pause', () => emit('producerPaused', producerInfo(rp)));
    producer.observer.on('resume', () => emit('producerResumed', producerInfo(rp)));
    return rp;
  }

  /** The reason the close of these producers, which their owner is about to close, will be announced with. */
  markClosing(producerIds: Iterable<string>, reason: ProducerCloseReason): void {
    for (const id of producerIds) {
      const rp = this.#byId.get(id);
      if (rp) rp.closeReason = reason;
    }
  }
}

export function producerInfo(p: RoomProducer): ProducerInfo {
  return {
    producerId: p.producer.id,
    kind: p.producer.kind,
    source: p.source,
    peerId: p.peerId,
    paused: p.producer.paused,
  };
}
