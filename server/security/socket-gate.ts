// What every Socket.IO connection passes before any namespace sees it (engine.io's
// `allowRequest`, called once per new connection, polling or WebSocket):
//
// - Origin: a browser page of another site must not open a socket with the user's login
//   cookie (cross-site WebSocket hijacking; CORS does not apply to WebSockets). A
//   handshake that carries an Origin is let in only from this server's own host (the
//   Host it was asked for), PUBLIC_URL, this node's public URL and the registered nodes'
//   URLs. Clients that are not browsers send no Origin and are judged by their token or
//   cookie as before.
// - Connections per client address (client-address.ts, honouring `trust proxy`): at most
//   SOCKET_MAX_PER_ADDRESS open at once on this process. The default (1000) admits all
//   420 points of the reference event, their monitors and hosts behind one NAT.
//
// It also closes the default namespace `/`, which no page uses.
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { SocketServer } from '../realtime/sockets';
import { AppError } from '../errors';
import { handshakeError } from '../realtime/socket-errors';
import { addressKey, clientAddress, type TrustFn } from './client-address';

export interface SocketGateOptions {
  /** PUBLIC_URL and this node's public URL (either may be unset). */
  ownUrls: (string | undefined)[];
  maxPerAddress: number;
  /** The app's compiled `trust proxy` (read at each handshake: the setting may change). */
  trust: () => TrustFn;
  logger: Logger;
}

/** How long the registered nodes' URLs are reused before Redis is asked again. */
const NODE_URLS_TTL_MS = 2000;
/** One log line per address and reason this often, not one per refused handshake. */
const LOG_EVERY_MS = 60_000;

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
};

export class SocketGate {
  readonly #o: SocketGateOptions;
  readonly #log: Logger;
  readonly #own: Set<string>;
  /** Open engine.io connections per address key. */
  readonly #open = new Map<string, number>();
  #nodeUrls: (() => Promise<string[]>) | undefined;
  #nodeOrigins: { at: number; origins: Promise<Set<string>> } | undefined;
  readonly #logged = new Map<string, number>();

  constructor(o: SocketGateOptions) {
    this.#o = o;
    this.#log = o.logger.child({ component: 'socket-gate' });
    this.#own = new Set(o.ownUrls.flatMap((u) => (u ? [originOf(u)].filter((x): x is string => !!x) : [])));
  }

  /** Several nodes: the registered nodes' public URLs are allowed origins too. */
  useNodeUrls(fn: (() => Promise<string[]>) | undefined): void {
    this.#nodeUrls = fn;
    this.#nodeOrigins = undefined;
  }

  /** Open connections from one address (for tests and metrics). */
  openFrom(address: string): number {
    return this.#open.get(addressKey(address)) ?? 0;
  }

  /** engine.io's allowRequest. */
  readonly allowRequest = (req: IncomingMessage, done: (err: string | null | undefined, ok: boolean) => void) => {
    const address = clientAddress(req, this.#o.trust());
    const key = addressKey(address);
    if ((this.#open.get(key) ?? 0) >= this.#o.maxPerAddress) {
      this.#note(address, 'too many connections from one address', { max: this.#o.maxPerAddress });
      return done('too many connections from this address', false);
    }
    const origin = req.headers.origin;
    if (origin === undefined) return done(null, true);
    this.#originAllowed(origin, req.headers.host).then(
      (ok) => {
        if (!ok) this.#note(address, 'handshake from a foreign origin refused', { origin });
        done(ok ? null : 'origin not allowed', ok);
      },
      (err: unknown) => {
        this.#log.warn({ err }, 'cannot check a handshake origin; refusing it');
        done('origin not checked', false);
      },
    );
  };

  /** Counts connections per address and closes `/`. Call once, on the server whose engine uses allowRequest. */
  attach(io: SocketServer): void {
    io.engine.on('connection', (conn: { request: IncomingMessage; once: (ev: 'close', fn: () => void) => void }) => {
      const key = addressKey(clientAddress(conn.request, this.#o.trust()));
      this.#open.set(key, (this.#open.get(key) ?? 0) + 1);
      conn.once('close', () => {
        const n = (this.#open.get(key) ?? 1) - 1;
        if (n > 0) this.#open.set(key, n);
        else this.#open.delete(key);
      });
    });
    io.of('/').use((_socket, next) =>
      next(handshakeError(new AppError('not_found', 'no such namespace: use /point, /host or /monitor'))),
    );
  }

  async #originAllowed(origin: string, host: string | undefined): Promise<boolean> {
    const o = originOf(origin);
    if (!o || o === 'null') return false;
    if (host && new URL(o).host === host.toLowerCase()) return true;
    if (this.#own.has(o)) return true;
    if (!this.#nodeUrls) return false;
    const now = Date.now();
    if (!this.#nodeOrigins || now - this.#nodeOrigins.at > NODE_URLS_TTL_MS) {
      const fn = this.#nodeUrls;
      this.#nodeOrigins = {
        at: now,
        origins: fn().then((urls) => new Set(urls.map(originOf).filter(Boolean) as string[])),
      };
      this.#nodeOrigins.origins.catch(() => (this.#nodeOrigins = undefined));
    }
    return (await this.#nodeOrigins.origins).has(o);
  }

  #note(address: string, msg: string, extra: Record<string, unknown>): void {
    const k = `${address}|${msg}`;
    const now = Date.now();
    if ((this.#logged.get(k) ?? 0) > now - LOG_EVERY_MS) return;
    if (this.#logged.size > 10_000) this.#logged.clear();
    this.#logged.set(k, now);
    this.#log.warn({ address, ...extra }, msg);
  }
}
