// A redis-server child process with its data on disk (AOF), for `npm start` without
// REDIS_URL and for tests, which each start their own on a free port so they can kill
// and restart it without touching the machine's shared Redis. The server's own asks for
// `restartOnExit`: a redis-server that ends on its own is started again on the same port
// with the same AOF (server/platform/supervisor.ts), and its clients reconnect. The port
// is taken below the kernel's ephemeral range, so that while redis-server is down no
// outgoing connection (a client's reconnect to it included) is given it as a local port.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { ProcessSupervisor } from '../platform/supervisor';
import { tiedSpawn } from '../platform/tied-spawn';

interface EmbeddedRedisBase {
  /** Directory for the AOF and the server's log; created if missing. */
  dir: string;
  /** Defaults to a free port on 127.0.0.1 below the ephemeral range (servicePort()). */
  port?: number;
  /** Path or name of the binary; found on PATH by default. */
  binary?: string;
  startTimeoutMs?: number;
}

export type EmbeddedRedisOptions = EmbeddedRedisBase &
  (
    | { logger?: Logger; restartOnExit?: false }
    /** Start it again when it ends on its own after start-up (the server's; tests crash theirs); logged. */
    | { logger: Logger; restartOnExit: true }
  );

export class RedisNotInstalledError extends Error {
  constructor(binary: string) {
    super(
      `${binary} was not found on PATH. Install it (Debian: apt-get install -y redis-server) ` +
        'or set REDIS_URL to an existing Redis.',
    );
    this.name = 'RedisNotInstalledError';
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Where the kernel picks local ports of outgoing connections from (Linux; else the IANA range). */
export function ephemeralPorts(): [number, number] {
  try {
    const [low, high] = fs
      .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high && low <= high) return [low, high];
  } catch {
    // not Linux
  }
  return [49152, 65535];
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * A free port on `host` below the ephemeral range, for a server that must get the same
 * port back after a restart: an outgoing connection is never given one of these.
 */
export async function servicePort(host = '127.0.0.1'): Promise<number> {
  const [ephemeralLow] = ephemeralPorts();
  const high = ephemeralLow - 1;
  // Above the well-known and most registered service ports where the range allows.
  const low = high - 1024 > 20_000 ? 20_000 : 1024;
  for (let i = 0; i < 200; i += 1) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await canListen(port, host)) return port;
  }
  throw new Error(`no free port on ${host} between ${low} and ${high}`);
}

export class EmbeddedRedis {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  readonly #supervisor: ProcessSupervisor | undefined;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly opts: EmbeddedRedisOptions,
  ) {
    if (opts.restartOnExit) {
      this.#supervisor = new ProcessSupervisor('embedded redis-server', opts.logger, () => this.#spawn());
    }
  }

  static async start(opts: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
    fs.mkdirSync(opts.dir, { recursive: true });
    const r = new EmbeddedRedis(path.resolve(opts.dir), opts.port ?? (await servicePort()), opts);
    await r.#spawn();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Times it was started again after ending on its own. */
  get restarts(): number {
    return this.#supervisor?.restarts ?? 0;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async #spawn(): Promise<void> {
    const binary = this.opts.binary ?? 'redis-server';
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      // AOF: an acknowledged write normally reaches the file (OS cache) before the reply,
      // so a crash of redis-server loses nothing; while the disk is busy with the previous
      // fsync, everysec may hold writes back up to two seconds. fsync each second bounds
      // a power loss.
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
      '--logfile',
      '',
    ];
    // Its own process group: a Ctrl-C in the terminal signals the whole foreground group,
    // and Redis must outlive the server's ordered shutdown (queues and stores close on it
    // first), so only the server stops it.
    // It gets SIGTERM when the server dies: it writes its append-only file out and exits.
    const child = tiedSpawn(binary, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      deathSignal: 'SIGTERM',
      log: this.opts.logger,
    });
    this.#child = child;
    // 'close' as well: a binary that could not be run ends with an error and 'close', no 'exit'.
    this.#exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.once('close', () => resolve());
    });
    const log = this.opts.logger;
    let output = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server did not become ready in time:\n${output.slice(-2000)}`)),
        this.opts.startTimeoutMs ?? 15_000,
      );
      const onData = (buf: Buffer) => {
        const text = buf.toString();
        output = (output + text).slice(-8000);
        for (const line of text.split('\n')) if (line.trim()) log?.debug({ redis: this.port }, line.trim());
        if (/Ready to accept connections/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(err.code === 'ENOENT' ? new RedisNotInstalledError(binary) : err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        const inUse = /Address already in use/i.test(output) ? `: port ${this.port} is in use` : '';
        reject(
          new Error(
            `redis-server exited during start-up (code ${code}, signal ${signal})${inUse}:\n${output.slice(-2000)}`,
          ),
        );
      });
    });
    try {
      await ready;
    } catch (err) {
      // Gone before the next try (or stop()): it may hold the port and the AOF until then.
      child.kill('SIGKILL');
      await this.#exited;
      throw err;
    }
    this.#supervisor?.watch(child, () => output);
    log?.info({ port: this.port, dir: this.dir, redisPid: child.pid }, 'embedded redis-server started');
  }

  /** Graceful stop: redis-server flushes the AOF on SIGTERM. Idempotent. */
  async stop(): Promise<void> {
    await this.#supervisor?.stop();
    if (!this.running) return this.#exited;
    this.#child!.kill('SIGTERM');
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(timer);
  }

  /** Crash it (tests of Redis faults). */
  async kill(): Promise<void> {
    if (!this.running) return this.#exited;
    this.#child!.kill('SIGKILL');
    await this.#exited;
  }

  /** Start again on the same port and directory, replaying the AOF (without restartOnExit). */
  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.#spawn();
  }
}
