// The media watchdog's part of a load run's result: every rebuild of a point's transport
// and consumers, and whether the point received again after.
import type { VirtualPoint } from './point';
import type { LoadResult } from './result';

export function watchdogOf(points: VirtualPoint[], drilled: VirtualPoint[]): LoadResult['media']['watchdog'] {
  return {
    drilled: drilled.map((p) => p.o.pointId),
    rebuilds: points.reduce((a, p) => a + p.watch.rebuilds.length, 0),
    strikes: points.reduce((a, p) => a + p.watch.watchdog.stalls, 0),
    points: points
      .filter((p) => p.watch.rebuilds.length > 0)
      .map((p) => ({
        pointId: p.o.pointId,
        rebuilds: p.watch.rebuilds,
        // The current receiver got decryptable video: the rebuild cured it.
        receivingAfter: [...(p.receiver?.streams.values() ?? [])].some((s) => s.kind === 'video' && s.decrypted > 0),
      })),
  };
}
