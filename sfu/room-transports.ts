// A peer's WebRtcTransports: on the worker's WebRtcServer (one UDP and one TCP port per
// worker; UDP preferred, TCP allowed, no SCTP), on the router the topology places it on,
// within the peer's cap on transports. A send transport is capped at what its publisher
// sends; a receive transport follows mediasoup's bandwidth estimate for the layer policy,
// and a viewer's counts in its worker's load.
import type { types as ms } from 'mediasoup';
import { SfuError } from './errors';
import type { Floor } from './floor';
import { FLOOR_MAX_INCOMING_BITRATE, HOST_MAX_INCOMING_BITRATE, VIEWER_INITIAL_OUTGOING_BITRATE } from './media-codecs';
import type { Peer, PeerTransport } from './peer';
import type { RoomContext } from './room-context';
import type { Placement, RoomTopology } from './room-topology';
import type { TransportDirection, TransportParams } from './types';

export interface RoomTransportsDeps extends Pick<RoomContext, 'roomId' | 'log' | 'isClosed' | 'emit'> {
  maxTransportsPerPeer: number;
  topology: Pick<RoomTopology, 'place' | 'track' | 'updateLoad'>;
  floor: Pick<Floor, 'checkMaySend'>;
}

export class RoomTransports {
  readonly #deps: RoomTransportsDeps;

  constructor(deps: RoomTransportsDeps) {
    this.#deps = deps;
  }

  /**
   * recv for a viewer: the least-loaded live fan-out router. send (host, or the floor
   * holder) and the host's recv (to hear the floor): the origin router.
   */
  async create(peer: Peer, direction: TransportDirection): Promise<TransportParams> {
    const { topology, log, emit } = this.#deps;
    this.#deps.floor.checkMaySend(peer, direction);
    // Counted against the cap until it is added to the peer, with no wait in between.
    const giveBack = peer.holdTransportPlace(this.#deps.maxTransportsPerPeer);
    let opened: { place: Placement; transport: ms.WebRtcTransport };
    try {
      opened = await this.#open(peer, direction);
    } finally {
      giveBack();
    }
    const { place, transport } = opened;
    const { router, worker, slot } = place;
    if (peer.closed || this.#deps.isClosed()) {
      place.release();
      transport.close();
      throw new SfuError('not_found', `peer ${peer.id} left`);
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
    topology.track(peer, entry);
    if (direction === 'send') {
      const max = peer.role === 'host' ? HOST_MAX_INCOMING_BITRATE : FLOOR_MAX_INCOMING_BITRATE;
      await transport.setMaxIncomingBitrate(max).catch((err: unknown) => log.warn({ err }, 'setMaxIncomingBitrate'));
    } else {
      transport.on('trace', (trace) => {
        if (trace.type === 'bwe' && typeof trace.info?.availableBitrate === 'number') {
          entry.availableBitrate = trace.info.availableBitrate;
        }
      });
      await transport.enableTraceEvent(['bwe']).catch(() => undefined);
      if (peer.role === 'viewer') {
        place.release();
        if (!transport.closed) topology.updateLoad(peer, entry);
        if (peer.lastRecvSlot !== undefined && peer.lastRecvSlot !== slot) {
          emit('peerMoved', { peerId: peer.id, fromSlot: peer.lastRecvSlot, toSlot: slot });
        }
        peer.lastRecvSlot = slot;
      }
    }
    log.debug({ peerId: peer.id, transportId: transport.id, direction, slot }, 'transport created');
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
      sctpParameters: undefined,
    };
  }

  async #open(peer: Peer, direction: TransportDirection): Promise<{ place: Placement; transport: ms.WebRtcTransport }> {
    const place = await this.#deps.topology.place(peer, direction);
    try {
      const transport = await place.router.createWebRtcTransport({
        webRtcServer: place.webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: VIEWER_INITIAL_OUTGOING_BITRATE,
        appData: { roomId: this.#deps.roomId, peerId: peer.id, direction },
      });
      return { place, transport };
    } catch (err) {
      place.release();
      throw new SfuError('unavailable', 'could not create a transport; retry', { cause: err });
    }
  }
}
