// What one node writes to Redis for the others to act on (registry entries, floor
// grants) carries an HMAC with the `cluster-state` key (server/security/keys.ts), bound
// to the Redis key it is stored under. Someone who can write to Redis but does not hold
// the cluster's secret cannot add a node (and send points' pages to their own URL), move
// one, or grant a floor; a value copied from one key to another does not verify either.
//
// Stored form: `s1.<mac>.<json>` (mac: base64url HMAC-SHA256 over `<redis key>\n<json>`).
import { createHmac, timingSafeEqual } from 'node:crypto';

const PREFIX = 's1.';

export class RecordSeal {
  constructor(private readonly key: Buffer) {}

  #mac(redisKey: string, json: string): string {
    return createHmac('sha256', this.key).update(`${redisKey}\n${json}`).digest('base64url');
  }

  seal(redisKey: string, value: unknown): string {
    const json = JSON.stringify(value);
    return `${PREFIX}${this.#mac(redisKey, json)}.${json}`;
  }

  /** The value, or undefined when the text is not sealed by this cluster for this key. */
  open(redisKey: string, raw: string | null | undefined): unknown {
    if (!raw?.startsWith(PREFIX)) return undefined;
    const dot = raw.indexOf('.', PREFIX.length);
    if (dot < 0) return undefined;
    const json = raw.slice(dot + 1);
    const given = Buffer.from(raw.slice(PREFIX.length, dot));
    const expected = Buffer.from(this.#mac(redisKey, json));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      return JSON.parse(json) as unknown;
    } catch {
      return undefined;
    }
  }
}
