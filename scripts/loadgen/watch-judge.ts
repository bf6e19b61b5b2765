// The generator's side of the media watchdog's judgement. The page's watchdog counts a
// track silent from the wall clock; in the generator, hundreds of points share one event
// loop, and when it falls behind (a join storm's DTLS handshakes, a GC pause) every
// point's packets wait in their sockets together: by the wall clock they look stopped,
// and the watchdog rebuilt points whose media never stopped, each rebuild adding a DTLS
// handshake and a transport to the storm it was measuring. So each point's watchdog runs
// on its own clock, which advances only by the time the generator could have read the
// point's media: not while the generator's loop was late, and not while most of the other
// watched points read nothing either and the generator was saturated (a silence they all
// share while the generator cannot keep up may be its own reading). That hold ends: with
// the generator keeping up, a shared silence is the hall's or the SFU's and counts, as on
// the page; and one hold lasts at most MAX_SHARED_HOLD_MS in a row. The fleet records
// every silence most points shared, so that it shows whether or not it was rebuilt.
import { performance } from 'node:perf_hooks';

/** A watched point is receiving when it read a packet of its current transport this recently (ms). */
export const RECEIVING_WINDOW_MS = 2000;
/** Fewer receiving than this share of the other watched points: their silence is shared. */
export const MIN_PEER_SHARE = 0.5;
/** With fewer other watched points than this, the share says nothing. */
export const MIN_PEERS = 3;
/** The generator is saturated in an interval when its event loop was busy this share of it, or behind at all. */
export const SATURATED_UTILIZATION = 0.9;
/** The longest a point's silence is held in a row because the others are silent too (ms): then it counts. */
export const MAX_SHARED_HOLD_MS = 30_000;

/** The generator's loop over the run, as cumulative figures (ms); GeneratorPauses (./stalls.ts) gives them. */
export interface LoopLoad {
  /** Time the loop was behind (a timer firing late). */
  readonly behindMs: number;
  /** Time the loop was busy (its utilization's active time). */
  readonly busyMs: number;
}

/** The other watched points, and how many of them read a packet lately. */
export interface Peers {
  watched: number;
  receiving: number;
}

/** What a point tells the fleet: when it last read a packet of the transport it watches; undefined when it watches none. */
export type LastRead = () => number | undefined;

/** What a point's watchdog asks of the run: the generator's load and the other points (WatchFleet). */
export interface WatchJudge extends LoopLoad {
  add(pointId: string, lastRead: LastRead): void;
  peersOf(pointId: string, now: number): Peers;
}

/** One look's interval as the generator lived it. */
export interface LookInterval {
  /** Wall time since the point's previous look (ms). */
  elapsedMs: number;
  /** Of it, the time the generator's event loop was behind (ms). */
  behindMs: number;
  /** Of it, the time the generator's event loop was busy (ms). */
  busyMs: number;
  /** The other points whose watchdog watches media now, and how many of them read a packet lately. */
  peers: Peers;
  /** This point's silence held so far in a row because the others were silent too (ms). */
  sharedHeldMs: number;
}

export type HeldReason = 'generatorBehind' | 'peersSilent';

/** The generator could not keep up in an interval: its loop behind at all, or busy SATURATED_UTILIZATION of it. */
export function saturated(elapsedMs: number, behindMs: number, busyMs: number): boolean {
  return behindMs > 0 || (elapsedMs > 0 && busyMs >= elapsedMs * SATURATED_UTILIZATION);
}

/**
 * How much of an interval counts toward a point's silence, and why the rest does not:
 * none of it while most other watched points read nothing either and the generator was
 * saturated, up to MAX_SHARED_HOLD_MS in a row; otherwise all of it but the time the
 * generator's loop was behind. `shared`: most other watched points read nothing. Pure.
 */
export function countedSilence(i: LookInterval): {
  countedMs: number;
  heldMs: number;
  reason: HeldReason | null;
  shared: boolean;
} {
  const elapsed = Math.max(0, i.elapsedMs);
  const behind = Math.min(elapsed, Math.max(0, i.behindMs));
  const { watched, receiving } = i.peers;
  const shared = watched >= MIN_PEERS && receiving < watched * MIN_PEER_SHARE;
  if (shared && saturated(elapsed, behind, i.busyMs)) {
    const held = Math.min(elapsed, Math.max(0, MAX_SHARED_HOLD_MS - i.sharedHeldMs));
    if (held > 0) return { countedMs: elapsed - held, heldMs: held, reason: 'peersSilent', shared };
  }
  return { countedMs: elapsed - behind, heldMs: behind, reason: behind > 0 ? 'generatorBehind' : null, shared };
}

/** The silences most watched points shared, as the fleet saw them (media.watchdog.sharedSilences). */
export interface SharedSilences {
  /** Times most points that had read media read none for RECEIVING_WINDOW_MS, together. */
  episodes: number;
  /** The longest of them (ms, between the fleet's looks that saw it start and end). */
  longestMs: number;
  /** The most points silent together in one. */
  pointsAtPeak: number;
  /** Of the episodes, those through which the generator kept up (never saturated): the hall's or the SFU's. */
  generatorKeptUp: number;
}

interface Episode {
  from: number;
  to: number;
  peak: number;
  keptUp: boolean;
}

/**
 * The run's points as the watchdog sees them: each watched point's last read
 * (performance.now() ms), read at most every 200 ms, and the generator's loop load (from
 * `load`, the run's GeneratorPauses). One per run, shared by its points.
 */
export class WatchFleet implements WatchJudge {
  readonly #points = new Map<string, LastRead>();
  readonly #load: LoopLoad;
  #snapshot = {
    at: -Infinity,
    behindMs: 0,
    busyMs: 0,
    watched: new Set<string>(),
    receiving: new Set<string>(),
  };
  #episode: Episode | undefined;
  readonly #shared: SharedSilences = { episodes: 0, longestMs: 0, pointsAtPeak: 0, generatorKeptUp: 0 };

  constructor(load: LoopLoad) {
    this.#load = load;
  }

  get behindMs(): number {
    return this.#load.behindMs;
  }

  get busyMs(): number {
    return this.#load.busyMs;
  }

  add(pointId: string, lastRead: LastRead): void {
    this.#points.set(pointId, lastRead);
  }

  /** The other watched points and how many read a packet within RECEIVING_WINDOW_MS (read at most every 200 ms). */
  peersOf(pointId: string, now = performance.now()): Peers {
    if (now - this.#snapshot.at > 200) this.#look(now);
    const s = this.#snapshot;
    return {
      watched: s.watched.size - (s.watched.has(pointId) ? 1 : 0),
      receiving: s.receiving.size - (s.receiving.has(pointId) ? 1 : 0),
    };
  }

  /** The shared silences so far, one still going on included. */
  sharedSilences(): SharedSilences {
    const out = { ...this.#shared };
    if (this.#episode) fold(out, this.#episode, this.#episode.to);
    return out;
  }

  #look(now: number): void {
    const watched = new Set<string>();
    const receiving = new Set<string>();
    let read = 0;
    for (const [id, lastRead] of this.#points) {
      const at = lastRead();
      if (at === undefined) continue;
      watched.add(id);
      if (at > 0) read += 1;
      if (at > 0 && now - at <= RECEIVING_WINDOW_MS) receiving.add(id);
    }
    const prev = this.#snapshot;
    const behindMs = this.#load.behindMs;
    const busyMs = this.#load.busyMs;
    this.#snapshot = { at: now, behindMs, busyMs, watched, receiving };
    // Of the points that had read media, most read none lately: their media stopped together.
    const silent = read - receiving.size;
    const shared = read > MIN_PEERS && receiving.size < read * MIN_PEER_SHARE;
    const keptUp =
      !Number.isFinite(prev.at) || !saturated(now - prev.at, behindMs - prev.behindMs, busyMs - prev.busyMs);
    const e = this.#episode;
    if (shared && !e) this.#episode = { from: now, to: now, peak: silent, keptUp };
    else if (shared && e) {
      e.to = now;
      e.peak = Math.max(e.peak, silent);
      e.keptUp &&= keptUp;
    } else if (e) {
      fold(this.#shared, e, now);
      this.#episode = undefined;
    }
  }
}

function fold(into: SharedSilences, e: Episode, end: number): void {
  into.episodes += 1;
  into.longestMs = Math.max(into.longestMs, end - e.from);
  into.pointsAtPeak = Math.max(into.pointsAtPeak, e.peak);
  if (e.keptUp) into.generatorKeptUp += 1;
}
