// How a health sample is kept in its point's Redis stream: one field `c`, a JSON array of
// the sample's values in the fixed order of SAMPLE_FIELDS, the time as epoch ms and other
// fractions at two decimals. Field names and the ISO time made up two thirds of the
// keyed JSON (`j`) kept before; at 420 points and a 6-hour cap that was about 1.6 GiB of
// Redis (docs/benchmarks/soak-and-history.md, "The health history in Redis"). Entries in
// the older `j` form are still read.
import type { HealthSample } from '../../contract/attendance';

/** The stored order of a sample's values after `at`; append only, never reorder. */
const SAMPLE_FIELDS = [
  'status',
  'quality',
  'rttMs',
  'lossPct',
  'jitterMs',
  'bitrateKbps',
  'freezeMs',
  'freezeCount',
  'framesDecoded',
  'width',
  'height',
  'audioConcealedPct',
  'protocol',
  'sfuScore',
  'sfuLayer',
  'mediaRebuilds',
] as const satisfies readonly (keyof HealthSample)[];

/** The stream field of a sample in each form. */
export const SAMPLE_FIELD = { compact: 'c', keyed: 'j' } as const;

const round2 = (v: unknown): unknown => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 100) / 100 : v);

/** The sample as stored: `[atMs, status, quality, …]`. */
export function encodeSample(s: HealthSample): string {
  const at = Date.parse(s.at);
  return JSON.stringify([Number.isFinite(at) ? at : s.at, ...SAMPLE_FIELDS.map((k) => round2(s[k] ?? null))]);
}

/** A stored entry's fields (`[name, value, …]`) as a sample; null when it holds neither form or does not parse. */
export function decodeSample(fields: string[]): HealthSample | null {
  const [name, value] = fields;
  if (value === undefined) return null;
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return null;
  }
  if (name === SAMPLE_FIELD.keyed) return v && typeof v === 'object' ? (v as HealthSample) : null;
  if (name !== SAMPLE_FIELD.compact || !Array.isArray(v)) return null;
  const [at, ...rest] = v;
  const out: Record<string, unknown> = { at: typeof at === 'number' ? new Date(at).toISOString() : at };
  SAMPLE_FIELDS.forEach((k, i) => (out[k] = rest[i] ?? null));
  return out as HealthSample;
}
