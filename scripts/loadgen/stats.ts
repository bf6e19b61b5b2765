// Small statistics helpers for the load generator's report.
export function percentile(values: readonly number[], p: number): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const i = Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1));
  return v[i]!;
}

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const finite = values.filter((x) => Number.isFinite(x));
  return {
    n: finite.length,
    p50: percentile(finite, 50),
    p95: percentile(finite, 95),
    p99: percentile(finite, 99),
    max: finite.reduce((a, b) => (b > a ? b : a), finite.length ? -Infinity : NaN),
  };
}

export const round = (x: number, d = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x);

/** A summary rounded to 0.1 ms, as the result reports latencies. */
export function rounded(s: Summary): Summary {
  return { n: s.n, p50: round(s.p50, 1), p95: round(s.p95, 1), p99: round(s.p99, 1), max: round(s.max, 1) };
}

/** Bounded reservoir: keeps at most `cap` latency samples (uniformly). */
export class Reservoir {
  readonly values: number[] = [];
  #seen = 0;
  constructor(private readonly cap = 200_000) {}
  add(v: number): void {
    this.#seen += 1;
    if (this.values.length < this.cap) this.values.push(v);
    else {
      const j = Math.floor(Math.random() * this.#seen);
      if (j < this.cap) this.values[j] = v;
    }
  }
  get count(): number {
    return this.#seen;
  }
}
