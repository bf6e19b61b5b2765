// SIP digest authentication (RFC 3261 22.4 over RFC 2617), MD5 with or without qop=auth:
// what every room system (Polycom, Cisco, Yealink) offers. The nonce is stateless: a time
// and an HMAC of it, so a challenge costs the gateway no memory and a flood of INVITEs
// cannot fill a nonce table. A nonce is good for NONCE_TTL_MS; an older one is answered
// with a fresh challenge marked stale, so the endpoint retries without asking its user.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE_TTL_MS = 5 * 60_000;
export const SIP_REALM = 'briefing';

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm?: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  opaque?: string;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** `Digest k="v", k2=v2` into its parameters; undefined unless it is a well-formed Digest header. */
export function parseDigest(value: string): DigestCredentials | undefined {
  const m = /^Digest\s+(.*)$/is.exec(value.trim());
  if (!m || value.length > 1024) return undefined;
  const params = new Map<string, string>();
  const re = /\s*([a-zA-Z-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^\s,]+)\s*(,|$)/y;
  let rest = m[1]!;
  while (rest.length > 0) {
    re.lastIndex = 0;
    const p = re.exec(rest);
    if (!p) return undefined;
    const key = p[1]!.toLowerCase();
    if (params.has(key)) return undefined;
    params.set(key, p[3] !== undefined ? p[3].replace(/\\(.)/g, '$1') : p[2]!);
    rest = rest.slice(p[0].length);
  }
  const need = ['username', 'realm', 'nonce', 'uri', 'response'] as const;
  if (need.some((k) => !params.get(k))) return undefined;
  if (!/^[0-9a-f]{32}$/i.test(params.get('response')!)) return undefined;
  const out: DigestCredentials = {
    username: params.get('username')!,
    realm: params.get('realm')!,
    nonce: params.get('nonce')!,
    uri: params.get('uri')!,
    response: params.get('response')!.toLowerCase(),
  };
  for (const k of ['algorithm', 'qop', 'nc', 'cnonce', 'opaque'] as const) {
    const v = params.get(k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export class DigestAuth {
  readonly #key: Buffer;
  readonly #now: () => number;

  constructor(opts: { key?: Buffer; now?: () => number } = {}) {
    // Nonces need no persistence: a restart only makes endpoints answer one more challenge.
    this.#key = opts.key ?? randomBytes(32);
    this.#now = opts.now ?? Date.now;
  }

  /** A nonce for the address the challenge goes to: valid only for requests from there. */
  nonce(sourceIp: string): string {
    const ts = this.#now().toString(36);
    return `${ts}.${this.#mac(ts, sourceIp)}`;
  }

  /** The WWW-Authenticate header value of a challenge to a source address. */
  challenge(sourceIp: string, stale = false): string {
    return `Digest realm="${SIP_REALM}", nonce="${this.nonce(sourceIp)}", algorithm=MD5, qop="auth"${stale ? ', stale=TRUE' : ''}`;
  }

  /**
   * `ok`, `stale` (a nonce we made, too old: challenge again) or `bad` (a nonce forged or
   * made for another address, a digest of another URI than the request's, a wrong password
   * or realm).
   */
  verify(
    c: DigestCredentials,
    req: { method: string; uri: string; sourceIp: string },
    password: string,
  ): 'ok' | 'stale' | 'bad' {
    if (c.realm !== SIP_REALM) return 'bad';
    if (c.algorithm && c.algorithm.toUpperCase() !== 'MD5') return 'bad';
    if (c.uri !== req.uri && c.uri !== withoutUser(req.uri)) return 'bad';
    const [ts, mac] = c.nonce.split('.');
    if (!ts || !mac || !/^[0-9a-z]{1,12}$/.test(ts) || !safeEqual(mac, this.#mac(ts, req.sourceIp))) return 'bad';
    const ha1 = md5(`${c.username}:${c.realm}:${password}`);
    const ha2 = md5(`${req.method}:${c.uri}`);
    let expected: string;
    if (c.qop) {
      if (c.qop !== 'auth' || !c.nc || !c.cnonce || !/^[0-9a-f]{8}$/i.test(c.nc)) return 'bad';
      expected = md5(`${ha1}:${c.nonce}:${c.nc}:${c.cnonce}:${c.qop}:${ha2}`);
    } else expected = md5(`${ha1}:${c.nonce}:${ha2}`);
    if (!safeEqual(c.response, expected)) return 'bad';
    return this.#now() - parseInt(ts, 36) > NONCE_TTL_MS ? 'stale' : 'ok';
  }

  #mac(ts: string, sourceIp: string): string {
    return createHmac('sha256', this.#key).update(`sip-nonce|${ts}|${sourceIp}`).digest('base64url').slice(0, 22);
  }
}

/**
 * The Request-URI without its user part (`sip:host:port`): what some agents (SIPp among
 * them) put in the digest's uri. It still names this server, so it stays bound to it.
 */
function withoutUser(uri: string): string {
  return uri.replace(/^(sips?:)[^@]*@/i, '$1');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
