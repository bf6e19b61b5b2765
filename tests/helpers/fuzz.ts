// Fuzzing a server through its sockets (tests/integration/hostile-input.test.ts): acks
// sent at a pace under the per-socket rate limit, and fast-check generators of bad
// values, each payload one its request's schema refuses.
import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import type { z } from 'zod';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type AckRes = { ok: true; data: unknown } | { ok: false; error: { code: string; message: string } };

/**
 * Next free send slot per socket: at most ~18 requests a second, under the server's 20/s
 * per-socket limit, so the fuzzer is not itself taken for a flood and disconnected.
 */
const slots = new WeakMap<Socket, number>();
const SPACING_MS = 55;

/**
 * Sends (paced) and waits for the ack; a rate-limited answer is waited out and sent again.
 * The wait is a whole second, the refill of the tightest limit (`talk:history`): quicker
 * retries would each be refused, and refusals add up to a disconnect.
 */
export async function send(s: Socket, event: string, payload: unknown): Promise<AckRes> {
  for (let i = 0; i < 50; i++) {
    const now = Date.now();
    const at = Math.max(now, slots.get(s) ?? 0);
    slots.set(s, at + SPACING_MS);
    if (at > now) await sleep(at - now);
    const res = (await s.timeout(10_000).emitWithAck(event, payload)) as AckRes;
    if (res.ok || res.error.code !== 'rate_limited') return res;
    await sleep(1000);
  }
  throw new Error(`${event}: rate-limited for good`);
}

// ── generators of bad values ──────────────────────────────────────────────────────────
export const nasty = fc.constantFrom(
  '',
  ' ',
  '<script>alert(1)</script>',
  '../../../etc/passwd',
  '\u0000',
  '%00',
  '__proto__',
  'constructor',
  '{"$gt":""}',
  'A'.repeat(5000),
  'đ'.repeat(3000),
  '\ud800',
  'NaN',
  '1e309',
);
export const wrongScalar = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  nasty,
  fc.constant(Number.MAX_SAFE_INTEGER),
  fc.constant(-1),
);
export const junk = fc.oneof(
  { depthSize: 'small' },
  wrongScalar,
  fc.array(wrongScalar, { maxLength: 20 }),
  fc.dictionary(fc.oneof(fc.string({ maxLength: 20 }), nasty), wrongScalar, { maxKeys: 8 }),
  fc.anything({ maxDepth: 4 }),
  // deep nesting
  fc.integer({ min: 50, max: 400 }).map((n) => {
    let v: unknown = 'x';
    for (let i = 0; i < n; i++) v = { a: v };
    return v;
  }),
  // a big array of objects, under the 64 KiB message limit
  fc.constant(Array.from({ length: 2000 }, (_, i) => ({ i }))),
);

/** Objects shaped like the schema's fields with one or more fields of the wrong type. */
export function mutatedObject(keys: string[]): fc.Arbitrary<unknown> {
  if (keys.length === 0) return fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), wrongScalar, { minKeys: 1 });
  return fc
    .tuple(
      fc.subarray(keys, { minLength: 1 }),
      fc.array(wrongScalar, { minLength: keys.length, maxLength: keys.length }),
      fc.option(fc.string({ minLength: 1, maxLength: 12 })),
    )
    .map(([picked, values, extra]) => {
      const o: Record<string, unknown> = {};
      picked.forEach((k, i) => (o[k] = values[i]));
      if (extra !== null) o[`x-${extra}`] = true;
      return o;
    });
}

function schemaKeys(schema: z.ZodType): string[] {
  const def = (schema as unknown as { def?: { shape?: Record<string, unknown>; innerType?: z.ZodType } }).def;
  if (def?.shape) return Object.keys(def.shape);
  if (def?.innerType) return schemaKeys(def.innerType);
  return [];
}

/** Bad payloads for one request: never one its schema accepts. */
export function badPayloads(schema: z.ZodType): fc.Arbitrary<unknown> {
  return fc
    .oneof(junk, mutatedObject(schemaKeys(schema)), mutatedObject(schemaKeys(schema)))
    .filter((v) => !schema.safeParse(v).success);
}
