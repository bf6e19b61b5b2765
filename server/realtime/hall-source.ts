// Which of the hall's sources the points receive: the host console's camera and
// microphone, an encoder over WHIP, or an ingest (plain RTP: ffmpeg, RTMP or SRT relayed).
// Several may publish at once (an encoder warmed up beside the console's camera); points
// receive the hall's camera and microphone of one source only, so a switch swaps what
// they consume on the same transport, without reconnecting. The host chooses one, or
// `auto`: an encoder over the console (WHIP, then an ingest, then the console), since a
// production desk that starts sending means to be the picture. A chosen source that is not
// publishing falls back to `auto`, so the points never go black while another could show.
import type { BroadcastRoom, ProducerInfo } from '../../sfu';
import type { HallChoice, HallSource, HallView } from '../contract/broadcast';

/** What the room knows of a producer: who makes it and what it carries. */
export interface HallProducer {
  producerId: string;
  source: string;
  peerId: string;
}

const AUTO_ORDER: readonly HallSource[] = ['whip', 'ingest', 'console'];

/** The source a producer's peer is (peer ids: `host:…`, `whip:…`, `ingest-…`); undefined: not the hall's. */
export function sourceOfPeer(peerId: string): HallSource | undefined {
  if (peerId.startsWith('host:')) return 'console';
  if (peerId.startsWith('whip:')) return 'whip';
  if (peerId.startsWith('ingest-')) return 'ingest';
  return undefined;
}

/** Camera and microphone are switched; slides and a point's floor are never hidden. */
const isHallMedia = (p: HallProducer) => p.source === 'host-camera' || p.source === 'host-mic';

/** The sources publishing the hall's camera or microphone now. */
export function presentSources(producers: readonly HallProducer[]): HallSource[] {
  const present = new Set<HallSource>();
  for (const p of producers) {
    const s = isHallMedia(p) ? sourceOfPeer(p.peerId) : undefined;
    if (s) present.add(s);
  }
  return AUTO_ORDER.filter((s) => present.has(s));
}

/** The source points receive: the choice if it publishes, else the first present in auto order. */
export function liveSource(choice: HallChoice, producers: readonly HallProducer[]): HallSource | undefined {
  const present = presentSources(producers);
  if (choice !== 'auto' && present.includes(choice)) return choice;
  return present[0];
}

/** Whether points receive this producer while `live` is the hall's source. */
export function reachesPoints(p: HallProducer, live: HallSource | undefined): boolean {
  if (!isHallMedia(p)) return true;
  const s = sourceOfPeer(p.peerId);
  return s === undefined || s === live;
}

export function pointProducers(producers: readonly HallProducer[], live: HallSource | undefined): HallProducer[] {
  return producers.filter((p) => reachesPoints(p, live));
}

export interface HallSwitchDeps {
  room: () => BroadcastRoom | undefined;
  choice: () => HallChoice;
  /** The peer ids of the points this node serves. */
  pointPeers: () => Iterable<string>;
  /** Tells this node's points of a producer they may now consume, or must drop. */
  announce: (p: ProducerInfo) => void;
  withdraw: (producerId: string) => void;
  /** The live source changed (the recording's program follows it). */
  switched?: (live: HallSource | undefined) => void;
}

/**
 * Keeps what points consume to the live source: told of each producer added or closed
 * and of each choice, it announces the new source's camera and microphone to the points
 * and withdraws the old one's (closing their consumers of it), on the same transports.
 */
export class HallSwitch {
  #live: HallSource | undefined;

  constructor(private readonly deps: HallSwitchDeps) {}

  get live(): HallSource | undefined {
    return this.#live;
  }

  view(): HallView {
    const producers = this.deps.room()?.listProducers() ?? [];
    return { choice: this.deps.choice(), live: this.#live ?? null, present: presentSources(producers) };
  }

  reachesPoints(p: HallProducer): boolean {
    return reachesPoints(p, this.#live);
  }

  /** After a producer was added (`added`, announced here if points receive it) or closed, or the choice changed. */
  update(added?: ProducerInfo): boolean {
    const room = this.deps.room();
    const producers = room?.listProducers() ?? [];
    const before = this.#live;
    const after = liveSource(this.deps.choice(), producers);
    this.#live = after;
    if (before === after) {
      if (added && reachesPoints(added, after)) this.deps.announce(added);
      return false;
    }
    this.deps.switched?.(after);
    for (const p of producers) {
      if (!isHallMedia(p)) continue;
      const was = reachesPoints(p, before) && p.producerId !== added?.producerId;
      const is = reachesPoints(p, after);
      if (was && !is) {
        this.deps.withdraw(p.producerId);
        for (const peerId of this.deps.pointPeers()) {
          const consumer = room?.getPeer(peerId)?.consumerOf(p.producerId);
          if (consumer) room!.closeConsumer(peerId, consumer.consumer.id);
        }
      } else if (is && !was) this.deps.announce(p);
    }
    if (added && !isHallMedia(added)) this.deps.announce(added);
    return true;
  }
}
