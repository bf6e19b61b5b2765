// The bearer token an encoder publishes a session's hall with over WHIP: one per session,
// issued (and so rotated) by a host from the console. Only its SHA-256 is kept in Redis,
// so the console shows a token once, when it is issued; issuing again revokes the old one.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A briefing's token outlives its day comfortably; a host issues a new one per event. */
const TOKEN_TTL_MS = 30 * 24 * 3600_000;

export const WHIP_TOKEN_KEY = (sessionId: string) => `whip:token:${sessionId}`;

export const tokenDigest = (token: string): Buffer => createHash('sha256').update(token).digest();

export class WhipTokens {
  constructor(private readonly redis: Redis) {}

  /** A new token for the session; the previous one stops working at once. */
  async issue(sessionId: string): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    await this.redis.set(WHIP_TOKEN_KEY(sessionId), tokenDigest(token).toString('hex'), 'PX', TOKEN_TTL_MS);
    return token;
  }

  async matches(sessionId: string, token: string): Promise<boolean> {
    const stored = await this.redis.get(WHIP_TOKEN_KEY(sessionId));
    if (!stored) return false;
    return sameDigest(Buffer.from(stored, 'hex'), tokenDigest(token));
  }
}

export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
