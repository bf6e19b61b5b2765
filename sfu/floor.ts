// Who may send media into a broadcast room: the host console always (its host-* sources),
// and one connection point at a time, the one holding the floor (floor-camera, floor-mic).
// Taking the floor back closes the holder's producers, so every viewer's consumers of them
// close too, and its send transports.
import { SfuError } from './errors';
import type { Peer } from './peer';
import type { RoomContext } from './room-context';
import type { RoomProducers } from './room-producers';
import type { MediaSource, TransportDirection } from './types';

export type FloorRevokeReason = 'revoked' | 'peer-left' | 'room-closed';

export interface FloorDeps extends Pick<RoomContext, 'log' | 'peers' | 'emit'> {
  producers: Pick<RoomProducers, 'markClosing'>;
  /** The holder no longer publishes: forget its pending reconnect after a worker death. */
  forgetPublisher: (peerId: string) => void;
}

export class Floor {
  readonly #deps: FloorDeps;
  #holder: string | undefined;

  constructor(deps: FloorDeps) {
    this.#deps = deps;
  }

  get holder(): string | undefined {
    return this.#holder;
  }

  /** Granting it again to the holder is a no-op; another point must wait for a revoke. */
  grant(peer: Peer): void {
    if (peer.role !== 'viewer') throw new SfuError('bad_request', 'only a connection point can be given the floor');
    if (this.#holder === peer.id) return;
    if (this.#holder) throw new SfuError('conflict', `the floor is held by ${this.#holder}; revoke it first`);
    this.#holder = peer.id;
    this.#deps.log.info({ peerId: peer.id }, 'floor granted');
    this.#deps.emit('floorGranted', { peerId: peer.id });
  }

  /** Idempotent. Announced unless the room itself is closing. */
  revoke(reason: FloorRevokeReason): void {
    const peerId = this.#holder;
    if (!peerId) return;
    this.#holder = undefined;
    this.#deps.forgetPublisher(peerId);
    const peer = this.#deps.peers.get(peerId);
    if (peer) {
      this.#deps.producers.markClosing(peer.producers.keys(), reason === 'peer-left' ? 'peer-left' : 'floor-revoked');
      for (const p of [...peer.producers.values()]) p.producer.close();
      for (const t of [...peer.transports.values()]) if (t.direction === 'send') t.transport.close();
    }
    this.#deps.log.info({ peerId, reason }, 'floor revoked');
    if (reason !== 'room-closed') this.#deps.emit('floorRevoked', { peerId, reason });
  }

  /** A point opens a send transport only while it holds the floor. */
  checkMaySend(peer: Peer, direction: TransportDirection): void {
    if (direction === 'send' && peer.role === 'viewer' && this.#holder !== peer.id) {
      throw new SfuError('forbidden', 'a point may send media only while it holds the floor');
    }
  }

  checkMayProduce(peer: Peer, source: MediaSource): void {
    if (peer.closed) throw new SfuError('not_found', `peer ${peer.id} left`);
    if (peer.role === 'host') {
      if (!source.startsWith('host-'))
        throw new SfuError('bad_request', `the host produces host-* sources, not ${source}`);
      return;
    }
    if (this.#holder !== peer.id) throw new SfuError('forbidden', 'a point may produce only while it holds the floor');
    if (!source.startsWith('floor-'))
      throw new SfuError('forbidden', `a point with the floor may produce floor-camera and floor-mic only`);
  }
}
