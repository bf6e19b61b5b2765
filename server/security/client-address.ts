// "The client address" of an HTTP request or a Socket.IO handshake, one rule for both:
// the socket's peer, or, from a proxy the app trusts (Express's `trust proxy` setting),
// the address that proxy put in X-Forwarded-For. Express computes `req.ip` with the same
// library (proxy-addr) and the same compiled setting, so the login and check-in limits
// (keyed on req.ip) and the socket limits (keyed on this) count the same clients.
import type { IncomingMessage } from 'node:http';
import type { Application, RequestHandler } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import proxyaddr from 'proxy-addr';
import type { Logger } from 'pino';

export type TrustFn = (addr: string, hop: number) => boolean;

/** The app's compiled `trust proxy` setting: changing the setting changes this too. */
export function trustOf(app: Application): TrustFn {
  return app.get('trust proxy fn') as TrustFn;
}

/** The client address of a request (an Express request or a Socket.IO handshake's). */
export function clientAddress(req: IncomingMessage, trust: TrustFn): string {
  if (!req.socket) return 'unknown';
  return normalize(proxyaddr(req, trust));
}

/**
 * Warns, once per peer, when a request carries X-Forwarded-For from a peer TRUST_PROXY
 * does not trust: a reverse proxy the setting forgot, whose clients then all count as the
 * proxy's one address (one visitor's rate limit is everyone's). Nothing else changes: the
 * header stays unbelieved.
 */
export function warnUntrustedProxy(trust: () => TrustFn, logger: Logger, maxPeers = 20): RequestHandler {
  const warned = new Set<string>();
  return (req, _res, next) => {
    const peer = normalize(req.socket.remoteAddress);
    if (req.headers['x-forwarded-for'] !== undefined && warned.size < maxPeers && !warned.has(peer)) {
      if (!trust()(req.socket.remoteAddress ?? '', 0)) {
        warned.add(peer);
        logger.warn(
          { peer },
          'requests carry X-Forwarded-For from a peer TRUST_PROXY does not trust: if it is your reverse proxy, ' +
            'every client behind it counts as one address; set TRUST_PROXY (docs/deploying.md)',
        );
      }
    }
    next();
  };
}

/**
 * What a per-client limit counts under: the address, or for IPv6 its /56 (one client may
 * hold a whole network), as express-rate-limit counts req.ip.
 */
export function addressKey(address: string): string {
  try {
    return ipKeyGenerator(address);
  } catch {
    return address; // not an address ipKeyGenerator can read (a zone id): itself
  }
}

/** IPv4 clients of a dual-stack listener appear as ::ffff:a.b.c.d: one client, one key. */
function normalize(addr: string | undefined): string {
  if (!addr) return 'unknown';
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

/**
 * A list of addresses and networks from the environment: IPs, CIDRs, and proxy-addr's
 * names `loopback`, `linklocal`, `uniquelocal`; `none` for an empty list. Throws with a
 * readable message on a bad entry.
 */
export function parseAddressList(text: string): string[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 1 && items[0] === 'none') return [];
  try {
    proxyaddr.compile(items);
  } catch (err) {
    throw new Error(`must be IP addresses or networks (a.b.c.d/n), or none: ${(err as Error).message}`);
  }
  return items;
}

/** Whether an address is in a list made by parseAddressList. */
export function addressMatcher(list: string[]): (addr: string) => boolean {
  if (list.length === 0) return () => false;
  const match = proxyaddr.compile(list);
  return (addr) => addr !== 'unknown' && match(addr, 0);
}
