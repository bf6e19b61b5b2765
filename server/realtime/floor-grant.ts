// Who holds a live session's floor, on this node or, scale-out, on another: giving it
// (one floor at a time, on whichever node it is held), taking it back, and enacting what
// the host on another node ordered for a point served here, and telling the point, the
// hosts and the other nodes when its room's floor changes hands. The desk's mute is
// elsewhere (desk-floor.ts).
import type { BroadcastRoom } from '../../sfu';
import type { BroadcastView } from '../contract/broadcast';
import { AppError, conflict, why } from '../errors';
import type { SipFloorPort } from '../sip/floor-bridge';
import type { ClusterPort } from './cluster-port';

export interface FloorGrantDeps {
  sessionId: string;
  cluster: Pick<ClusterPort, 'remoteFloor' | 'floorGranted' | 'floorEnded'>;
  /** The session's room, if it has one now. */
  room: () => BroadcastRoom | undefined;
  requireRoom: () => Promise<BroadcastRoom>;
  /** The briefing is live (the floor is given only then). */
  live: () => boolean;
  /** This node serves the point's socket. */
  servesPoint: (pointId: string) => boolean;
  /** Room systems over SIP on this node (floor-bridge.ts), if the gateway runs. */
  sip: () => SipFloorPort | undefined;
  lowerHand: (pointId: string) => Promise<void>;
  pushView: () => Promise<BroadcastView>;
  /** Tells the point's page, if served here, that it holds the floor or no longer does. */
  tell: (pointId: string, granted: boolean) => void;
  /** The floor changed hands: the desk's mute was for the previous holder. */
  holderChanged: () => void;
}

export class FloorGrant {
  /** Scale-out: the point of another node that the host gave the floor to from here. */
  #remote: string | undefined;
  /**
   * Counts grants and revokes: a room system's grant waits for its re-INVITE answer, and a
   * grant or revoke made meanwhile wins over it.
   */
  #gen = 0;
  /** The grant to a room system waiting for its re-INVITE answer. */
  #asking: { pointId: string; gen: number; view: Promise<BroadcastView> } | undefined;

  constructor(private readonly deps: FloorGrantDeps) {}

  /** The room's floor given and taken back: its point, the hosts and the other nodes are told. */
  watch(room: BroadcastRoom): void {
    room.on('floorGranted', ({ peerId }) => {
      this.deps.holderChanged();
      this.deps.tell(peerId, true);
      void this.deps.pushView();
    });
    room.on('floorRevoked', ({ peerId }) => {
      this.deps.holderChanged();
      this.deps.tell(peerId, false);
      this.#sipRevoked(peerId);
      this.deps.cluster.floorEnded(this.deps.sessionId, peerId);
      void this.deps.pushView();
    });
  }

  /** The point holding the floor: this node's room's holder, else another node's point. */
  holder(): string | undefined {
    return this.deps.room()?.floorHolder ?? this.#remote;
  }

  async grant(pointId: string): Promise<BroadcastView> {
    if (!this.deps.live()) throw new AppError('not_open', 'the floor can be given only while the briefing is live');
    // The same grant again while its room system is asked to send, nothing else meanwhile: one grant.
    const asking = this.#asking;
    if (asking?.pointId === pointId && asking.gen === this.#gen) return asking.view;
    const gen = ++this.#gen;
    const room = await this.deps.requireRoom();
    if (this.#overSip(pointId)) {
      // A room system: asked to send first (a re-INVITE); a refusal leaves the floor as it was.
      if (room.floorHolder === pointId) return this.deps.pushView();
      const view = this.#grantSip(room, pointId, gen);
      this.#asking = { pointId, gen, view };
      try {
        return await view;
      } finally {
        if (this.#asking?.view === view) this.#asking = undefined;
      }
    }
    if (!this.deps.servesPoint(pointId)) {
      // Scale-out: the point may be on another node, which enacts the grant there.
      if (!(await this.deps.cluster.remoteFloor(this.deps.sessionId, pointId, true))) {
        throw conflict(
          'this point is not connected; it cannot take the floor now',
          undefined,
          why('point_not_connected'),
        );
      }
      // One floor at a time, on whichever node it is held.
      await this.#takeRemote(pointId);
      if (room.floorHolder) room.revokeFloor();
      this.#remote = pointId;
      return this.deps.pushView();
    }
    await this.#takeRemote();
    await this.deps.cluster.floorGranted(this.deps.sessionId, pointId);
    this.#grantHere(room, pointId);
    await this.deps.lowerHand(pointId);
    return this.deps.pushView();
  }

  async #grantSip(room: BroadcastRoom, pointId: string, gen: number): Promise<BroadcastView> {
    await this.#askAndGrant(room, pointId, gen, async () => {
      await this.#takeRemote();
      await this.deps.cluster.floorGranted(this.deps.sessionId, pointId);
    });
    await this.deps.lowerHand(pointId);
    return this.deps.pushView();
  }

  /**
   * The room system is asked to send, then (after `before`) given the floor unless it
   * changed hands meanwhile; if the grant does not happen it goes back to sendonly.
   */
  async #askAndGrant(room: BroadcastRoom, pointId: string, gen: number, before?: () => Promise<void>): Promise<void> {
    await this.deps.sip()!.prepare(this.deps.sessionId, pointId);
    try {
      this.#current(gen);
      if (before) {
        await before();
        this.#current(gen);
      }
      this.#grantHere(room, pointId);
    } catch (err) {
      this.deps.sip()!.revoked(this.deps.sessionId, pointId);
      throw err;
    }
    this.#sipGranted(room, pointId);
  }

  async revoke(): Promise<BroadcastView> {
    this.#gen += 1;
    this.deps.room()?.revokeFloor();
    await this.#takeRemote();
    return this.deps.pushView();
  }

  /**
   * Scale-out: the host, on another node, gave or took back the floor of `pointId`; this
   * node serves the point and enacts it (never forwarding it again). False when the
   * point is not here (it moved): nothing happens.
   */
  async ordered(pointId: string, granted: boolean): Promise<boolean> {
    const sip = this.#overSip(pointId);
    if (!sip && !this.deps.servesPoint(pointId)) return false;
    const gen = ++this.#gen;
    if (!granted) {
      const room = this.deps.room();
      if (room?.floorHolder === pointId) room.revokeFloor();
      return true;
    }
    if (!this.deps.live()) return false;
    const room = await this.deps.requireRoom();
    if (sip) await this.#askAndGrant(room, pointId, gen);
    else this.#grantHere(room, pointId);
    await this.deps.lowerHand(pointId);
    return true;
  }

  /** Throws if the floor was given or taken back since the grant `gen` began (it is stale). */
  #current(gen: number): void {
    if (gen !== this.#gen)
      throw conflict(
        'the floor was given or taken back while the room system was asked to send',
        undefined,
        why('changed_meanwhile'),
      );
  }

  /** The room took the floor from a point: a room system's call goes back to receiving only. */
  #sipRevoked(pointId: string): void {
    this.deps.sip()?.revoked(this.deps.sessionId, pointId);
  }

  /** A point with no page here but a SIP call. */
  #overSip(pointId: string): boolean {
    return !this.deps.servesPoint(pointId) && (this.deps.sip()?.serves(this.deps.sessionId, pointId) ?? false);
  }

  /** The room system's media starts; if it cannot, the floor it was given is taken back. */
  #sipGranted(room: BroadcastRoom, pointId: string): void {
    this.deps.sip()!.granted(this.deps.sessionId, pointId, () => {
      if (!room.closed && room.floorHolder === pointId) {
        room.revokeFloor();
        void this.deps.pushView();
      }
    });
  }

  /** Scale-out: the floor this node gave to another node's point ended there. */
  remoteEnded(pointId: string): void {
    if (this.#remote !== pointId) return;
    this.#remote = undefined;
    void this.deps.pushView();
  }

  #grantHere(room: BroadcastRoom, pointId: string): void {
    room.addViewer(pointId);
    // One floor at a time: giving it to another point takes it from the current one.
    if (room.floorHolder && room.floorHolder !== pointId) room.revokeFloor();
    room.grantFloor(pointId);
  }

  /** Takes back a floor given to another node's point (unless it is `keep`'s). */
  async #takeRemote(keep?: string): Promise<void> {
    const held = this.#remote;
    if (!held || held === keep) return;
    this.#remote = undefined;
    await this.deps.cluster.remoteFloor(this.deps.sessionId, held, false);
  }
}
