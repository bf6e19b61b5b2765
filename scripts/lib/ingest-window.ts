// The arithmetic of scripts/bench-ingest.ts: CPU over a window as % of one core, the rate
// of each RTP stream (simulcast layer) from two byte counts, and a figure's median and
// spread over repeats.

/** CPU seconds spent over `seconds` of wall time, as % of one core (one decimal). */
export function pctOfCore(cpuSeconds: number, seconds: number): number {
  if (!(seconds > 0)) return NaN;
  return Math.round((cpuSeconds / seconds) * 1000) / 10;
}

export interface StreamBytes {
  ssrc: number;
  rid?: string | undefined;
  byteCount: number;
}

/**
 * kbps of each stream between two reads of a producer's stats, lowest byte rate first (a
 * simulcast producer's layers, lowest first). A stream absent from the first read counts
 * from zero; one absent from the second is left out (it stopped).
 */
export function streamKbps(
  before: readonly StreamBytes[],
  after: readonly StreamBytes[],
  seconds: number,
): { ssrc: number; rid?: string; kbps: number }[] {
  const start = new Map(before.map((s) => [s.ssrc, s.byteCount]));
  return after
    .map((s) => ({
      ssrc: s.ssrc,
      ...(s.rid ? { rid: s.rid } : {}),
      kbps: Math.round(((s.byteCount - (start.get(s.ssrc) ?? 0)) * 8) / 1000 / seconds),
    }))
    .sort((a, b) => a.kbps - b.kbps);
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Median (the lower middle for an even count), lowest and highest of the repeats. */
export function spread(values: readonly number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return { median: NaN, min: NaN, max: NaN };
  return { median: v[Math.floor((v.length - 1) / 2)]!, min: v[0]!, max: v[v.length - 1]! };
}
