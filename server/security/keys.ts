// One key per purpose, derived from the application secret with HKDF-SHA256 (RFC 5869,
// node:crypto hkdfSync): a join token can never pass for a cookie, a check-in ticket or a
// node's call, and a key or token that leaks for one purpose (the cluster's bearer token
// crosses the network on every node-to-node call) tells nothing of the secret or the
// other keys.
import { hkdfSync } from 'node:crypto';

export const KEY_PURPOSES = [
  /** /join/<token> links (server/domain/links/join-links.ts). */
  'join-link',
  /** Check-in QR codes and the tickets they give (server/domain/attendance/checkin-token.ts). */
  'checkin',
  /** The login cookie's MAC (server/auth/auth.ts). */
  'login-cookie',
  /** The bearer token of node-to-node HTTP calls (server/cluster/internal-auth.ts). */
  'cluster-internal',
  /** Signatures of what nodes write to Redis for each other: registry entries, floor grants. */
  'cluster-state',
  /** Signatures of the alert webhooks (server/domain/health/alert-webhooks.ts). */
  'alert-webhook',
  /** SIP PINs of join links (server/domain/links/join-links.ts): a PIN says nothing of the link key. */
  'sip-pin',
] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

/** Fixed salt: the secret is random already; the salt only separates this product's keys. */
const SALT = 'briefing-orchestrator/hkdf/v1';

export class SecretKeys {
  readonly #keys: ReadonlyMap<KeyPurpose, Buffer>;

  constructor(secret: string) {
    this.#keys = new Map(
      KEY_PURPOSES.map((p) => [p, Buffer.from(hkdfSync('sha256', secret, SALT, `purpose:${p}`, 32))] as const),
    );
  }

  /** The 32-byte key of one purpose. */
  for(purpose: KeyPurpose): Buffer {
    return this.#keys.get(purpose)!;
  }
}
