// What an attacker holding a secret can sign: join tokens, check-in codes, login cookie
// MACs and the cluster's bearer token, made the way the server made them when it signed
// with the raw APP_SECRET (before per-purpose keys), and the way it makes them now with
// keys derived from a given secret. Tests show that neither is accepted unless the
// secret is the server's own.
import { createHmac } from 'node:crypto';
import { internalToken } from '../../server/cluster/internal-auth';
import { CheckinTokens } from '../../server/domain/attendance/checkin-token';
import { SecretKeys } from '../../server/security/keys';

const mac16 = (key: Buffer, text: string) =>
  createHmac('sha256', key).update(text).digest().subarray(0, 16).toString('base64url');

/** A join token's claims, read from a real token (its payload is not secret). */
export function joinClaims(token: string): { sessionId: string; pointId: string; nonce: string } {
  const [, sessionId, pointId, nonce] = Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8').split('|');
  return { sessionId: sessionId!, pointId: pointId!, nonce: nonce! };
}

function joinToken(key: Buffer, c: { sessionId: string; pointId: string; nonce: string }): string {
  const payload = Buffer.from(`1|${c.sessionId}|${c.pointId}|${c.nonce}`).toString('base64url');
  return `${payload}.${mac16(key, payload)}`;
}

export const forge = {
  /** Keys of the former scheme: HMAC(secret, label). */
  legacy: (secret: string) => ({
    joinToken: (c: Parameters<typeof joinToken>[1]) =>
      joinToken(createHmac('sha256', secret).update('briefing/join-link/v1').digest(), c),
    checkin: new CheckinTokens(Buffer.from(secret), 30, 10),
    cookie: (sid: string) =>
      `${sid}.${mac16(createHmac('sha256', secret).update('briefing/login-cookie/v1').digest(), sid)}`,
    bearer: createHmac('sha256', secret).update('briefing-cluster-internal-v1').digest('hex'),
  }),
  /** Keys derived from `secret` as the server derives its own. */
  derived: (secret: string) => {
    const keys = new SecretKeys(secret);
    return {
      joinToken: (c: Parameters<typeof joinToken>[1]) => joinToken(keys.for('join-link'), c),
      checkin: new CheckinTokens(keys.for('checkin'), 30, 10),
      cookie: (sid: string) => `${sid}.${mac16(keys.for('login-cookie'), sid)}`,
      bearer: internalToken(keys.for('cluster-internal')),
    };
  },
};
