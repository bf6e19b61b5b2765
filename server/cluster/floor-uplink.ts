// The edge's side of edge → origin media: a point served by this edge holds the floor and
// produces its camera and microphone here; the host and the points of every other node
// must hear it. Each such producer is sent up one PipeTransport per session to the
// origin node (uplink-pipes.ts there), which adopts it; the origin's own pipes then carry
// it to the other edges, and this edge's feed skips it when it is announced back.
// When the origin's (or this node's) origin router is rebuilt on another worker, the pipe
// is gone: a new one is opened and the floor sent again.
import type { Logger } from 'pino';
import { z } from 'zod';
import { PipeSender, type BroadcastRoom, type PipeListen, type ProducerInfo } from '../../sfu';
import type { NodeInfo } from '../contract/cluster';
import { callInternal, InternalCallError } from './internal-auth';
import { EndpointSchema, type ProducerMessage } from './origin-pipes';

const RETRY_MS = 1000;
/** A floor producer is offered for about half a minute (the origin may be rebuilding), then dropped. */
const MAX_ATTEMPTS = 30;

const OpenAnswerSchema = z.object({ transportId: z.string().min(1).max(128), endpoint: EndpointSchema });

export interface FloorUplinkDeps {
  selfId: string;
  listen: PipeListen;
  token: string;
  logger: Logger;
  findOrigin: () => Promise<NodeInfo | undefined>;
}

export class FloorUplink {
  #sender: PipeSender | undefined;
  #transportId: string | undefined;
  #originUrl: string | undefined;
  /** The origin node the floor goes to: its producer news (originRebuilt) are followed. */
  originId: string | undefined;
  /** Floor producers the origin has adopted through the current pipe. */
  readonly #sent = new Set<string>();
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #log: Logger;

  constructor(
    readonly sessionId: string,
    readonly room: BroadcastRoom,
    private readonly deps: FloorUplinkDeps,
  ) {
    this.#log = deps.logger.child({ component: 'floor-uplink', sessionId });
    room.on('newProducer', this.#onNew);
    room.on('producerClosed', this.#onClosed);
    room.on('originRebuilt', this.#onOwnOriginRebuilt);
    room.once('closed', () => this.close());
  }

  /** Floor producers currently carried to the origin. */
  get sent(): string[] {
    return [...this.#sent];
  }

  /** A producer of a point connected here (not one piped in from another node). */
  #isLocalFloor(p: Pick<ProducerInfo, 'producerId' | 'source' | 'peerId'>): boolean {
    return p.source.startsWith('floor-') && !!this.room.getPeer(p.peerId)?.producers.has(p.producerId);
  }

  readonly #onNew = (p: ProducerInfo) => {
    if (this.#isLocalFloor(p)) this.#enqueue(() => this.#send(p.producerId));
  };

  readonly #onClosed = (p: { producerId: string }) => {
    if (!this.#sent.delete(p.producerId)) return;
    const [url, transportId] = [this.#originUrl, this.#transportId];
    this.#enqueue(async () => {
      if (url && transportId) await this.#call(url, 'DELETE', `/${transportId}/${encodeURIComponent(p.producerId)}`);
    });
  };

  readonly #onOwnOriginRebuilt = () => this.#resend('this node rebuilt its origin router');

  /** Producer news of the origin node this uplink sends to. */
  onMessage(m: ProducerMessage): void {
    if (m.type === 'originRebuilt') this.#resend('the origin node rebuilt its origin router');
  }

  /** The pipe is gone (a rebuilt router at either end): a new one, and every local floor producer again. */
  #resend(why: string): void {
    if (this.#closed) return;
    this.#enqueue(async () => {
      const floor = this.room.listProducers().filter((p) => this.#isLocalFloor(p));
      this.#log.warn({ why, producers: floor.length }, 'sending the floor to the origin through a new pipe');
      this.#dropPipe();
      for (const p of floor) await this.#send(p.producerId);
    });
  }

  #enqueue(fn: () => Promise<void>): void {
    this.#chain = this.#chain.then(fn).catch((err: unknown) => this.#log.warn({ err }, 'floor uplink step failed'));
  }

  #call<T>(url: string, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    return callInternal<T>(
      url,
      this.deps.token,
      method,
      `/cluster/v1/internal/uplink/${encodeURIComponent(this.sessionId)}${path}`,
      body,
    );
  }

  async #openPipe(): Promise<PipeSender> {
    if (this.#sender && !this.#sender.closed) return this.#sender;
    this.#dropPipe();
    const origin = await this.deps.findOrigin();
    if (!origin) throw new Error('no origin node is registered');
    const sender = await PipeSender.open(this.room, this.deps.listen);
    try {
      const answer = OpenAnswerSchema.parse(
        await this.#call(origin.internalUrl, 'POST', '/open', { edgeNodeId: this.deps.selfId, endpoint: sender.local }),
      );
      await sender.connect({ ...answer.endpoint, srtpParameters: answer.endpoint.srtpParameters as never });
      this.#sender = sender;
      this.#transportId = answer.transportId;
      this.#originUrl = origin.internalUrl;
      this.originId = origin.id;
      this.#log.info({ origin: origin.id }, 'pipe to the origin open for the floor');
      return sender;
    } catch (err) {
      sender.close();
      throw err;
    }
  }

  async #send(producerId: string): Promise<void> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const p = this.room.listProducers().find((x) => x.producerId === producerId);
      if (this.#closed || !p || !this.#isLocalFloor(p) || this.#sent.has(producerId)) return;
      try {
        const sender = await this.#openPipe();
        const piped = await sender.consume(producerId);
        const [url, transportId] = [this.#originUrl!, this.#transportId!];
        await this.#call(url, 'POST', `/${transportId}/produce`, piped);
        if (!this.room.listProducers().some((x) => x.producerId === producerId)) {
          // The floor was taken back while the origin answered: it ends there too.
          await this.#call(url, 'DELETE', `/${transportId}/${encodeURIComponent(producerId)}`);
          return;
        }
        this.#sent.add(producerId);
        this.#log.info({ producerId, source: p.source, peerId: p.peerId }, 'floor sent to the origin');
        return;
      } catch (err) {
        // The origin lost this pipe (its worker died): a new pipe on the next attempt.
        if (err instanceof InternalCallError && err.code === 'pipe_gone') this.#dropPipe();
        if (attempt === 1 || attempt % 10 === 0)
          this.#log.warn({ err, attempt, producerId }, 'cannot send the floor to the origin yet');
        await new Promise((r) => setTimeout(r, RETRY_MS).unref());
      }
    }
    this.#log.error({ producerId }, 'gave up sending the floor to the origin');
  }

  #dropPipe(): void {
    const [sender, url, transportId] = [this.#sender, this.#originUrl, this.#transportId];
    this.#sender = undefined;
    this.#transportId = undefined;
    this.#sent.clear();
    sender?.close();
    // Closing the origin's end closes the floor producers it adopted through it.
    if (sender && url && transportId) this.#call(url, 'DELETE', `/${transportId}`).catch(() => undefined);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.room.off('newProducer', this.#onNew);
    this.room.off('producerClosed', this.#onClosed);
    this.room.off('originRebuilt', this.#onOwnOriginRebuilt);
    this.#dropPipe();
  }
}
