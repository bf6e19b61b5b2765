// The media watchdog's part of a load run's result: every rebuild of a point's transport
// and consumers with its reason, whether the point received again after, and the silence
// the watchdogs did not count because the generator itself was behind, and the silences
// most points shared (the hall's or the SFU's when the generator kept up).
import type { VirtualPoint } from './point';
import type { RebuildReason } from './point-watch';
import type { LoadResult } from './result';
import { round } from './stats';
import type { SharedSilences } from './watch-judge';

export function watchdogOf(
  points: VirtualPoint[],
  drilled: VirtualPoint[],
  loopBehindMs: number | undefined,
  sharedSilences: SharedSilences | undefined,
): LoadResult['media']['watchdog'] {
  const reasons: Record<RebuildReason, number> = { noPackets: 0, undecryptable: 0, drill: 0 };
  for (const p of points) for (const b of p.watch.rebuilds) reasons[b.reason] += 1;
  return {
    drilled: drilled.map((p) => p.o.pointId),
    drillLeft: drilled.filter((p) => p.drillLeft).map((p) => p.o.pointId),
    rebuilds: points.reduce((a, p) => a + p.watch.rebuilds.length, 0),
    reasons,
    strikes: points.reduce((a, p) => a + p.watch.watchdog.stalls, 0),
    held: {
      generatorBehindMs: round(
        points.reduce((a, p) => a + p.watch.held.generatorBehind, 0),
        0,
      ),
      peersSilentMs: round(
        points.reduce((a, p) => a + p.watch.held.peersSilent, 0),
        0,
      ),
    },
    loopBehindMs: loopBehindMs === undefined ? null : round(loopBehindMs, 0),
    sharedSilences: sharedSilences
      ? { ...sharedSilences, longestMs: round(sharedSilences.longestMs, 0) }
      : { episodes: 0, longestMs: 0, pointsAtPeak: 0, generatorKeptUp: 0 },
    points: points
      .filter((p) => p.watch.rebuilds.length > 0)
      .map((p) => ({
        pointId: p.o.pointId,
        rebuilds: p.watch.rebuilds,
        // The current receiver got decryptable video: the rebuild cured it.
        receivingAfter: p.decryptsVideo(),
      })),
  };
}
