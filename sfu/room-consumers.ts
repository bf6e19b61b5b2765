// How a peer receives a room producer: a consumer on one of its receive transports, on the
// router that transport lives on (the producer is piped there first if it is not yet),
// created paused at the layer its viewer mode allows, its score and layers announced.
//
// A peer has one consumer per producer. Asking again on the same transport answers the
// consumer it has (a page that lost track of it, or a client repeating itself); asking on
// another transport (a page that rebuilt its receive transport while the server still holds
// the old one) moves it: the new consumer replaces the old. A consumer closes with its
// transport, so one on a closed transport never stands in the way. A peer's requests run
// one at a time, so concurrent repeats find the consumer the first one made and the cap per
// transport counts every consumer.
import type { types as ms } from 'mediasoup';
import { SfuError } from './errors';
import type { Peer, PeerConsumer, PeerTransport } from './peer';
import type { RoomContext } from './room-context';
import type { RoomProducers } from './room-producers';
import type { RoomTopology } from './room-topology';
import type { ConsumerParams } from './types';
import { VIDEO_AGAIN_MSG, VIDEO_STOP_MSG, VIDEO_STOPPED_CLOSE_MSG, type VideoStopFields } from './video-stop-log';
import type { ViewerLayers } from './viewer-layers';

export interface RoomConsumersDeps extends Pick<RoomContext, 'isClosed' | 'emit' | 'log'> {
  maxConsumersPerTransport: number;
  producers: Pick<RoomProducers, 'get'>;
  topology: Pick<RoomTopology, 'ensurePiped' | 'updateLoad'>;
  layers: Pick<ViewerLayers, 'initial'>;
}

export class RoomConsumers {
  readonly #deps: RoomConsumersDeps;
  /** Each peer's latest consume request: the next one starts when it has settled. */
  readonly #queues = new WeakMap<Peer, Promise<unknown>>();

  constructor(deps: RoomConsumersDeps) {
    this.#deps = deps;
  }

  /**
   * A consumer created PAUSED: the client resumes it once it has set up its side, so the
   * first key frame is not lost.
   */
  consume(
    peer: Peer,
    entry: PeerTransport,
    producerId: string,
    rtpCapabilities: ms.RtpCapabilities,
  ): Promise<ConsumerParams> {
    const previous = this.#queues.get(peer) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.#consume(peer, entry, producerId, rtpCapabilities));
    this.#queues.set(peer, next);
    const settled = () => {
      if (this.#queues.get(peer) === next) this.#queues.delete(peer);
    };
    next.then(settled, settled);
    return next;
  }

  async #consume(
    peer: Peer,
    entry: PeerTransport,
    producerId: string,
    rtpCapabilities: ms.RtpCapabilities,
  ): Promise<ConsumerParams> {
    const transportId = entry.transport.id;
    if (entry.direction !== 'recv') throw new SfuError('bad_request', 'not a receive transport');
    if (peer.closed || entry.transport.closed) throw new SfuError('not_found', `transport ${transportId} closed`);
    const rp = this.#deps.producers.get(producerId);
    if (!rp) throw new SfuError('not_found', `producer ${producerId} not found`);
    if (rp.peerId === peer.id) throw new SfuError('bad_request', 'a peer does not consume its own producer');
    const max = this.#deps.maxConsumersPerTransport;
    const again = peer.consumerOf(producerId)?.transportId === transportId;
    if (!again && peer.consumersOn(transportId) >= max) {
      throw new SfuError('limit_exceeded', `a receive transport holds ${max} consumers at most`);
    }
    await this.#deps.topology.ensurePiped(entry.router, producerId);
    if (!entry.router.canConsume({ producerId, rtpCapabilities })) {
      throw new SfuError('bad_request', 'these RTP capabilities cannot consume this producer');
    }
    const existing = peer.consumerOf(producerId);
    if (existing?.transportId === transportId) return consumerParams(existing);
    const start = this.#deps.layers.initial(peer, rp.producer);
    let consumer: ms.Consumer;
    try {
      consumer = await entry.transport.consume({
        producerId,
        rtpCapabilities,
        paused: true,
        ...(start.maxSpatialLayer > 0 ? { preferredLayers: { spatialLayer: start.layerState.spatialLayer } } : {}),
        appData: { peerId: peer.id, source: rp.source },
      });
    } catch (err) {
      throw new SfuError('bad_request', `cannot consume: ${(err as Error).message}`, { cause: err });
    }
    if (peer.closed || consumer.closed) {
      consumer.close();
      throw new SfuError('not_found', 'the peer or its transport closed meanwhile');
    }
    const pc: PeerConsumer = { consumer, source: rp.source, transportId, clientReady: false, ...start };
    // Moved to this transport: the consumer on the page's previous one goes.
    existing?.consumer.close();
    peer.addConsumer(pc);
    this.#follow(peer, entry, pc);
    return consumerParams(pc);
  }

  /** Keeps the transport's load in step with its consumers, and announces what the consumer reports. */
  #follow(peer: Peer, entry: PeerTransport, pc: PeerConsumer): void {
    const { topology, emit } = this.#deps;
    const { consumer } = pc;
    const ids = { peerId: peer.id, consumerId: consumer.id };
    topology.updateLoad(peer, entry);
    consumer.observer.once('close', () => {
      if (!entry.transport.closed) topology.updateLoad(peer, entry);
      // A stop ended by a rejoin or a rebuild: said too, so that a reader of the log can
      // close it (the new consumer is another one).
      if (pc.videoStoppedAt !== undefined) {
        const fields: VideoStopFields = { ...ids, source: pc.source };
        this.#deps.log.info({ ...fields, stoppedMs: Date.now() - pc.videoStoppedAt }, VIDEO_STOPPED_CLOSE_MSG);
      }
    });
    consumer.on('producerclose', () => {
      if (!this.#deps.isClosed()) emit('consumerClosed', { ...ids, producerId: consumer.producerId });
    });
    consumer.on('score', (s) => emit('consumerScore', { ...ids, score: s.score, producerScore: s.producerScore }));
    consumer.on('layerschange', (layers) => {
      this.#deps.log.debug(
        { ...ids, layers: layers ?? null, availableBitrate: entry.availableBitrate },
        'consumer layers',
      );
      this.#logVideoStop(peer, pc, entry, layers);
      emit('consumerLayersChanged', { ...ids, layers: layers ?? null });
    });
  }

  /**
   * A simulcast consumer with no layer sends the point no video at all. Neither paused nor
   * its producer paused, mediasoup does that when the transport's bandwidth estimate is below
   * what the lowest layer needs (or no layer of the producer is active), and resumes when the
   * estimate allows the lowest layer again: the point's page sees its video stop with its
   * socket and ICE up. Said once when it stops, once when it resumes, with the estimate.
   */
  #logVideoStop(
    peer: Peer,
    pc: PeerConsumer,
    entry: PeerTransport,
    layers: ms.ConsumerLayers | undefined | null,
  ): void {
    const c = pc.consumer;
    if (c.type !== 'simulcast') return;
    const at: VideoStopFields = {
      peerId: peer.id,
      consumerId: c.id,
      source: pc.source,
      availableBitrate: entry.availableBitrate,
    };
    // mediasoup 3.12 says "no layer" with null (its type says undefined).
    if (!layers) {
      if (c.paused || c.producerPaused || pc.videoStoppedAt !== undefined) return;
      pc.videoStoppedAt = Date.now();
      this.#deps.log.info(at, VIDEO_STOP_MSG);
    } else if (pc.videoStoppedAt !== undefined) {
      const stoppedMs = Date.now() - pc.videoStoppedAt;
      pc.videoStoppedAt = undefined;
      this.#deps.log.info({ ...at, stoppedMs, spatialLayer: layers.spatialLayer }, VIDEO_AGAIN_MSG);
    }
  }
}

/** What a client needs to consume on its side (mediasoup-client `transport.consume()`). */
function consumerParams({ consumer, source }: PeerConsumer): ConsumerParams {
  const { id, producerId, kind, rtpParameters, type, producerPaused } = consumer;
  return { id, producerId, kind, rtpParameters, type, source, producerPaused };
}
