// A router on one worker that receives every origin producer through pipeToRouter and
// serves the points placed on that worker. The origin pipes into it; it never pipes back.
// On the origin's own worker the origin router itself plays this part: mediasoup 3.12
// keeps the producer id across pipeToRouter, and two producers with one id cannot live in
// one worker, so a same-worker pipe fails (and would only cost a loopback hop anyway).
// Another node's room is fed differently: the origin's producers reach its own origin
// router through a PipeTransport pair (remote-pipe.ts), and its fan-out routers pipe from there.
import type { types as ms } from 'mediasoup';
import type { Logger } from 'pino';

export class FanoutRouter {
  readonly slot: number;
  readonly worker: ms.Worker;
  readonly router: ms.Router;
  /** Every producer present when it was created has been piped: points may be placed here. */
  ready = false;
  /** This is the origin router: its producers are local and need no pipe. */
  isOrigin = false;
  readonly #pipes = new Map<string, Promise<void>>();
  readonly #piped = new Set<string>();
  readonly #log: Logger;

  constructor(slot: number, worker: ms.Worker, router: ms.Router, log: Logger) {
    this.slot = slot;
    this.worker = worker;
    this.router = router;
    this.#log = log;
  }

  get closed(): boolean {
    return this.router.closed;
  }

  get alive(): boolean {
    return !this.router.closed && !this.worker.closed;
  }

  /** Origin producers piped in so far (not meaningful for the origin router itself). */
  get pipedCount(): number {
    return this.#piped.size;
  }

  hasProducer(producerId: string): boolean {
    return this.isOrigin || this.#piped.has(producerId);
  }

  /** Pipes one origin producer in; concurrent calls for the same producer share one pipe. */
  pipe(origin: ms.Router, producerId: string): Promise<void> {
    if (this.isOrigin || origin === this.router) return Promise.resolve();
    const existing = this.#pipes.get(producerId);
    if (existing) return existing;
    const p = origin
      .pipeToRouter({ producerId, router: this.router, enableSctp: false })
      .then(({ pipeProducer }) => {
        if (!pipeProducer || pipeProducer.closed) throw new Error('pipe producer closed while piping');
        this.#piped.add(producerId);
        pipeProducer.observer.once('close', () => this.forget(producerId));
      })
      .catch((err: unknown) => {
        this.forget(producerId);
        this.#log.debug({ err, producerId, slot: this.slot }, 'pipe into fan-out router failed');
        throw err;
      });
    this.#pipes.set(producerId, p);
    return p;
  }

  forget(producerId: string): void {
    this.#pipes.delete(producerId);
    this.#piped.delete(producerId);
  }

  close(): void {
    this.#pipes.clear();
    this.#piped.clear();
    this.router.close();
  }
}

/**
 * Per worker-pool slot load, shared by every room on the same pool so that placement
 * sees the whole worker: the sum over receive transports of max(1, consumers) (a
 * transport counts before it consumes, so a join storm spreads too).
 */
export class SlotLoad {
  static readonly #byPool = new WeakMap<object, SlotLoad>();
  readonly #load = new Map<number, number>();

  static of(pool: object): SlotLoad {
    let l = SlotLoad.#byPool.get(pool);
    if (!l) {
      l = new SlotLoad();
      SlotLoad.#byPool.set(pool, l);
    }
    return l;
  }

  get(slot: number): number {
    return this.#load.get(slot) ?? 0;
  }

  add(slot: number, delta: number): void {
    if (delta !== 0) this.#load.set(slot, Math.max(0, this.get(slot) + delta));
  }
}
