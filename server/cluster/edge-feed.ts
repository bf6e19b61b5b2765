// The edge node's side of origin → edge media: for each session room this edge opens, a
// PipeTransport to the origin node's room (set up through the origin's internal API),
// every origin producer re-created here, and the origin's producer news followed.
import type { Logger } from 'pino';
import { EdgePipeEnd, type BroadcastRoom, type PipedProducer, type PipeListen } from '../../sfu';
import type { NodeInfo } from '../contract/cluster';
import type { ProducerMessage } from './origin-pipes';

const RETRY_MS = 1000;
/** An edge keeps trying to reach its origin for about two minutes, then gives up until a point asks again. */
const MAX_ATTEMPTS = 120;

export interface EdgeFeedDeps {
  selfId: string;
  listen: PipeListen;
  token: string;
  logger: Logger;
  /** The node to take the broadcast from: NODE_UPSTREAM if alive, else the origin. */
  findUpstream: () => Promise<NodeInfo | undefined>;
}

export class EdgeFeed {
  #end: EdgePipeEnd | undefined;
  #transportId: string | undefined;
  #originUrl: string | undefined;
  /** The node feeding this room (its producer news are the ones followed). */
  upstreamId: string | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #log: Logger;

  constructor(
    readonly sessionId: string,
    readonly room: BroadcastRoom,
    private readonly deps: EdgeFeedDeps,
  ) {
    this.#log = deps.logger.child({ component: 'edge-feed', sessionId });
    room.once('closed', () => this.close());
    this.#enqueue(() => this.#open());
  }

  get adopted(): string[] {
    return this.#end?.adopted() ?? [];
  }

  async stats(): Promise<{ upstream: string | null; producers: number; bytes: number }> {
    return {
      upstream: this.upstreamId ?? null,
      producers: this.adopted.length,
      bytes: (await this.#end?.bytesIn()) ?? 0,
    };
  }

  onMessage(m: ProducerMessage): void {
    if (this.#closed) return;
    this.#enqueue(async () => {
      if (!this.#end || !m.producerId) return;
      if (m.type === 'new') await this.#pull(m.producerId);
      else if (m.type === 'closed') this.#end.drop(m.producerId);
      else if (m.type === 'paused' || m.type === 'resumed')
        await this.#end.setPaused(m.producerId, m.type === 'paused');
    });
  }

  #enqueue(fn: () => Promise<void>): void {
    this.#chain = this.#chain.then(fn).catch((err: unknown) => this.#log.warn({ err }, 'edge feed step failed'));
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(
      `${this.#originUrl}/cluster/v1/internal/pipe/${encodeURIComponent(this.sessionId)}${path}`,
      {
        method,
        headers: { authorization: `Bearer ${this.deps.token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      },
    );
    if (!res.ok) throw new Error(`origin answered ${res.status} to ${method} ${path}: ${await res.text()}`);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  async #open(): Promise<void> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && !this.#closed && !this.room.closed; attempt++) {
      let end: EdgePipeEnd | undefined;
      try {
        const origin = await this.deps.findUpstream();
        if (!origin) throw new Error('no origin node is registered');
        this.#originUrl = origin.internalUrl;
        this.upstreamId = origin.id;
        end = await EdgePipeEnd.open(this.room, this.deps.listen);
        const answer = await this.#call<{
          transportId: string;
          endpoint: { ip: string; port: number; srtpParameters?: never };
          producers: { producerId: string }[];
        }>('POST', '/open', { edgeNodeId: this.deps.selfId, endpoint: end.local });
        await end.connect({ ...answer.endpoint, srtpParameters: answer.endpoint.srtpParameters });
        if (this.#closed) return end.close();
        this.#end = end;
        this.#transportId = answer.transportId;
        this.#log.info({ origin: origin.id, producers: answer.producers.length }, 'pipe from the origin open');
        for (const p of answer.producers) await this.#pull(p.producerId);
        return;
      } catch (err) {
        end?.close();
        if (attempt === 1 || attempt % 10 === 0)
          this.#log.warn({ err, attempt }, 'cannot open the pipe from the origin yet');
        await new Promise((r) => setTimeout(r, RETRY_MS).unref());
      }
    }
  }

  async #pull(producerId: string): Promise<void> {
    const end = this.#end;
    if (!end || end.has(producerId)) return;
    const piped = await this.#call<PipedProducer>('POST', `/${this.#transportId}/consume`, { producerId });
    await end.adopt(piped);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const end = this.#end;
    end?.close();
    if (end && this.#transportId && this.#originUrl) {
      this.#call('DELETE', `/${this.#transportId}`).catch(() => undefined);
    }
  }
}
