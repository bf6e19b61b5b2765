// A broadcast room spanning processes: one node's room sends producers to another node's
// room over a mediasoup PipeTransport pair (plain RTP, SRTP on), as pipeToRouter does
// within one process. The two ends are created on each side and their ip/port/SRTP
// parameters exchanged by the caller (server/cluster carries them over HTTP); the
// receiving end produces each piped stream with the sending producer's id and RTP
// parameters, and its room fans it out to its own workers like a local producer.
//
// Two directions use the same ends: origin → edge (the hall, and everything else the
// origin's room holds: the origin sends, the edge receives), and edge → origin (the
// floor of a point served by an edge: the edge sends, the origin receives, and its
// origin → edge pipes carry the floor on to the other edges).
import type { types as ms } from 'mediasoup';
import { SfuError } from './errors';
import type { BroadcastRoom } from './broadcast-room';
import type { MediaKind, MediaSource } from './types';

export interface PipeEndpoint {
  ip: string;
  port: number;
  srtpParameters: ms.SrtpParameters | undefined;
}

/** What the receiving node needs to re-create one producer of the sending node. */
export interface PipedProducer {
  producerId: string;
  kind: MediaKind;
  rtpParameters: ms.RtpParameters;
  paused: boolean;
  source: MediaSource;
  peerId: string;
}

export interface PipeListen {
  listenIp: string;
  announcedIp: string | undefined;
}

async function pipeTransport(room: BroadcastRoom, listen: PipeListen, side: string): Promise<ms.PipeTransport> {
  const origin = room.origin;
  if (!origin) throw new SfuError('unavailable', 'the origin router is being rebuilt; retry');
  return origin.router.createPipeTransport({
    listenIp: { ip: listen.listenIp, announcedIp: listen.announcedIp },
    enableSrtp: true,
    enableRtx: false,
    appData: { roomId: room.id, side },
  });
}

function endpoint(t: ms.PipeTransport, listen: PipeListen): PipeEndpoint {
  return { ip: listen.announcedIp ?? t.tuple.localIp, port: t.tuple.localPort, srtpParameters: t.srtpParameters };
}

/** What both ends of a pipe are: a PipeTransport on a room's router, connected to the other node's end. */
abstract class PipeEnd {
  protected constructor(
    readonly room: BroadcastRoom,
    readonly transport: ms.PipeTransport,
    readonly local: PipeEndpoint,
  ) {}

  get id(): string {
    return this.transport.id;
  }

  get closed(): boolean {
    return this.transport.closed;
  }

  async connect(remote: PipeEndpoint): Promise<void> {
    await this.transport.connect({ ip: remote.ip, port: remote.port, srtpParameters: remote.srtpParameters });
  }

  close(): void {
    this.transport.close();
  }
}

/** The sending end of a pipe: consumes its room's producers into it. */
export class PipeSender extends PipeEnd {
  readonly #consumers = new Map<string, ms.Consumer>();

  static async open(room: BroadcastRoom, listen: PipeListen): Promise<PipeSender> {
    const t = await pipeTransport(room, listen, 'send');
    return new PipeSender(room, t, endpoint(t, listen));
  }

  /** Starts sending one producer to the other node; idempotent per producer. */
  async consume(producerId: string): Promise<PipedProducer> {
    const info = this.room.listProducers().find((p) => p.producerId === producerId);
    if (!info) throw new SfuError('not_found', `producer ${producerId} not found`);
    let c = this.#consumers.get(producerId);
    if (!c || c.closed) {
      try {
        c = await this.transport.consume({ producerId });
      } catch (err) {
        throw new SfuError('not_found', `cannot pipe producer ${producerId}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      this.#consumers.set(producerId, c);
      const consumer = c;
      consumer.observer.once('close', () => {
        if (this.#consumers.get(producerId) === consumer) this.#consumers.delete(producerId);
      });
    }
    return {
      producerId,
      kind: c.kind,
      rtpParameters: c.rtpParameters,
      paused: c.producerPaused,
      source: info.source,
      peerId: info.peerId,
    };
  }

  /** Producers currently sent through this pipe. */
  piped(): string[] {
    return [...this.#consumers.keys()];
  }
}

/** The receiving end of a pipe: produces the other node's streams into its own room. */
export class PipeReceiver extends PipeEnd {
  readonly #producers = new Map<string, ms.Producer>();

  static async open(room: BroadcastRoom, listen: PipeListen): Promise<PipeReceiver> {
    const t = await pipeTransport(room, listen, 'receive');
    return new PipeReceiver(room, t, endpoint(t, listen));
  }

  has(producerId: string): boolean {
    return this.#producers.has(producerId);
  }

  /** The sending node's producer, re-created here with its id, and fanned out by the room. */
  async adopt(p: PipedProducer): Promise<void> {
    if (this.#producers.has(p.producerId)) return;
    const producer = await this.transport.produce({
      id: p.producerId,
      kind: p.kind,
      rtpParameters: p.rtpParameters,
      paused: p.paused,
      appData: { peerId: p.peerId, source: p.source, piped: true },
    });
    this.#producers.set(p.producerId, producer);
    producer.observer.once('close', () => this.#producers.delete(p.producerId));
    try {
      await this.room.adoptProducer(producer, p.source, p.peerId);
    } catch (err) {
      // Not in the room, so nobody would ever close it: the next attempt starts clean.
      producer.close();
      throw err;
    }
  }

  drop(producerId: string): void {
    this.#producers.get(producerId)?.close();
  }

  async setPaused(producerId: string, paused: boolean): Promise<void> {
    const p = this.#producers.get(producerId);
    if (!p || p.closed) return;
    if (paused) await p.pause();
    else await p.resume();
  }

  adopted(): string[] {
    return [...this.#producers.keys()];
  }

  /** RTP bytes received through the pipe so far, all producers. */
  async bytesIn(): Promise<number> {
    let n = 0;
    for (const p of this.#producers.values()) {
      if (p.closed) continue;
      const stats = await p.getStats().catch(() => []);
      for (const s of stats) n += s.byteCount ?? 0;
    }
    return n;
  }
}
