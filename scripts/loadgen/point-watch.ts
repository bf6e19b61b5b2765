// A virtual point's media watchdog: the page's decisions (client/src/point/media-watchdog.ts)
// judged on what this generator can see: decrypted packets for video (packets that arrive
// but never authenticate are as black as none), packets for audio. werift's ICE restart is
// not wired, so the first strike only waits; the second asks the point to rebuild its
// transport and consumers through the same join as a reconnect. With the run's fleet
// (./watch-judge.ts) its clock counts only the time the generator could have read the
// point's media, so that the generator's own lag rebuilds nothing. A point stalled on
// purpose (the drill) is not one of the fleet's watched points: its silence is its own.
// Each rebuild is recorded
// with its reason and what the stalled streams had seen, so that the root cause stays
// visible.
import { performance } from 'node:perf_hooks';
import { MediaWatchdog, type MediaWatchdogOptions, type WatchedTrack } from '../../client/src/point/media-watchdog';
import type { StreamStats } from './stream-stats';
import { countedSilence, type HeldReason, type Peers, type WatchJudge } from './watch-judge';

/**
 * Why a rebuild: `noPackets`, the stalled streams read no packet through the silence;
 * `undecryptable`, packets arrived but none decrypted; `drill`, the point was stalled on
 * purpose (--stall).
 */
export type RebuildReason = 'noPackets' | 'undecryptable' | 'drill';

/** One watchdog rebuild: when, and what the stalled streams had seen (the root cause stays visible). */
export interface WatchdogRebuild {
  /** ms since the point's join started. */
  atMs: number;
  attempt: number;
  reason: RebuildReason;
  /** The other watched points then, and how many of them were receiving (with the run's fleet). */
  peers?: Peers;
  stalled: { kind: 'audio' | 'video'; received: number; decrypted: number; authFailures: number }[];
}

/** What the watchdog looks at, at one look. */
export interface WatchLook {
  /** Live, socket connected, a receiver there and not being rebuilt. */
  active: boolean;
  /** The hall's producers paused (their tracks are not watched). */
  paused: { video: boolean; audio: boolean } | undefined;
  /** The current receiver's streams by SSRC. */
  streams: ReadonlyMap<number, StreamStats> | undefined;
  /** ms since the point's join started. */
  sinceJoinMs: number;
  /** The current receiver drops its media on purpose (the watchdog drill). */
  drilled: boolean;
}

export interface PointWatchOptions {
  pointId: string;
  log: (msg: string) => void;
  /** The run's points and the generator's loop load; without it the watchdog runs on the wall clock, as the page's. */
  fleet?: WatchJudge | undefined;
  /** The clock of the streams' lastArrival (ms); performance.now() unless a test gives one. */
  now?: () => number;
  /** The watchdog's timings; the page's (DEFAULT_WATCHDOG) unless a test gives others. */
  watchdog?: Partial<MediaWatchdogOptions> | undefined;
}

/** A watched track's progress at the last look, and whether packets arrived since it last grew. */
interface TrackSeen {
  ssrc: number;
  progress: number;
  received: number;
  arrived: boolean;
}

export class PointWatch {
  /** The strikes (a stall noticed) and rebuilds, as the page counts them. */
  readonly watchdog: MediaWatchdog;
  readonly rebuilds: WatchdogRebuild[] = [];
  /**
   * Silence not counted (ms, while a watched track made no progress): the generator's loop
   * was behind, or most other watched points read nothing either while it was saturated.
   */
  readonly held: Record<HeldReason, number> = { generatorBehind: 0, peersSilent: 0 };
  readonly #o: PointWatchOptions;
  /** The hall's streams of the current receiver (SSRC → kind): what is watched. */
  #hall = new Map<number, 'audio' | 'video'>();
  #receiverSeq = 0;
  #seen = new Map<string, TrackSeen>();
  /** The watchdog's clock with the fleet: the time the generator could have read media (ms). */
  #clock = 0;
  #lastLook: { at: number; behindMs: number; busyMs: number } | undefined;
  #peers: Peers | undefined;
  /** This point's silence held so far in a row because the others were silent too (ms). */
  #sharedHeldMs = 0;
  /** The tracks of the current look by key, with their SSRC. */
  #ssrcOf = new Map<string, number>();
  /** The current receiver's streams while the last look was active, for the fleet. */
  #watched: ReadonlyMap<number, StreamStats> | undefined;

  constructor(o: PointWatchOptions) {
    this.#o = o;
    this.watchdog = new MediaWatchdog(o.watchdog);
    o.fleet?.add(o.pointId, () => this.#lastRead());
  }

  /** A new receiver: its streams are new tracks, each watched once resumed. */
  newReceiver(): void {
    this.#hall = new Map();
    this.#receiverSeq += 1;
    this.#seen = new Map();
    this.#watched = undefined;
  }

  /** When this point last read a packet of its watched streams (performance.now() ms; 0 none yet); undefined when not watching. */
  #lastRead(): number | undefined {
    const streams = this.#watched;
    if (!streams || this.#hall.size === 0) return undefined;
    let last = 0;
    for (const ssrc of this.#hall.keys()) last = Math.max(last, streams.get(ssrc)?.lastArrival ?? 0);
    return last;
  }

  /** A hall stream of the current receiver resumed: watched from now on, as the page does. */
  add(ssrc: number, kind: 'audio' | 'video'): void {
    this.#hall.set(ssrc, kind);
  }

  /** One look (every ~2 s); true when the point must rebuild its transport and consumers. */
  look(l: WatchLook): boolean {
    const tracks: WatchedTrack[] = [];
    const { paused, streams } = l;
    this.#ssrcOf = new Map();
    if (l.active && paused && streams)
      for (const [ssrc, kind] of this.#hall) {
        if (kind === 'video' ? paused.video : paused.audio) continue;
        const s = streams.get(ssrc);
        const key = `${this.#receiverSeq}:${ssrc}`;
        this.#ssrcOf.set(key, ssrc);
        tracks.push({ key, progress: !s ? 0 : kind === 'video' ? s.decrypted : s.received });
      }
    // A point stalled on purpose reads nothing by design: the others must not take its
    // silence for a shared one (with half the points drilled, none would be rebuilt).
    this.#watched = l.active && !l.drilled ? streams : undefined;
    const silent = this.#note(tracks, streams);
    const action = this.watchdog.observe(this.#now(silent), l.active, tracks);
    if (action.type !== 'rebuild' || !streams) return false;
    const arrived = action.stalled.some((key) => this.#seen.get(key)?.arrived);
    const reason: RebuildReason = l.drilled ? 'drill' : arrived ? 'undecryptable' : 'noPackets';
    const stalled = action.stalled.map((key) => {
      const ssrc = this.#ssrcOf.get(key) ?? this.#seen.get(key)?.ssrc ?? -1;
      const s = streams.get(ssrc);
      return {
        kind: this.#hall.get(ssrc) ?? 'video',
        received: s?.received ?? 0,
        decrypted: s?.decrypted ?? 0,
        authFailures: s?.authFailures ?? 0,
      };
    });
    this.rebuilds.push({
      atMs: l.sinceJoinMs,
      attempt: action.attempt,
      reason,
      ...(this.#peers ? { peers: this.#peers } : {}),
      stalled,
    });
    this.#o.log(
      `point ${this.#o.pointId} watchdog rebuild #${action.attempt} (${reason}): ${stalled
        .map((s) => `${s.kind} ${s.received} packets, ${s.decrypted} decrypted`)
        .join('; ')}`,
    );
    return true;
  }

  /**
   * Notes each track's progress and packets since the last look; true when a track made no
   * progress since then (the point looks silent).
   */
  #note(tracks: WatchedTrack[], streams: ReadonlyMap<number, StreamStats> | undefined): boolean {
    let silent = false;
    const keys = new Set(tracks.map((t) => t.key));
    for (const key of this.#seen.keys()) if (!keys.has(key)) this.#seen.delete(key);
    for (const t of tracks) {
      const ssrc = this.#ssrcOf.get(t.key) ?? -1;
      const received = streams?.get(ssrc)?.received ?? 0;
      const seen = this.#seen.get(t.key);
      if (!seen || t.progress > seen.progress) {
        this.#seen.set(t.key, { ssrc, progress: t.progress, received, arrived: false });
        continue;
      }
      silent = true;
      if (received > seen.received) {
        seen.received = received;
        seen.arrived = true;
      }
    }
    return silent;
  }

  /**
   * The watchdog's time: the wall clock without the fleet; with it, the time counted by
   * countedSilence since the last look, the rest held (and summed when the point looked
   * silent). A hold for a shared silence runs on while the point stays silent and most
   * others too, up to countedSilence's cap.
   */
  #now(silent: boolean): number {
    const now = (this.#o.now ?? performance.now.bind(performance))();
    const fleet = this.#o.fleet;
    if (!fleet) return now;
    const { behindMs, busyMs } = fleet;
    const peers = fleet.peersOf(this.#o.pointId, now);
    const prev = this.#lastLook;
    this.#lastLook = { at: now, behindMs, busyMs };
    this.#peers = peers;
    if (prev) {
      const c = countedSilence({
        elapsedMs: now - prev.at,
        behindMs: behindMs - prev.behindMs,
        busyMs: busyMs - prev.busyMs,
        peers,
        sharedHeldMs: this.#sharedHeldMs,
      });
      this.#clock += c.countedMs;
      if (silent && c.reason) this.held[c.reason] += c.heldMs;
      if (!silent || !c.shared) this.#sharedHeldMs = 0;
      else if (c.reason === 'peersSilent') this.#sharedHeldMs += c.heldMs;
    }
    return this.#clock;
  }
}
