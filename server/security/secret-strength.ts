// What makes an APP_SECRET acceptable. Pure (config.ts calls it while parsing the
// environment); the secret file in the data folder is handled by app-secret.ts.
import { createHash } from 'node:crypto';

export const MIN_SECRET_LENGTH = 32;
/** Estimated from the characters' own frequencies: a random `openssl rand -hex 32` gives about 240,
 * the shortest accepted one (32 random hex digits, 128 bits) at least about 90. */
const MIN_PRODUCTION_BITS = 80;

/**
 * SHA-256 of secrets that were ever published (in this repository's history or its
 * examples): refused in every mode, since anyone can forge links, cookies and node
 * calls with them. Only the digest is kept here, never the value.
 */
const PUBLISHED_SECRET_SHA256 = new Set(['222f38e63a9b95da5dd7a0125275ed1e0d7b8322eff4132fe229790a33fcb2a0']);

export const HOW_TO_MAKE_ONE = 'generate one with `openssl rand -hex 32`';

export function isPublishedSecret(secret: string): boolean {
  return PUBLISHED_SECRET_SHA256.has(createHash('sha256').update(secret).digest('hex'));
}

/** Shannon entropy of the string's own character frequencies, times its length, in bits. */
export function estimatedBits(s: string): number {
  const counts = new Map<string, number>();
  const chars = [...s];
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) {
    const p = n / chars.length;
    perChar -= p * Math.log2(p);
  }
  return perChar * chars.length;
}

/** Adjacent characters equal or one apart ("aaaa", "abcd", "4321") in more than half the string. */
function isRunLike(s: string): boolean {
  let close = 0;
  for (let i = 1; i < s.length; i++) if (Math.abs(s.charCodeAt(i) - s.charCodeAt(i - 1)) <= 1) close++;
  return close > (s.length - 1) / 2;
}

/** A shorter string repeated ("abc123abc123…", "secret-secret-secr"). */
function isRepeated(s: string): boolean {
  for (let period = 1; period <= s.length / 2; period++) {
    if (
      s
        .slice(0, period)
        .repeat(Math.ceil(s.length / period))
        .slice(0, s.length) === s
    )
      return true;
  }
  return false;
}

/**
 * Why `secret` may not sign anything, or undefined when it may. Every mode refuses short
 * and published values; production also refuses guessable ones (few distinct
 * characters, runs, repetitions).
 */
export function secretWeakness(secret: string, production: boolean): string | undefined {
  if (secret.length < MIN_SECRET_LENGTH) return `must be at least ${MIN_SECRET_LENGTH} characters; ${HOW_TO_MAKE_ONE}`;
  if (isPublishedSecret(secret)) return `is a published value that anyone can sign with; ${HOW_TO_MAKE_ONE}`;
  if (!production) return undefined;
  if (isRunLike(secret) || isRepeated(secret) || estimatedBits(secret) < MIN_PRODUCTION_BITS) {
    return `is too easy to guess for NODE_ENV=production (runs, repetitions or too few distinct characters); ${HOW_TO_MAKE_ONE}`;
  }
  return undefined;
}
