// A pool of mediasoup workers, one per core by default, each with one WebRtcServer so
// that every WebRTC transport of a worker shares a single UDP and TCP port
// (basePort + index). A worker that dies is logged, reported, and replaced on the same
// port; rooms listen for `workerReplaced` to move their points back. A worker binary not
// built for this mediasoup is refused before any worker starts (worker-binary.ts).
import './mediasoup-log';
import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import { capWarning, grantedRecvBuffer } from './udp-buffer';
import { checkWorkerBinary } from './worker-binary';

export interface WorkerPoolOptions {
  numWorkers: number;
  listenIp: string;
  announcedIp: string | undefined;
  /** Worker i gets basePort + i for its WebRtcServer; 0 lets the OS choose. */
  basePort: number;
  logLevel: 'debug' | 'warn' | 'error' | 'none';
  logger: Logger;
  /** Delay before a dead worker is replaced; doubled on each failed attempt, capped at 10 s. */
  respawnDelayMs?: number;
  /**
   * How often (ms) each receive transport's bandwidth estimator wakes when it is not probing:
   * 5 (the default) is mediasoup's own value, BWE_TICK_MS libwebrtc's. See `libwebrtcFieldTrials`.
   */
  bweTickMs?: number;
  /** SO_RCVBUF asked for each WebRtcServer's UDP socket (bytes); 0 (the default): the system's. */
  udpRecvBufferBytes?: number;
}

/** libwebrtc's own interval for the congestion controller's periodic work (goog_cc_factory.cc). */
export const BWE_TICK_MS = 25;
/** What mediasoup 3.12's worker sets when it is given no field trials. */
const MEDIASOUP_FIELD_TRIALS = 'WebRTC-Bwe-AlrLimitedBackoff/Enabled/';

/**
 * The worker's libwebrtc field trials for a bandwidth estimator tick of `tickMs`.
 *
 * Each WebRtcTransport that sends with transport-cc (every point's receive transport) has a
 * timer that runs libwebrtc's congestion controller and pacer. mediasoup 3.12 restarts it
 * after min(the pacer's next wake-up, 25 ms); the pacer, which in mediasoup only sends
 * probes (media is never paced), asks to wake every `WebRTC-Pacer-MinPacketLimitMs`, 5 ms
 * by default, also while it has nothing to probe. So each point cost its worker 200 timer
 * runs a second of the controller's periodic work, which libwebrtc itself runs every 25 ms:
 * at 420 points, more timer runs than forwarded packets (docs/benchmarks/media-path.md,
 * "Where the worker's time goes"). With the pacer's idle wake-up at 25 ms the timer runs
 * at libwebrtc's own interval; while a probe is under way the pacer still sets the pace
 * (its prober's next probe, not this limit). 5 keeps mediasoup's own setting.
 */
export function libwebrtcFieldTrials(tickMs: number): string | undefined {
  if (tickMs === 5) return undefined;
  return `${MEDIASOUP_FIELD_TRIALS}WebRTC-Pacer-MinPacketLimitMs/${tickMs}/`;
}

export interface WorkerSlot {
  readonly index: number;
  worker: ms.Worker | undefined;
  webRtcServer: ms.WebRtcServer | undefined;
  /** The ports the WebRtcServer listens on (chosen by the OS when basePort is 0). */
  udpPort: number | undefined;
  tcpPort: number | undefined;
  /** Times this slot's worker has died since the pool started. */
  deaths: number;
}

export interface WorkerStatus {
  index: number;
  pid: number | undefined;
  alive: boolean;
  deaths: number;
  udpPort: number | undefined;
  tcpPort: number | undefined;
}

type PoolEvents = {
  workerDied: [slot: WorkerSlot, error: Error];
  workerReplaced: [slot: WorkerSlot];
};

export class WorkerPool extends EventEmitter<PoolEvents> {
  readonly #opts: Required<WorkerPoolOptions>;
  readonly #slots: WorkerSlot[] = [];
  readonly #log: Logger;
  #closed = false;
  readonly #respawnTimers = new Set<NodeJS.Timeout>();
  /** The receive queue the kernel grants the WebRtcServers' UDP sockets (undefined: the system's default). */
  #recvBufferGranted: number | undefined;

  private constructor(opts: WorkerPoolOptions) {
    super();
    this.#opts = { respawnDelayMs: 500, bweTickMs: 5, udpRecvBufferBytes: 0, ...opts };
    this.#log = opts.logger;
  }

  /** Rejects with a `worker_mismatch` SfuError when the worker binary is not this mediasoup's. */
  static async create(opts: WorkerPoolOptions): Promise<WorkerPool> {
    if (opts.numWorkers > 0) {
      const stamp = checkWorkerBinary();
      opts.logger.info(
        { mediasoup: stamp.mediasoupVersion, workerPatch: stamp.patchHash },
        'mediasoup worker binary matches its build stamp',
      );
    }
    const pool = new WorkerPool(opts);
    const requested = pool.#opts.udpRecvBufferBytes;
    if (opts.numWorkers > 0 && requested > 0) {
      pool.#recvBufferGranted = await grantedRecvBuffer(requested);
      const warning = capWarning(requested, pool.#recvBufferGranted);
      if (warning) opts.logger.warn({ requested, granted: pool.#recvBufferGranted }, warning);
    }
    try {
      for (let i = 0; i < opts.numWorkers; i++) {
        const slot: WorkerSlot = {
          index: i,
          worker: undefined,
          webRtcServer: undefined,
          udpPort: undefined,
          tcpPort: undefined,
          deaths: 0,
        };
        pool.#slots.push(slot);
        await pool.#start(slot);
      }
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  get slots(): readonly WorkerSlot[] {
    return this.#slots;
  }

  /**
   * Where plain (unencrypted, comedia) RTP ingests listen by default: the pool's own listen
   * address when it names one interface, else loopback, so a wildcard never exposes them.
   */
  get ingestListenIp(): string {
    const ip = this.#opts.listenIp;
    return ip === '0.0.0.0' || ip === '::' ? '127.0.0.1' : ip;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Live slots only: a slot whose worker died and has not been replaced yet is skipped. */
  aliveSlots(): WorkerSlot[] {
    return this.#slots.filter((s) => s.worker && !s.worker.closed);
  }

  status(): WorkerStatus[] {
    return this.#slots.map((s) => ({
      index: s.index,
      pid: s.worker?.pid,
      alive: Boolean(s.worker && !s.worker.closed),
      deaths: s.deaths,
      udpPort: s.udpPort,
      tcpPort: s.tcpPort,
    }));
  }

  allAlive(): boolean {
    return !this.#closed && this.#slots.every((s) => s.worker && !s.worker.closed);
  }

  async resourceUsage(): Promise<{ index: number; usage: ms.WorkerResourceUsage }[]> {
    const out: { index: number; usage: ms.WorkerResourceUsage }[] = [];
    for (const s of this.aliveSlots()) {
      try {
        out.push({ index: s.index, usage: await s.worker!.getResourceUsage() });
      } catch {
        // The worker died between the check and the request: nothing to report for it.
      }
    }
    return out;
  }

  async #start(slot: WorkerSlot): Promise<void> {
    // Again before each replacement: the binary may have been changed under a running pool.
    checkWorkerBinary();
    const fieldTrials = libwebrtcFieldTrials(this.#opts.bweTickMs);
    const worker = await mediasoup.createWorker({
      ...(fieldTrials ? { libwebrtcFieldTrials: fieldTrials } : {}),
      logLevel: this.#opts.logLevel,
      logTags: ['info', 'ice', 'dtls', 'rtp', 'srtp', 'rtcp', 'simulcast', 'bwe'],
      appData: { index: slot.index },
    });
    try {
      const port = this.#opts.basePort === 0 ? 0 : this.#opts.basePort + slot.index;
      const listen = (protocol: 'udp' | 'tcp') => ({
        protocol,
        ip: this.#opts.listenIp,
        ...(this.#opts.announcedIp ? { announcedIp: this.#opts.announcedIp } : {}),
        // Omitted: the worker picks a free one from its RTC port range.
        ...(port === 0 ? {} : { port }),
        // The worker's build adds this to 3.12.16 (scripts/worker-fixes.mjs addUdpSocketBufferSizes).
        ...(protocol === 'udp' && this.#opts.udpRecvBufferBytes > 0
          ? { recvBufferSize: this.#opts.udpRecvBufferBytes }
          : {}),
      });
      const webRtcServer = await worker.createWebRtcServer({
        listenInfos: [listen('udp'), listen('tcp')] as ms.WebRtcServerListenInfo[],
      });
      const dump = await webRtcServer.dump();
      slot.udpPort = dump.udpSockets[0]?.port;
      slot.tcpPort = dump.tcpServers[0]?.port;
      slot.worker = worker;
      slot.webRtcServer = webRtcServer;
    } catch (err) {
      worker.close();
      throw err;
    }
    worker.on('died', (error) => this.#onDied(slot, worker, error));
    this.#log.info(
      {
        worker: slot.index,
        workerPid: worker.pid,
        udpPort: slot.udpPort,
        tcpPort: slot.tcpPort,
        udpRecvBuffer: this.#opts.udpRecvBufferBytes > 0 ? (this.#recvBufferGranted ?? 'unknown') : 'system default',
      },
      'mediasoup worker started',
    );
  }

  #onDied(slot: WorkerSlot, worker: ms.Worker, error: Error): void {
    if (slot.worker !== worker) return;
    slot.deaths += 1;
    slot.webRtcServer = undefined;
    this.#log.error({ worker: slot.index, workerPid: worker.pid, err: error }, 'mediasoup worker died; replacing it');
    this.emit('workerDied', slot, error);
    this.#scheduleRespawn(slot, this.#opts.respawnDelayMs);
  }

  #scheduleRespawn(slot: WorkerSlot, delayMs: number): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#respawnTimers.delete(timer);
      if (this.#closed) return;
      this.#start(slot).then(
        () => {
          if (this.#closed) {
            slot.worker?.close();
            return;
          }
          this.#log.info({ worker: slot.index, workerPid: slot.worker?.pid }, 'mediasoup worker replaced');
          this.emit('workerReplaced', slot);
        },
        (err: unknown) => {
          this.#log.error({ worker: slot.index, err }, 'could not replace mediasoup worker; retrying');
          this.#scheduleRespawn(slot, Math.min(delayMs * 2, 10_000));
        },
      );
    }, delayMs);
    this.#respawnTimers.add(timer);
  }

  /** Idempotent. Closing a worker closes its routers, transports and WebRtcServer. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#respawnTimers) clearTimeout(t);
    this.#respawnTimers.clear();
    for (const s of this.#slots) s.worker?.close();
  }
}
