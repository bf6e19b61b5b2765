// Where a SIP leg consumes so that it sends with the payload type the room system offered.
// RFC 3264 5.1: an offer's numbers are those the offerer expects to receive, and some room
// systems accept no other. mediasoup sends a codec with its router's number whatever a
// consumer's capabilities prefer; the static ones (PCMU 0, PCMA 8, G722 9) are the same
// everywhere, the dynamic ones (H.264, Opus) are not. So a leg whose offered number is not
// the origin router's gets a small router on the origin's worker, built with that one codec
// at that number, and the producer it sends is piped into it once: the pipe producer's
// mapping rewrites every packet to the new number. Legs with the same codec and number
// share the router; it closes with its last leg.
// The pipe is made by hand (a PipeTransport pair, a consumer on one side and a producer with
// a new id on the other): pipeToRouter keeps the producer id in mediasoup 3.12, and one
// worker cannot hold two producers with one id. Key-frame requests from the leg's consumer
// cross it as RTCP feedback, like any pipe's, to the producer that was piped.
import type { types as ms } from 'mediasoup';
import type { Origin } from './room-topology';

/** One leg's place: the router its transport goes on and the producer it consumes there. */
export interface SipRoute {
  readonly router: ms.Router;
  readonly producerId: string;
  /** Idempotent: the leg is done with it (the last one closes a payload router). */
  release(): void;
}

const PIPE_LISTEN_IP = '127.0.0.1';

/** A leg on the origin router itself: nothing to release. */
export function originRoute(origin: Origin, producerId: string): SipRoute {
  return { router: origin.router, producerId, release: () => undefined };
}

/** A router with one codec at one payload type, fed from the origin router through one PipeTransport pair. */
class PayloadRouter {
  readonly #pipes = new Map<string, Promise<string>>();

  private constructor(
    readonly router: ms.Router,
    readonly local: ms.PipeTransport,
    readonly remote: ms.PipeTransport,
  ) {}

  static async create(origin: ms.Router, worker: ms.Worker, codec: ms.RtpCodecCapability): Promise<PayloadRouter> {
    const router = await worker.createRouter({ mediaCodecs: [codec], appData: { sipPayloadType: true } });
    try {
      const opts = { listenIp: PIPE_LISTEN_IP, enableSctp: false, enableRtx: false, enableSrtp: false };
      // Both at once; if one fails, the other (on the origin router) is closed too.
      const [a, b] = await Promise.allSettled([origin.createPipeTransport(opts), router.createPipeTransport(opts)]);
      if (a.status === 'rejected' || b.status === 'rejected') {
        if (a.status === 'fulfilled') a.value.close();
        throw a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason;
      }
      const [local, remote] = [a.value, b.value];
      const pr = new PayloadRouter(router, local, remote);
      // Closing the origin (or this router) takes the pair with it; either end closes the whole.
      router.observer.once('close', () => local.close());
      local.observer.once('close', () => router.close());
      await Promise.all([
        local.connect({ ip: remote.tuple.localIp, port: remote.tuple.localPort }),
        remote.connect({ ip: local.tuple.localIp, port: local.tuple.localPort }),
      ]);
      return pr;
    } catch (err) {
      router.close();
      throw err;
    }
  }

  /** The id, in this router, of `producer` piped from the origin; concurrent calls share one pipe. */
  pipe(producer: ms.Producer): Promise<string> {
    const existing = this.#pipes.get(producer.id);
    if (existing) return existing;
    const p = this.#pipe(producer).catch((err: unknown) => {
      this.#pipes.delete(producer.id);
      throw err;
    });
    this.#pipes.set(producer.id, p);
    return p;
  }

  async #pipe(producer: ms.Producer): Promise<string> {
    const consumer = await this.local.consume({ producerId: producer.id });
    let piped: ms.Producer;
    try {
      piped = await this.remote.produce({
        kind: consumer.kind,
        rtpParameters: consumer.rtpParameters,
        paused: consumer.producerPaused,
        appData: { sipPipeOf: producer.id },
      });
    } catch (err) {
      consumer.close();
      throw err;
    }
    consumer.observer.once('close', () => piped.close());
    consumer.observer.on('pause', () => void piped.pause().catch(() => undefined));
    consumer.observer.on('resume', () => void piped.resume().catch(() => undefined));
    piped.observer.once('close', () => {
      consumer.close();
      this.#pipes.delete(producer.id);
    });
    if (consumer.closed || producer.closed) {
      piped.close();
      throw new Error('the producer closed while it was piped');
    }
    if (piped.paused !== producer.paused) await (producer.paused ? piped.pause() : piped.resume());
    return piped.id;
  }

  close(): void {
    this.router.close();
  }
}

interface Entry {
  refs: number;
  readonly ready: Promise<PayloadRouter>;
}

export class SipPayloadRouters {
  readonly #byKey = new Map<string, Entry>();

  /** Payload routers open now. */
  get size(): number {
    return this.#byKey.size;
  }

  /**
   * Where a leg that sends `producer` as `codec` (its preferredPayloadType: the offered
   * number) consumes: the origin router itself when that is its number for the codec, else
   * a payload router.
   */
  async route(origin: Origin, producer: ms.Producer, codec: ms.RtpCodecCapability): Promise<SipRoute> {
    const payloadType = codec.preferredPayloadType;
    if (producer.consumableRtpParameters.codecs[0]?.payloadType === payloadType) {
      return originRoute(origin, producer.id);
    }
    const key = `${origin.router.id} ${codec.mimeType.toLowerCase()} ${payloadType}`;
    let entry = this.#byKey.get(key);
    if (!entry) {
      const ready = PayloadRouter.create(origin.router, origin.worker, codec);
      const created: Entry = { refs: 0, ready };
      entry = created;
      this.#byKey.set(key, created);
      ready.then(
        (pr) => pr.router.observer.once('close', () => this.#forget(key, created)),
        () => this.#forget(key, created),
      );
    }
    const held = entry;
    held.refs += 1;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      held.refs -= 1;
      if (held.refs > 0) return;
      this.#forget(key, held);
      held.ready.then((pr) => pr.close()).catch(() => undefined);
    };
    try {
      const pr = await held.ready;
      return { router: pr.router, producerId: await pr.pipe(producer), release };
    } catch (err) {
      release();
      throw err;
    }
  }

  closeAll(): void {
    const entries = [...this.#byKey.values()];
    this.#byKey.clear();
    for (const e of entries) e.ready.then((pr) => pr.close()).catch(() => undefined);
  }

  #forget(key: string, entry: Entry): void {
    if (this.#byKey.get(key) === entry) this.#byKey.delete(key);
  }
}
