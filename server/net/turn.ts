// TURN for points behind firewalls that let out only TCP (often only 443): the ICE
// servers handed to each page with its transport, with short-lived credentials in
// coturn's shared-secret REST scheme (username "<expiry unix time>:<peer>", password
// base64(HMAC-SHA1(secret, username))). The relay checks them with the same secret; no
// account is stored anywhere, and a leaked credential dies by itself.
import { createHmac } from 'node:crypto';
import type { IceServer } from '../contract/broadcast';

export interface TurnCredential {
  username: string;
  credential: string;
  /** Unix seconds. */
  expiresAt: number;
}

export function turnCredential(secret: string, peer: string, ttlSeconds: number, now = Date.now()): TurnCredential {
  const expiresAt = Math.floor(now / 1000) + ttlSeconds;
  // coturn reads the part before the first ':' as the expiry; the rest names the peer.
  const username = `${expiresAt}:${peer.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64)}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential, expiresAt };
}

/** turn: URLs over UDP and TCP and turns: over TLS, for a relay at `host`. */
export function relayUrls(host: string, ports: { port: number; tlsPort: number }): string[] {
  const h = host.includes(':') ? `[${host}]` : host;
  return [
    `turn:${h}:${ports.port}?transport=udp`,
    `turn:${h}:${ports.port}?transport=tcp`,
    `turns:${h}:${ports.tlsPort}?transport=tcp`,
  ];
}

/** What the realtime layer asks for each transport it creates. */
export interface IceServerSource {
  iceServers(peer: string): IceServer[];
}

/** No relay configured: pages use host candidates (UDP, then ICE-TCP) only. */
export const NO_ICE_SERVERS: IceServerSource = { iceServers: () => [] };

export class TurnCredentials implements IceServerSource {
  constructor(private readonly o: { urls: string[]; secret: string; ttlSeconds: number; now?: () => number }) {}

  iceServers(peer: string): IceServer[] {
    const c = turnCredential(this.o.secret, peer, this.o.ttlSeconds, this.o.now?.() ?? Date.now());
    return [{ urls: this.o.urls, username: c.username, credential: c.credential }];
  }
}
