// The join storm in stages: when each point's first join reached each step (JOIN_STAGES,
// recorded by ./point.ts), in ms since the storm started, p50 / p95 / max over the points that
// reached it and how many did, and per point.
import { percentile, round } from './stats';

/**
 * The stages of a point's first join, in order: the socket connected, the server's answer
 * to rtc:createTransport, ICE connected, DTLS connected (the SRTP keys), the first RTP
 * packet decrypted, the first video key frame complete (its last packet read).
 */
export const JOIN_STAGES = ['socket', 'transport', 'ice', 'dtls', 'firstRtp', 'keyFrame'] as const;
export type JoinStage = (typeof JOIN_STAGES)[number];
/** When a point's first join reached each stage (epoch ms). */
export type StagesReached = Partial<Record<JoinStage, number>>;

export interface StageFigure {
  /** Points that reached the stage in their first join. */
  points: number;
  p50: number;
  p95: number;
  max: number;
}

export type JoinStages = Record<JoinStage, StageFigure>;

/** One point's stages, ms since the storm's start (null: not reached in its first join). */
export type PointStages = { pointId: string } & Record<JoinStage, number | null>;

export function pointStagesOf(
  points: readonly { stages: StagesReached; o: { pointId: string } }[],
  t0: number,
): PointStages[] {
  return points.map((p) => {
    const row = { pointId: p.o.pointId } as PointStages;
    for (const stage of JOIN_STAGES) {
      const at = p.stages[stage];
      row[stage] = at === undefined ? null : at - t0;
    }
    return row;
  });
}

/** ms since `t0` (the storm's start) at which each point reached each stage. */
export function joinStagesOf(points: readonly { stages: StagesReached }[], t0: number): JoinStages {
  const out = {} as JoinStages;
  for (const stage of JOIN_STAGES) {
    const v = points.map((p) => p.stages[stage]).flatMap((at) => (at === undefined ? [] : [at - t0]));
    out[stage] = {
      points: v.length,
      p50: round(percentile(v, 50), 0),
      p95: round(percentile(v, 95), 0),
      max: v.length ? round(Math.max(...v), 0) : NaN,
    };
  }
  return out;
}
