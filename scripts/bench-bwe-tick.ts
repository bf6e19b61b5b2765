// What each point's bandwidth estimator costs its mediasoup worker at each tick
// (MEDIASOUP_BWE_TICK_MS, sfu/worker-pool.ts libwebrtcFieldTrials), without the load
// generator: one worker, one VP8 producer fed over a plain transport, and N receive
// transports each consuming it with transport-cc negotiated (so each has the estimator and
// its timer, as a point's WebRTC transport has). The receive transports are plain (no ICE,
// DTLS or SRTP) and send to a socket that is never read (the kernel drops the datagrams):
// what differs between the ticks is the estimator's own work. `--pps 0` sends no media (the
// timers alone); otherwise the producer gets `--pps` packets a second, each forwarded N
// times. The worker's CPU is read from /proc over `--seconds`; ticks take turns in each repeat.
//
//   node --import tsx scripts/bench-bwe-tick.ts --points 420 --seconds 20 --repeats 3 --pps 0,100
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { types as ms } from 'mediasoup';
import { WorkerPool } from '../sfu/worker-pool';
import { ROUTER_MEDIA_CODECS } from '../sfu/media-codecs';
import { readMachine, readProc } from './loadgen/procstat';

const { values: v } = parseArgs({
  options: {
    points: { type: 'string', default: '420' },
    seconds: { type: 'string', default: '20' },
    repeats: { type: 'string', default: '3' },
    ticks: { type: 'string', default: '5,25' },
    pps: { type: 'string', default: '0,100' },
    out: { type: 'string' },
  },
});
const POINTS = Number(v.points);
const SECONDS = Number(v.seconds);
const REPEATS = Number(v.repeats);
const TICKS = v.ticks.split(',').map(Number);
const PPS = v.pps.split(',').map(Number);
for (const [name, xs] of [
  ['points', [POINTS]],
  ['seconds', [SECONDS]],
  ['repeats', [REPEATS]],
  ['ticks', TICKS],
  ['pps', PPS],
] as const) {
  if (xs.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`--${name} must be whole numbers`);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TCC_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

/** utime + stime of a process, in seconds. */
const cpuSeconds = (pid: number): number => readProc(pid)?.cpuSeconds ?? NaN;
/** Whole-machine busy seconds (all cores), to tell whether a run was alone. */
const machineBusy = (): number => readMachine().busy;

/** A UDP port that receives and is never read: a small buffer, the kernel drops the rest. */
async function blackHole(): Promise<{ port: number; close: () => void }> {
  const py =
    'import socket,sys,time\n' +
    's=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n' +
    's.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,4096)\n' +
    "s.bind(('127.0.0.1',0))\n" +
    'print(s.getsockname()[1],flush=True)\n' +
    'sys.stdin.read()\n';
  const child = spawn('python3', ['-c', py], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    child.once('error', reject);
  });
  return { port, close: () => child.kill() };
}

/** One VP8 RTP packet of about 1,000 bytes (the payload is not decoded). */
function rtp(seq: number, ts: number, ssrc: number): Buffer {
  const b = Buffer.alloc(1012);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(ts >>> 0, 4);
  b.writeUInt32BE(ssrc, 8);
  b[12] = 0x10; // VP8 payload descriptor: start of partition
  return b;
}

async function measure(tickMs: number, pps: number, sinkPort: number) {
  const pool = await WorkerPool.create({
    numWorkers: 1,
    listenIp: '127.0.0.1',
    announcedIp: undefined,
    basePort: 0,
    logLevel: 'none',
    logger: pino({ level: 'silent' }),
    bweTickMs: tickMs,
  });
  const feed = dgram.createSocket('udp4');
  let timer: NodeJS.Timeout | undefined;
  try {
    const worker = pool.slots[0]!.worker!;
    const router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    const ingest = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
    const ssrc = 1111;
    const producer = await ingest.produce({
      kind: 'video',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }],
        encodings: [{ ssrc }],
      },
    });
    const vp8 = router.rtpCapabilities.codecs!.find((c) => c.mimeType === 'video/VP8')!;
    const tcc = router.rtpCapabilities.headerExtensions!.find((h) => h.uri === TCC_URI && h.kind === 'video')!;
    const caps: ms.RtpCapabilities = {
      codecs: [
        { ...vp8, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'transport-cc' }] },
      ],
      headerExtensions: [tcc],
    };
    for (let i = 0; i < POINTS; i++) {
      const t = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
      await t.connect({ ip: '127.0.0.1', port: sinkPort });
      const c = await t.consume({ producerId: producer.id, rtpCapabilities: caps });
      if (i === 0 && !c.rtpParameters.headerExtensions?.some((h) => h.uri === TCC_URI))
        throw new Error('the consumer did not negotiate transport-cc');
    }
    if (pps > 0) {
      let seq = 0;
      const t0 = Date.now();
      const { localPort } = ingest.tuple;
      // A key frame now and then is not needed: a plain VP8 consumer forwards from the start.
      timer = setInterval(() => {
        const due = Math.floor(((Date.now() - t0) * pps) / 1000);
        for (; seq < due; seq++) feed.send(rtp(seq, Math.floor((seq * 90000) / pps), ssrc), localPort, '127.0.0.1');
      }, 10);
    }
    await sleep(3000); // the estimators' start-up probing settles
    const pid = worker.pid;
    const c0 = cpuSeconds(pid);
    const m0 = machineBusy();
    const t0 = process.hrtime.bigint();
    await sleep(SECONDS * 1000);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const workerPct = ((cpuSeconds(pid) - c0) / wall) * 100;
    const otherPct = ((machineBusy() - m0) / wall) * 100 - workerPct;
    return { workerPct, otherPct };
  } finally {
    if (timer) clearInterval(timer);
    feed.close();
    pool.close();
  }
}

async function main() {
  const startedAt = new Date().toISOString();
  const sink = await blackHole();
  const rows: { tickMs: number; pps: number; repeat: number; workerPct: number; otherPct: number }[] = [];
  try {
    for (let r = 0; r < REPEATS; r++) {
      for (const pps of PPS) {
        // Alternate which tick goes first, so a drift in the machine's load spreads over both.
        const order = r % 2 === 0 ? TICKS : [...TICKS].reverse();
        for (const tickMs of order) {
          const m = await measure(tickMs, pps, sink.port);
          rows.push({ tickMs, pps, repeat: r + 1, ...m });
          process.stderr.write(
            `repeat ${r + 1} pps ${pps} tick ${tickMs} ms: worker ${m.workerPct.toFixed(1)} % of a core ` +
              `(${((m.workerPct / 100 / POINTS) * 1e6).toFixed(1)} us per point per s), other ${m.otherPct.toFixed(0)} %\n`,
          );
        }
      }
    }
  } finally {
    sink.close();
  }
  const summary = PPS.flatMap((pps) =>
    TICKS.map((tickMs) => {
      const xs = rows.filter((x) => x.pps === pps && x.tickMs === tickMs).map((x) => x.workerPct);
      const sorted = [...xs].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      return {
        pps,
        tickMs,
        workerPctMedian: Math.round(median * 10) / 10,
        workerPctMin: Math.round(sorted[0]! * 10) / 10,
        workerPctMax: Math.round(sorted.at(-1)! * 10) / 10,
        usPerPointPerSecond: Math.round((median / 100 / POINTS) * 1e7) / 10,
        usPerForwardedPacket: pps > 0 ? Math.round((median / 100 / (POINTS * pps)) * 1e7) / 10 : undefined,
      };
    }),
  );
  const result = {
    startedAt,
    command: process.argv.slice(1).join(' '),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, kernel: os.release(), loadavg: os.loadavg() },
    points: POINTS,
    seconds: SECONDS,
    repeats: REPEATS,
    summary,
    runs: rows,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (v.out) fs.writeFileSync(v.out, `${JSON.stringify(result, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
