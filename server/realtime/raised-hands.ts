// The raised hands of one live session: this node's, in order of raising, shared with
// the other nodes through the cluster port, and the merged list pushed to the hosts.
import type { Logger } from 'pino';
import type { Hand } from '../contract/broadcast';
import type { ControlPlane } from '../assembly/control-plane';
import { AppError } from '../errors';
import type { ClusterPort } from './cluster-port';
import type { HostNamespace } from './sockets';

export class RaisedHands {
  readonly #hands = new Map<string, Hand>();

  constructor(
    private readonly o: {
      sessionId: string;
      cluster: ClusterPort;
      points: Pick<ControlPlane['points'], 'get'>;
      hostNs: HostNamespace;
      /** The hosts' Socket.IO room of the session. */
      hostsRoom: string;
      /** The briefing is live (hands are raised only then). */
      live: () => boolean;
      log: Logger;
    },
  ) {}

  /** This node's raised hands. */
  local(): Hand[] {
    return [...this.#hands.values()];
  }

  /** Every node's raised hands, in order of raising: what the host sees. */
  async all(): Promise<Hand[]> {
    const local = this.local();
    return this.o.cluster.allHands(this.o.sessionId, local).catch((err: unknown) => {
      this.o.log.warn({ err }, "could not read other nodes' raised hands");
      return local;
    });
  }

  /**
   * Sends the hands to this node's hosts. `local`: each node pushes to its own hosts (the
   * other nodes are told by the cluster and push theirs), the same as `to` in one process.
   */
  async push(): Promise<void> {
    const list = await this.all();
    this.o.hostNs.local.to(this.o.hostsRoom).emit('hands', list);
  }

  /** Raises the point's hand (once); its place in the queue of every node, from 1. */
  async raise(pointId: string): Promise<number> {
    if (!this.o.live()) throw new AppError('not_open', 'hands can be raised only while the briefing is live');
    if (!this.#hands.has(pointId)) {
      const p = await this.o.points.get(pointId);
      this.#hands.set(pointId, {
        pointId,
        name: p?.name ?? pointId,
        district: p?.district ?? '',
        raisedAt: new Date().toISOString(),
      });
      await this.#changed();
    }
    const all = await this.all();
    const i = all.findIndex((h) => h.pointId === pointId);
    return i >= 0 ? i + 1 : [...this.#hands.keys()].indexOf(pointId) + 1;
  }

  async lower(pointId: string): Promise<void> {
    if (this.#hands.delete(pointId)) await this.#changed();
  }

  async #changed(): Promise<void> {
    await this.o.cluster.handsChanged(this.o.sessionId, this.local()).catch((err: unknown) => {
      this.o.log.warn({ err }, 'could not share raised hands with the other nodes');
    });
    await this.push();
  }
}
