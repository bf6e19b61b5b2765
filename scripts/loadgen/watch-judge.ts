// The generator's side of the media watchdog's judgement. The page's watchdog counts a
// track silent from the wall clock; in the generator, hundreds of points share one event
// loop, and when it falls behind (a join storm's DTLS handshakes, a GC pause) every
// point's packets wait in their sockets together: by the wall clock they look stopped,
// and the watchdog rebuilt points whose media never stopped, each rebuild adding a DTLS
// handshake and a transport to the storm it was measuring. So each point's watchdog runs
// on its own clock, which advances only by the time the generator could have read the
// point's media: not while the generator's loop was late, and not while most of the other
// watched points read nothing either (a silence they all share is the generator's, or the
// hall's, and a rebuild cures neither).
import { performance } from 'node:perf_hooks';

/** The loop counts as behind when a 20 ms timer fires later than this (ms): the lateness counts whole. */
export const LAG_TOLERANCE_MS = 50;
/** A watched point is receiving when it read a packet of its current transport this recently (ms). */
export const RECEIVING_WINDOW_MS = 2000;
/** Fewer receiving than this share of the other watched points: their silence is shared. */
export const MIN_PEER_SHARE = 0.5;
/** With fewer other watched points than this, the share says nothing. */
export const MIN_PEERS = 3;

const TICK_MS = 20;

/** One look's interval as the generator lived it. */
export interface LookInterval {
  /** Wall time since the point's previous look (ms). */
  elapsedMs: number;
  /** Of it, the time the generator's event loop was behind (ms). */
  behindMs: number;
  /** The other points whose watchdog watches media now, and how many of them read a packet lately. */
  peers: { watched: number; receiving: number };
}

export type HeldReason = 'generatorBehind' | 'peersSilent';

/**
 * How much of an interval counts toward a point's silence, and why the rest does not:
 * none of it while most other watched points read nothing either, otherwise all of it
 * but the time the generator's loop was behind. Pure.
 */
export function countedSilence(i: LookInterval): { countedMs: number; heldMs: number; reason: HeldReason | null } {
  const elapsed = Math.max(0, i.elapsedMs);
  const { watched, receiving } = i.peers;
  if (watched >= MIN_PEERS && receiving < watched * MIN_PEER_SHARE)
    return { countedMs: 0, heldMs: elapsed, reason: 'peersSilent' };
  const behind = Math.min(elapsed, Math.max(0, i.behindMs));
  return { countedMs: elapsed - behind, heldMs: behind, reason: behind > 0 ? 'generatorBehind' : null };
}

/** What a point tells the fleet: when it last read a packet of the transport it watches; undefined when it watches none. */
export type LastRead = () => number | undefined;

/**
 * The run's points as the watchdog sees them: the generator's own loop lag, summed from a
 * 20 ms timer, and each watched point's last read (performance.now() ms). One per run,
 * shared by its points; `stop()` ends its timer.
 */
export class WatchFleet {
  readonly #points = new Map<string, LastRead>();
  readonly #timer: NodeJS.Timeout;
  #last = performance.now();
  #behindMs = 0;
  #snapshot = { at: -Infinity, watched: new Set<string>(), receiving: new Set<string>() };

  constructor() {
    this.#timer = setInterval(() => {
      const now = performance.now();
      const late = now - this.#last - TICK_MS;
      if (late > LAG_TOLERANCE_MS) this.#behindMs += late;
      this.#last = now;
    }, TICK_MS);
    this.#timer.unref();
  }

  /** Total time the generator's loop was behind since the fleet started (ms). */
  get behindMs(): number {
    // A stall still going on (this look runs late) counts too, not only past ones.
    const late = performance.now() - this.#last - TICK_MS;
    return this.#behindMs + (late > LAG_TOLERANCE_MS ? late : 0);
  }

  add(pointId: string, lastRead: LastRead): void {
    this.#points.set(pointId, lastRead);
  }

  /** The other watched points and how many read a packet within RECEIVING_WINDOW_MS (read at most every 200 ms). */
  peersOf(pointId: string, now = performance.now()): { watched: number; receiving: number } {
    if (now - this.#snapshot.at > 200) {
      const watched = new Set<string>();
      const receiving = new Set<string>();
      for (const [id, lastRead] of this.#points) {
        const at = lastRead();
        if (at === undefined) continue;
        watched.add(id);
        if (at > 0 && now - at <= RECEIVING_WINDOW_MS) receiving.add(id);
      }
      this.#snapshot = { at: now, watched, receiving };
    }
    const s = this.#snapshot;
    return {
      watched: s.watched.size - (s.watched.has(pointId) ? 1 : 0),
      receiving: s.receiving.size - (s.receiving.has(pointId) ? 1 : 0),
    };
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
