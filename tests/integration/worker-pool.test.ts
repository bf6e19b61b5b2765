import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { types as ms } from 'mediasoup';
import pino from 'pino';
import { Writable } from 'node:stream';
import { setMediasoupLogSink } from '../../sfu/mediasoup-log';
import { grantedRecvBuffer } from '../../sfu/udp-buffer';
import { WorkerPool, type WorkerPoolOptions } from '../../sfu/worker-pool';
import { waitFor } from '../helpers/orchestrator';

const logger = pino({ level: 'silent' });

describe('WorkerPool (real mediasoup workers)', () => {
  let pool: WorkerPool;
  afterEach(() => pool?.close());

  test('starts workers that create a router and a WebRtcTransport on the WebRtcServer', async () => {
    pool = await WorkerPool.create({
      numWorkers: 2,
      listenIp: '127.0.0.1',
      announcedIp: undefined,
      basePort: 0,
      logLevel: 'warn',
      logger,
    });
    expect(pool.status()).toHaveLength(2);
    expect(pool.allAlive()).toBe(true);
    const [a, b] = pool.status();
    expect(a!.pid).not.toBe(b!.pid);
    expect(a!.udpPort).toBeGreaterThan(0);

    const slot = pool.slots[0]!;
    const router = await slot.worker!.createRouter({
      mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }],
    });
    const transport = await router.createWebRtcTransport({ webRtcServer: slot.webRtcServer! });
    expect(transport.iceCandidates.length).toBeGreaterThan(0);
    expect(transport.iceCandidates.map((c) => c.port)).toContain(slot.udpPort);
    const usage = await pool.resourceUsage();
    expect(usage).toHaveLength(2);
  });

  test('a killed worker is reported and replaced on the same port', async () => {
    pool = await WorkerPool.create({
      numWorkers: 1,
      listenIp: '127.0.0.1',
      announcedIp: undefined,
      basePort: 0,
      logLevel: 'warn',
      logger,
      respawnDelayMs: 100,
    });
    const before = pool.status()[0]!;
    const died = new Promise((resolve) => pool.once('workerDied', resolve));
    const replaced = new Promise((resolve) => pool.once('workerReplaced', resolve));
    process.kill(before.pid!, 'SIGKILL');
    await died;
    expect(pool.allAlive()).toBe(false);
    expect(pool.status()[0]!.deaths).toBe(1);
    await replaced;
    const after = pool.status()[0]!;
    expect(after.alive).toBe(true);
    expect(after.pid).not.toBe(before.pid);
    // The replacement serves transports again.
    const router = await pool.slots[0]!.worker!.createRouter({ mediaCodecs: [] });
    const t = await router.createWebRtcTransport({ webRtcServer: pool.slots[0]!.webRtcServer! });
    expect(t.closed).toBe(false);
  });

  test('close() is idempotent and stops every worker', async () => {
    pool = await WorkerPool.create({
      numWorkers: 2,
      listenIp: '127.0.0.1',
      announcedIp: undefined,
      basePort: 0,
      logLevel: 'warn',
      logger,
    });
    const pids = pool.status().map((s) => s.pid!);
    pool.close();
    pool.close();
    await waitFor(
      () =>
        pids.every((pid) => {
          try {
            process.kill(pid, 0);
            return false;
          } catch {
            return true;
          }
        }),
      'worker processes to exit',
    );
  });

  /** One worker logging at debug level, so its own lines reach the capture. */
  const debugPool = (extra: Partial<WorkerPoolOptions> = {}) =>
    WorkerPool.create({
      numWorkers: 1,
      listenIp: '127.0.0.1',
      announcedIp: undefined,
      basePort: 0,
      logLevel: 'debug',
      logger,
      ...extra,
    });

  test("workers run libwebrtc with the bandwidth estimator tick asked for, mediasoup's own by default", async () => {
    const trialsOf = async (bweTickMs: number | undefined): Promise<string[]> => {
      const lines = captureMediasoupLog();
      try {
        pool = await debugPool(bweTickMs === undefined ? {} : { bweTickMs });
        await waitFor(() => lines.some((l) => /libwebrtc field trials/.test(l.msg)), 'the field trials line');
      } finally {
        setMediasoupLogSink(undefined);
        pool.close();
      }
      return lines.filter((l) => /libwebrtc field trials/.test(l.msg)).map((l) => l.msg);
    };
    const [tick25] = await trialsOf(25);
    expect(tick25).toContain('WebRTC-Pacer-MinPacketLimitMs/25/');
    // mediasoup's own trial stays.
    expect(tick25).toContain('WebRTC-Bwe-AlrLimitedBackoff/Enabled/');
    const [byDefault] = await trialsOf(undefined);
    expect(byDefault).not.toContain('MinPacketLimitMs');
    expect(byDefault).toContain('WebRTC-Bwe-AlrLimitedBackoff/Enabled/');
  });

  /** The kernel's receive buffer of the UDP socket bound to `port` (`ss`'s skmem rb). */
  const recvBufferOf = (port: number): number => {
    const out = execFileSync('ss', ['-uamnH', 'sport', '=', `:${port}`], { encoding: 'utf8' });
    const rb = /skmem:\([^)]*\brb(\d+)/.exec(out);
    if (!rb) throw new Error(`no socket on UDP port ${port} in ss's output: ${out}`);
    return Number(rb[1]);
  };

  test("the WebRtcServer's UDP socket gets the receive queue asked for, the system's by default", async () => {
    const asked = 1024 * 1024;
    const granted = await grantedRecvBuffer(asked);
    // What the kernel grants: the request, or net.core.rmem_max when that is lower.
    expect(granted).toBe(Math.min(asked, Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8'))));
    pool = await debugPool({ udpRecvBufferBytes: asked });
    // ss reports twice the grant (Linux's own bookkeeping).
    expect(recvBufferOf(pool.slots[0]!.udpPort!)).toBe(2 * granted!);
    pool.close();
    pool = await debugPool();
    expect(recvBufferOf(pool.slots[0]!.udpPort!)).toBe(
      Number(fs.readFileSync('/proc/sys/net/core/rmem_default', 'utf8')),
    );
  });

  test("a receive queue above the kernel's cap is granted the cap, and the pool says how to lift it", async () => {
    const cap = Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const { lines, stream } = jsonLines<{ level: number; msg: string; udpRecvBuffer?: number }>();
    pool = await debugPool({ logger: pino({ level: 'info' }, stream), udpRecvBufferBytes: 2 * cap });
    expect(lines.find((l) => l.level === 40)?.msg).toContain(`net.core.rmem_max=${2 * cap}`);
    expect(lines.find((l) => l.msg === 'mediasoup worker started')?.udpRecvBuffer).toBe(cap);
    expect(recvBufferOf(pool.slots[0]!.udpPort!)).toBe(2 * cap);
  });

  test('the worker refuses a receive queue size that is not a number of bytes', async () => {
    pool = await debugPool();
    const worker = pool.slots[0]!.worker!;
    for (const recvBufferSize of [-1, 1.5, 'big', 2 ** 31]) {
      const listenInfo = { protocol: 'udp', ip: '127.0.0.1', recvBufferSize } as ms.WebRtcServerListenInfo;
      await expect(worker.createWebRtcServer({ listenInfos: [listenInfo] })).rejects.toThrow(/wrong recvBufferSize/);
    }
  });

  test("mediasoup's own log lines reach pino", async () => {
    const lines = captureMediasoupLog();
    try {
      pool = await debugPool();
      await waitFor(() => lines.some((l) => l.mediasoup), 'a mediasoup log line');
      expect(lines.find((l) => l.mediasoup)!.msg.length).toBeGreaterThan(0);
    } finally {
      setMediasoupLogSink(undefined);
    }
  });
});

/** Sends mediasoup's own log lines, at debug, to a pino logger whose lines land in the array. */
/** A stream for a pino logger, and the JSON lines written to it. */
function jsonLines<T>(): { lines: T[]; stream: Writable } {
  const lines: T[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)) as T);
      cb();
    },
  });
  return { lines, stream };
}

function captureMediasoupLog(): { mediasoup?: string; msg: string }[] {
  const { lines, stream } = jsonLines<{ mediasoup?: string; msg: string }>();
  setMediasoupLogSink(pino({ level: 'debug' }, stream), { debug: true });
  return lines;
}
