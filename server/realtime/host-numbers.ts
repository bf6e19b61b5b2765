// The host's live numbers of a session: points invited, connected and receiving video
// (on every node), delegates reported. Pushed to this node's hosts by one timer per
// session, not per point: at most once a second, and only when they changed.
import type { LiveNumbers } from '../contract/broadcast';
import type { ClusterPort } from './cluster-port';

export interface HostNumbersDeps {
  sessionId: string;
  invited: () => number;
  /** This node's points: connected, and receiving video. */
  connected: () => number;
  receivingVideo: () => string[];
  cluster: Pick<ClusterPort, 'connectedPoints' | 'receivingVideo'>;
  /** Delegates reported by headcount, from the attendance ledger (0 when unknown). */
  delegatesReported: (sessionId: string) => Promise<number>;
  /** Whether this node has a host of the session to push to. */
  hosts: () => boolean;
  push: (n: LiveNumbers) => void;
}

export class HostNumbers {
  readonly #d: HostNumbersDeps;
  readonly #timer: NodeJS.Timeout;
  #last = '';

  constructor(deps: HostNumbersDeps) {
    this.#d = deps;
    this.#timer = setInterval(() => void this.#push(), 1000);
    this.#timer.unref();
  }

  async get(): Promise<LiveNumbers> {
    const { sessionId, cluster } = this.#d;
    const local = this.#d.connected();
    const receiving = this.#d.receivingVideo();
    return {
      invited: this.#d.invited(),
      connected: await cluster.connectedPoints(sessionId, local).catch(() => this.#d.connected()),
      receivingVideo: await cluster.receivingVideo(sessionId, receiving).catch(() => receiving.length),
      delegatesReported: await this.#d.delegatesReported(sessionId).catch(() => 0),
    };
  }

  /** A host joined: it is sent the numbers at the next tick, changed or not. */
  resend(): void {
    this.#last = '';
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #push(): Promise<void> {
    if (!this.#d.hosts()) return;
    const n = await this.get();
    const key = JSON.stringify(n);
    if (key === this.#last) return;
    this.#last = key;
    this.#d.push(n);
  }
}
