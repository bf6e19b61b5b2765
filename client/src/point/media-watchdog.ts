// The media watchdog's decisions, pure (no timers, no WebRTC): fed every ~2 s with the
// progress counter of each watched track (frames decoded for video, packets received for
// audio), it says when media has stalled and what to do. Why it exists: in 420-point join
// storms about one point in 420 completed signalling, got its transport and consumers and
// then never received decryptable video, with its socket and ICE looking fine, so neither
// the socket reconnect nor the ICE-restart path ever ran. A real point must not stay
// black.
//
// The caller passes only the tracks that should be flowing: not in the lobby, not while the
// hall has paused that producer, not video in audio-only mode. A track that leaves the
// list and comes back starts afresh (a resumed producer needs a key frame first).
//
// First strike: ask for the cheap repair (an ICE restart; the browser asks for a key frame
// by itself when it cannot decode). Second strike, N seconds later with still no progress:
// rebuild the receive transport and its consumers. Further rebuilds back off
// exponentially until media has flowed again for a while.
export interface MediaWatchdogOptions {
  /** No progress for this long is a stall (longer than a key-frame interval and ICE's own repair). */
  stallMs: number;
  /** Wait before the second rebuild in a row; doubled for each further one. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Media flowing this long without a stall forgets the backoff. */
  healthyResetMs: number;
}

export const DEFAULT_WATCHDOG: MediaWatchdogOptions = {
  stallMs: 6000,
  backoffBaseMs: 12_000,
  backoffMaxMs: 120_000,
  healthyResetMs: 60_000,
};

export interface WatchedTrack {
  /** Stable per consumer (a rebuilt consumer is a new track). */
  key: string;
  /** Monotonic: frames decoded (video) or packets received (audio). */
  progress: number;
}

export type WatchdogAction =
  | { type: 'none' }
  | { type: 'restart-ice'; stalled: string[] }
  | { type: 'rebuild'; stalled: string[]; attempt: number };

interface TrackState {
  progress: number;
  grewAt: number;
  /** Progressed at least once since it appeared (or since the last strike). */
  grown: boolean;
  /** Named in a strike and silent since: still part of the trouble a rebuild answers. */
  struck: boolean;
}

export class MediaWatchdog {
  readonly #o: MediaWatchdogOptions;
  readonly #tracks = new Map<string, TrackState>();
  #strikes = 0;
  /** Rebuilds in the current run of trouble (reset once media has flowed a while). */
  #level = 0;
  #lastRebuildAt = -Infinity;
  #lastStallAt = -Infinity;
  /** Every rebuild since the page loaded: what the health report carries. */
  rebuilds = 0;
  /** Every strike (stall noticed) since the page loaded. */
  stalls = 0;
  /**
   * When it last judged media (the `now` of an active look), undefined before: a page
   * whose watchdog has looked past a stall's length has had its chance to strike.
   */
  lastJudgedAt: number | undefined;

  constructor(opts: Partial<MediaWatchdogOptions> = {}) {
    this.#o = { ...DEFAULT_WATCHDOG, ...opts };
  }

  /**
   * One look. `active` is false in the lobby, before the session is live, while the socket
   * is down or the receiver is being rebuilt: nothing is judged then and every track's
   * clock starts again when it is active.
   */
  observe(now: number, active: boolean, tracks: WatchedTrack[]): WatchdogAction {
    if (!active) {
      this.#tracks.clear();
      this.#strikes = 0;
      return { type: 'none' };
    }
    this.lastJudgedAt = now;
    const seen = new Set<string>();
    const stalled: string[] = [];
    for (const t of tracks) {
      seen.add(t.key);
      const s = this.#tracks.get(t.key);
      if (!s) {
        this.#tracks.set(t.key, { progress: t.progress, grewAt: now, grown: false, struck: false });
        continue;
      }
      if (t.progress > s.progress) {
        s.progress = t.progress;
        s.grewAt = now;
        s.grown = true;
        s.struck = false;
      } else if (now - s.grewAt >= this.#o.stallMs) stalled.push(t.key);
    }
    for (const key of this.#tracks.keys()) if (!seen.has(key)) this.#tracks.delete(key);

    if (stalled.length === 0) {
      // Healthy only once every track has shown progress: new consumers in their first
      // seconds (just rebuilt) are not a cure yet, so the strikes stand.
      const healthy = this.#tracks.size > 0 && [...this.#tracks.values()].every((s) => s.grown);
      if (healthy) {
        this.#strikes = 0;
        if (now - this.#lastStallAt >= this.#o.healthyResetMs) this.#level = 0;
      }
      return { type: 'none' };
    }
    this.#lastStallAt = now;
    if (this.#strikes === 0) {
      this.#strikes = 1;
      this.stalls += 1;
      this.#restartClocks(stalled, now);
      return { type: 'restart-ice', stalled };
    }
    // Second strike or later: rebuild, unless the previous rebuild is too recent.
    if (now - this.#lastRebuildAt < this.backoffMs) return { type: 'none' };
    this.#strikes += 1;
    this.stalls += 1;
    this.#level += 1;
    this.#lastRebuildAt = now;
    this.rebuilds += 1;
    // A track struck earlier and silent since is as stalled as the one that tripped this
    // strike, though its clock was restarted (video struck first, audio a look later):
    // the rebuild names both, so the report shows everything the rebuild was for.
    const all = [...this.#tracks].filter(([k, s]) => stalled.includes(k) || (s.struck && !s.grown)).map(([k]) => k);
    // The rebuilt consumers are new tracks; these keys are gone after the rebuild.
    this.#restartClocks(all, now);
    return { type: 'rebuild', stalled: all, attempt: this.#level };
  }

  /** The wait a rebuild now would have to respect (ms), for logs and tests. */
  get backoffMs(): number {
    return this.#level === 0 ? 0 : Math.min(this.#o.backoffBaseMs * 2 ** (this.#level - 1), this.#o.backoffMaxMs);
  }

  #restartClocks(keys: string[], now: number): void {
    for (const k of keys) {
      const s = this.#tracks.get(k);
      if (s) {
        s.grewAt = now;
        s.grown = false;
        s.struck = true;
      }
    }
  }
}
