// A coturn child process for `TURN=embedded`: started with the server, stopped with it.
// Its configuration file (with the shared secret, made fresh at each start) is written
// under <DATA_DIR>/turn, readable by this user only. The relay may reach the SFU's own
// address and nothing else private: a TURN server is otherwise a way into the LAN.
// A coturn that ends on its own after start-up is started again with the same ports and
// secret, so credentials already handed out stay good (server/platform/supervisor.ts);
// `up` is false meanwhile, and /readyz says so.
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { ProcessSupervisor } from '../platform/supervisor';
import { tiedSpawn } from '../platform/tied-spawn';

export interface EmbeddedCoturnOptions {
  dir: string;
  /** Where coturn listens; undefined: every address. */
  listenIp: string | undefined;
  /** The address the relay announces (behind NAT: the public one) and the SFU's, allowed as peer. */
  externalIp: string;
  /** Peer addresses the relay may send to (the SFU's announced and listen addresses). */
  allowedPeers: string[];
  port: number;
  tlsPort: number;
  relayPorts: [number, number];
  realm: string;
  cert: { certFile: string; keyFile: string };
  logger: Logger;
  binary?: string;
  startTimeoutMs?: number;
  /** Start it again when it ends on its own after start-up. */
  restartOnExit?: boolean;
}

// Private, loopback, link-local and other special ranges: refused as relay peers.
const DENIED_PEERS = [
  '0.0.0.0-0.255.255.255',
  '10.0.0.0-10.255.255.255',
  '100.64.0.0-100.127.255.255',
  '127.0.0.0-127.255.255.255',
  '169.254.0.0-169.254.255.255',
  '172.16.0.0-172.31.255.255',
  '192.0.0.0-192.0.0.255',
  '192.168.0.0-192.168.255.255',
  '198.18.0.0-198.19.255.255',
  '224.0.0.0-255.255.255.255',
  '::1',
  '64:ff9b::-64:ff9b::ffff:ffff',
  'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
];

export class CoturnStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CoturnStartError';
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(500);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

export class EmbeddedCoturn {
  readonly secret = randomBytes(32).toString('base64url');
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  readonly #supervisor: ProcessSupervisor | undefined;

  private constructor(readonly o: EmbeddedCoturnOptions) {
    if (o.restartOnExit) this.#supervisor = new ProcessSupervisor('embedded coturn', o.logger, () => this.#spawn());
  }

  static async start(o: EmbeddedCoturnOptions): Promise<EmbeddedCoturn> {
    const c = new EmbeddedCoturn(o);
    await c.#spawn();
    return c;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Its process runs (false while it is being started again). */
  get up(): boolean {
    const c = this.#child;
    return c !== undefined && c.exitCode === null && c.signalCode === null && !this.#supervisor?.down;
  }

  /** Times it was started again after ending on its own. */
  get restarts(): number {
    return this.#supervisor?.restarts ?? 0;
  }

  #config(): string {
    const o = this.o;
    const lines = [
      `listening-port=${o.port}`,
      `tls-listening-port=${o.tlsPort}`,
      ...(o.listenIp ? [`listening-ip=${o.listenIp}`, `relay-ip=${o.listenIp}`] : []),
      `external-ip=${o.externalIp}${o.listenIp && o.listenIp !== o.externalIp ? `/${o.listenIp}` : ''}`,
      `min-port=${o.relayPorts[0]}`,
      `max-port=${o.relayPorts[1]}`,
      'use-auth-secret',
      `static-auth-secret=${this.secret}`,
      `realm=${o.realm}`,
      `cert=${o.cert.certFile}`,
      `pkey=${o.cert.keyFile}`,
      'fingerprint',
      'no-cli',
      'no-tlsv1',
      'no-tlsv1_1',
      'no-multicast-peers',
      'no-software-attribute',
      'no-rfc5780',
      'no-stun-backward-compatibility',
      ...DENIED_PEERS.map((r) => `denied-peer-ip=${r}`),
      ...[...new Set(this.o.allowedPeers)].map((ip) => `allowed-peer-ip=${ip}`),
      `userdb=${path.join(o.dir, 'turndb')}`,
      `pidfile=${path.join(o.dir, 'turnserver.pid')}`,
      'log-file=stdout',
      'simple-log',
    ];
    return `${lines.join('\n')}\n`;
  }

  async #spawn(): Promise<void> {
    const o = this.o;
    fs.mkdirSync(o.dir, { recursive: true, mode: 0o700 });
    const conf = path.join(o.dir, 'turnserver.conf');
    fs.rmSync(conf, { force: true });
    fs.writeFileSync(conf, this.#config(), { mode: 0o600 });
    const binary = o.binary ?? 'turnserver';
    const child = tiedSpawn(binary, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'], log: o.logger });
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let output = '';
    const onData = (buf: Buffer) => {
      output = (output + buf.toString()).slice(-8000);
      for (const line of buf.toString().split('\n')) {
        if (/ERROR|error|cannot|Cannot/.test(line)) o.logger.warn({ coturn: true }, line.trim());
        else if (line.trim()) o.logger.debug({ coturn: true }, line.trim());
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new CoturnStartError(
            err.code === 'ENOENT'
              ? `TURN=embedded: ${binary} was not found. Install coturn (apt-get install -y coturn; npm start does this as root) or unset TURN.`
              : `TURN=embedded: ${String(err)}`,
          ),
        ),
      );
      child.once('exit', (code, signal) =>
        reject(
          new CoturnStartError(
            `TURN=embedded: coturn exited during start-up (code ${code}, signal ${signal}); are TURN_PORT ` +
              `${o.port} and TURN_TLS_PORT ${o.tlsPort} free (ports below 1024 need root)?\n${output.slice(-2000)}`,
          ),
        ),
      );
    });
    failed.catch(() => undefined);
    const host = o.listenIp && o.listenIp !== '0.0.0.0' && o.listenIp !== '::' ? o.listenIp : '127.0.0.1';
    const deadline = Date.now() + (o.startTimeoutMs ?? 15_000);
    const ready = (async () => {
      for (;;) {
        // coturn binds TLS after reading the certificate: both answering means it is up.
        if ((await canConnect(host, o.port)) && (await canConnect(host, o.tlsPort))) return;
        if (Date.now() > deadline) {
          throw new CoturnStartError(
            `TURN=embedded: coturn did not answer on TCP ${o.port} and ${o.tlsPort} in time (TURN_PORT, TURN_TLS_PORT; ` +
              `ports below 1024 need root):\n${output.slice(-2000)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await Promise.race([ready, failed]);
    } catch (err) {
      await this.#kill(child);
      throw err;
    }
    this.#supervisor?.watch(child, () => output);
    o.logger.info(
      { port: o.port, tlsPort: o.tlsPort, listenIp: o.listenIp ?? 'all', coturnPid: child.pid },
      'coturn started',
    );
  }

  /** SIGTERM, then SIGKILL after 5 s. Idempotent. */
  async stop(): Promise<void> {
    await this.#supervisor?.stop();
    if (this.#child) await this.#kill(this.#child);
  }

  async #kill(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return this.#exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await this.#exited;
    clearTimeout(timer);
  }

  /** For a forced exit: no child outlives the server. */
  killNow(): void {
    this.#child?.kill('SIGKILL');
  }
}
