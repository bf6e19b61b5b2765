// The edge node's side of origin → edge media: for each session room this edge opens, a
// PipeTransport to the origin node's room (set up through the origin's internal API),
// every origin producer re-created here, and the origin's producer news followed.
// When either end's origin router is rebuilt on another worker (its worker died), the
// pipe is gone: the feed opens a new one and takes the producers again, so the points
// here get the hall back as new producers, without reconnecting.
import type { Logger } from 'pino';
import { z } from 'zod';
import { PipeReceiver, type BroadcastRoom, type PipeListen } from '../../sfu';
import type { NodeInfo } from '../contract/cluster';
import { callInternal, InternalCallError } from './internal-auth';
import { EndpointSchema, PipedProducerSchema, type ProducerMessage } from './origin-pipes';

const OpenAnswerSchema = z.object({
  transportId: z.string().min(1).max(128),
  endpoint: EndpointSchema,
  producers: z.array(z.object({ producerId: z.string().min(1).max(128) })).max(64),
});

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
  #end: PipeReceiver | undefined;
  #transportId: string | undefined;
  #originUrl: string | undefined;
  /** The node feeding this room (its producer news are the ones followed). */
  upstreamId: string | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #reopenQueued = false;
  readonly #log: Logger;

  constructor(
    readonly sessionId: string,
    readonly room: BroadcastRoom,
    private readonly deps: EdgeFeedDeps,
  ) {
    this.#log = deps.logger.child({ component: 'edge-feed', sessionId });
    room.once('closed', () => this.close());
    room.on('originRebuilt', this.#onOwnOriginRebuilt);
    this.#enqueue(() => this.#open());
  }

  /** This edge's own origin router moved: the receiving end of the pipe died with it. */
  readonly #onOwnOriginRebuilt = () => this.reopen('this node rebuilt its origin router');

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
    if (m.type === 'originRebuilt') return this.reopen('the upstream node rebuilt its origin router');
    this.#enqueue(async () => {
      if (!this.#end || !m.producerId) return;
      if (m.type === 'new') await this.#pull(m.producerId);
      else if (m.type === 'closed') this.#end.drop(m.producerId);
      else if (m.type === 'paused' || m.type === 'resumed')
        await this.#end.setPaused(m.producerId, m.type === 'paused');
    });
  }

  /** Drops the current pipe (its producers close here) and opens a new one, after the steps already queued. */
  reopen(why: string): void {
    // Several steps may find the pipe gone (one per announced producer): one new pipe.
    if (this.#closed || this.#reopenQueued) return;
    this.#reopenQueued = true;
    this.#enqueue(async () => {
      this.#reopenQueued = false;
      if (this.#closed) return;
      this.#log.warn({ why, upstream: this.upstreamId }, 'opening a new pipe from the upstream node');
      this.#dropPipe();
      await this.#open();
    });
  }

  #dropPipe(): void {
    const end = this.#end;
    const transportId = this.#transportId;
    const url = this.#originUrl;
    this.#end = undefined;
    this.#transportId = undefined;
    end?.close();
    // The upstream's end is usually gone with its worker; if not, it is let go here.
    if (end && transportId && url) this.#call(url, 'DELETE', `/${transportId}`).catch(() => undefined);
  }

  #enqueue(fn: () => Promise<void>): void {
    this.#chain = this.#chain.then(fn).catch((err: unknown) => this.#log.warn({ err }, 'edge feed step failed'));
  }

  #call<T>(url: string | undefined, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    if (!url) return Promise.reject(new Error('no upstream node yet'));
    return callInternal<T>(
      url,
      this.deps.token,
      method,
      `/cluster/v1/internal/pipe/${encodeURIComponent(this.sessionId)}${path}`,
      body,
    );
  }

  async #open(): Promise<void> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS && !this.#closed && !this.room.closed; attempt++) {
      let end: PipeReceiver | undefined;
      try {
        const origin = await this.deps.findUpstream();
        if (!origin) throw new Error('no origin node is registered');
        this.#originUrl = origin.internalUrl;
        this.upstreamId = origin.id;
        end = await PipeReceiver.open(this.room, this.deps.listen);
        const answer = OpenAnswerSchema.parse(
          await this.#call(this.#originUrl, 'POST', '/open', { edgeNodeId: this.deps.selfId, endpoint: end.local }),
        );
        await end.connect({ ...answer.endpoint, srtpParameters: answer.endpoint.srtpParameters as never });
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
    // A producer this room already has is its own: the floor of a point served here,
    // which this edge sent up to the origin (floor-uplink.ts) and now hears announced back.
    if (this.room.listProducers().some((p) => p.producerId === producerId)) return;
    let answer: unknown;
    try {
      answer = await this.#call(this.#originUrl, 'POST', `/${this.#transportId}/consume`, { producerId });
    } catch (err) {
      // The upstream lost this pipe (its worker died) before it could say so: a new one.
      if (err instanceof InternalCallError && err.code === 'pipe_gone') this.reopen('the upstream lost the pipe');
      throw err;
    }
    const piped = PipedProducerSchema.parse(answer);
    await end.adopt({ ...piped, rtpParameters: piped.rtpParameters as never });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.room.off('originRebuilt', this.#onOwnOriginRebuilt);
    this.#dropPipe();
  }
}
