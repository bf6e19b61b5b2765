// The points' RTCP feedback in a load run's result: their receiver reports, NACKs, PLIs and
// freezes summed over every point, and the impaired points (--impair) against the others.
import type { ImpairSpec } from './impair';
import type { VirtualPoint } from './point';
import type { FeedbackCounts } from './point-feedback';
import { lostOf } from './stream-stats';
import type { LoadResult } from './result';
import { percentile, round } from './stats';

/** The points' RTCP and recovery, summed, and their freezes per point (undefined when silent). */
export function feedbackOf(points: VirtualPoint[]): LoadResult['media']['feedback'] {
  const per = points.map((p) => p.feedback()).filter((c): c is FeedbackCounts => c !== undefined);
  if (!per.length) return undefined;
  const totals = { ...per[0]! };
  for (const c of per.slice(1)) for (const k of Object.keys(c) as (keyof FeedbackCounts)[]) totals[k] += c[k];
  totals.freezeMs = round(totals.freezeMs, 0);
  const freezes = per.map((c) => c.freezes);
  const freezeMs = per.map((c) => c.freezeMs);
  const rtx = per.map((c) => c.rtxPackets);
  return {
    totals,
    freezesPerPoint: { p50: percentile(freezes, 50), p95: percentile(freezes, 95), worst: Math.max(0, ...freezes) },
    freezeMsPerPoint: {
      p50: round(percentile(freezeMs, 50), 0),
      p95: round(percentile(freezeMs, 95), 0),
      worst: round(Math.max(0, ...freezeMs), 0),
    },
    pointsWithFreezes: freezes.filter((x) => x > 0).length,
    rtxPerPoint: { p50: percentile(rtx, 50), p95: percentile(rtx, 95), worst: Math.max(0, ...rtx) },
    pointsWithRtx: rtx.filter((x) => x > 0).length,
  };
}

/** The impaired points against the others: loss after recovery, freezes, NACKs. */
export function impairedOf(
  points: VirtualPoint[],
  spec: ImpairSpec,
  ids: Set<string>,
  lossPerPoint: number[],
): LoadResult['media']['impaired'] {
  const group = (on: boolean) => {
    const idx = points.map((p, i) => (ids.has(p.o.pointId) === on ? i : -1)).filter((i) => i >= 0);
    const loss = idx.map((i) => lossPerPoint[i]!);
    // Video alone: audio is not NACKed (Opus), so its loss stays in the figure above.
    const videoLoss = idx.map((i) => {
      const v = points[i]!.streams().filter((s) => s.kind === 'video');
      const rec = v.reduce((a, s) => a + s.received, 0);
      const lost = v.reduce((a, s) => a + lostOf(s), 0);
      return rec + lost > 0 ? (100 * lost) / (rec + lost) : 100;
    });
    const fbs = idx.map((i) => points[i]!.feedback());
    const freezes = fbs.map((c) => c?.freezes ?? NaN);
    const sum = (k: keyof FeedbackCounts) => fbs.reduce((a, c) => a + (c?.[k] ?? 0), 0);
    const rtx = fbs.map((c) => c?.rtxPackets ?? 0);
    return {
      points: idx.length,
      lossPct: {
        p50: round(percentile(loss, 50), 3),
        p95: round(percentile(loss, 95), 3),
        worst: round(Math.max(0, ...loss), 3),
      },
      videoLossPct: {
        p50: round(percentile(videoLoss, 50), 3),
        p95: round(percentile(videoLoss, 95), 3),
        worst: round(Math.max(0, ...videoLoss), 3),
      },
      freezes: {
        p50: percentile(freezes, 50),
        p95: percentile(freezes, 95),
        worst: Math.max(0, ...freezes.filter(Number.isFinite)),
      },
      freezeMsP95: round(
        percentile(
          fbs.map((c) => c?.freezeMs ?? NaN),
          95,
        ),
        0,
      ),
      nackedPackets: sum('nackedPackets'),
      recovered: sum('recovered'),
      unrecovered: sum('unrecovered'),
      plisSent: sum('plisSent'),
      rtxPackets: sum('rtxPackets'),
      rtxRecovered: sum('rtxRecovered'),
      rtxSkippedUnverified: sum('rtxSkippedUnverified'),
      rtxPerPoint: { p50: percentile(rtx, 50), worst: Math.max(0, ...rtx) },
    };
  };
  return { spec, pointIds: [...ids], impaired: group(true), others: group(false) };
}
