// A virtual point's media watchdog: the page's decisions (client/src/point/media-watchdog.ts)
// judged on what this generator can see: decrypted packets for video (packets that arrive
// but never authenticate are as black as none), packets for audio. werift's ICE restart is
// not wired, so the first strike only waits; the second asks the point to rebuild its
// transport and consumers through the same join as a reconnect. Each rebuild is recorded
// with what the stalled streams had seen, so that the root cause stays visible.
import { MediaWatchdog, type WatchedTrack } from '../../client/src/point/media-watchdog';
import type { StreamStats } from './stream-stats';

/** One watchdog rebuild: when, and what the stalled streams had seen (the root cause stays visible). */
export interface WatchdogRebuild {
  /** ms since the point's join started. */
  atMs: number;
  attempt: number;
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
}

export class PointWatch {
  /** The strikes (a stall noticed) and rebuilds, as the page counts them. */
  readonly watchdog = new MediaWatchdog();
  readonly rebuilds: WatchdogRebuild[] = [];
  readonly #o: { pointId: string; log: (msg: string) => void };
  /** The hall's streams of the current receiver (SSRC → kind): what is watched. */
  #hall = new Map<number, 'audio' | 'video'>();
  #receiverSeq = 0;

  constructor(o: { pointId: string; log: (msg: string) => void }) {
    this.#o = o;
  }

  /** A new receiver: its streams are new tracks, each watched once resumed. */
  newReceiver(): void {
    this.#hall = new Map();
    this.#receiverSeq += 1;
  }

  /** A hall stream of the current receiver resumed: watched from now on, as the page does. */
  add(ssrc: number, kind: 'audio' | 'video'): void {
    this.#hall.set(ssrc, kind);
  }

  /** One look (every ~2 s); true when the point must rebuild its transport and consumers. */
  look(l: WatchLook): boolean {
    const tracks: WatchedTrack[] = [];
    const { paused, streams } = l;
    if (l.active && paused && streams)
      for (const [ssrc, kind] of this.#hall) {
        if (kind === 'video' ? paused.video : paused.audio) continue;
        const s = streams.get(ssrc);
        tracks.push({
          key: `${this.#receiverSeq}:${ssrc}`,
          progress: !s ? 0 : kind === 'video' ? s.decrypted : s.received,
        });
      }
    const action = this.watchdog.observe(performance.now(), l.active, tracks);
    if (action.type !== 'rebuild' || !streams) return false;
    const stalled = action.stalled.map((key) => {
      const ssrc = Number(key.split(':')[1]);
      const s = streams.get(ssrc);
      return {
        kind: this.#hall.get(ssrc) ?? 'video',
        received: s?.received ?? 0,
        decrypted: s?.decrypted ?? 0,
        authFailures: s?.authFailures ?? 0,
      };
    });
    this.rebuilds.push({ atMs: l.sinceJoinMs, attempt: action.attempt, stalled });
    this.#o.log(
      `point ${this.#o.pointId} watchdog rebuild #${action.attempt}: ${stalled
        .map((s) => `${s.kind} ${s.received} packets, ${s.decrypted} decrypted`)
        .join('; ')}`,
    );
    return true;
  }
}
