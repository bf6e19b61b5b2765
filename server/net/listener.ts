// The server's front door when it serves HTTPS itself: one port that answers TLS (handed
// to the app's HTTP server, Socket.IO upgrades included) and plain HTTP (a redirect to the
// same path on PUBLIC_URL, or the CA page a technician opens before trusting the CA);
// the first byte of a connection tells which (22: a TLS handshake). Optionally a second,
// plain port (HTTP_REDIRECT_PORT, e.g. 80) that only redirects.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { TlsCredentials } from './tls';

export interface FrontOptions {
  /** The app's server: every decrypted connection goes to it. */
  app: http.Server;
  credentials: TlsCredentials;
  /** https base URL that plain requests are sent to. */
  publicUrl: string;
  /** Plain-HTTP requests it answers itself instead of redirecting (the CA page); false: not handled. */
  plainHandler?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  redirectPort?: number;
}

const TLS_HANDSHAKE = 22;

export class Front {
  readonly #server: net.Server;
  readonly #redirect: http.Server;
  readonly #extra: http.Server | undefined;
  readonly #sockets = new Set<net.Socket>();

  constructor(private readonly o: FrontOptions) {
    const pair = o.credentials.pair;
    const secure = tls.createServer({ cert: pair.cert, key: pair.key, ALPNProtocols: ['http/1.1'] });
    o.credentials.onReload((p) => secure.setSecureContext({ cert: p.cert, key: p.key }));
    secure.on('secureConnection', (s) => o.app.emit('connection', s));
    // A browser that does not trust the CA yet drops the handshake: nothing to log.
    secure.on('tlsClientError', () => undefined);
    this.#redirect = http.createServer((req, res) => this.#answerPlain(req, res));
    this.#server = net.createServer((socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      socket.once('error', () => socket.destroy());
      socket.once('data', (first) => {
        socket.pause();
        socket.unshift(first);
        (first[0] === TLS_HANDSHAKE ? secure : this.#redirect).emit('connection', socket);
        process.nextTick(() => socket.resume());
      });
    });
    this.#extra = o.redirectPort ? http.createServer((req, res) => this.#answerPlain(req, res)) : undefined;
  }

  #answerPlain(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.o.plainHandler?.(req, res)) return;
    const path = (req.url ?? '/').startsWith('/') ? (req.url ?? '/') : '/';
    res.writeHead(308, { Location: `${this.o.publicUrl}${path}`, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`Use HTTPS: ${this.o.publicUrl}${path}\n`);
  }

  async listen(port: number, host: string): Promise<net.AddressInfo> {
    const start = (srv: net.Server, p: number) =>
      new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(p, host, () => {
          srv.off('error', reject);
          resolve();
        });
      });
    await start(this.#server, port);
    if (this.#extra) await start(this.#extra, this.o.redirectPort!);
    return this.#server.address() as net.AddressInfo;
  }

  address(): net.AddressInfo | null {
    return this.#server.address() as net.AddressInfo | null;
  }

  /** Stops accepting and drops the open connections (the app closes its own first). */
  async close(): Promise<void> {
    const closed = (srv: net.Server) => new Promise<void>((resolve) => srv.close(() => resolve()));
    const done = Promise.all([closed(this.#server), ...(this.#extra ? [closed(this.#extra)] : [])]);
    this.#extra?.closeAllConnections();
    for (const s of this.#sockets) s.destroy();
    await done;
  }
}
