// What the room view costs the server, measured two ways for the two designs it could use
// (docs/benchmarks/control-plane.md#the-room-view):
//
// - snapshots (what the product does): a whole server in a child process (Redis embedded),
//   N points' sockets sending a real 320x180 JPEG every 3 s while watched, and monitor
//   sockets watching 16 points each; the server process's CPU is read from /proc.
// - a low video layer through the SFU (the alternative): one mediasoup worker, N VP8
//   producers of about 100 kbps (RTP over plain transports, no SRTP: a lower bound of a
//   WebRTC producer's cost) and one consumer per watched point; the worker's CPU is read
//   from its resource usage.
//
//   node --import tsx scripts/bench-room-view.ts --points 420 --seconds 20 --repeats 3
import { execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as mediasoup from 'mediasoup';
import pino from 'pino';
import { io, type Socket } from 'socket.io-client';
import { Orchestrator } from '../server/assembly/orchestrator';
import { benchConfig } from './lib/bench-config';
import { ROOM_VIEW } from '../server/contract/room-view';
import { EmbeddedRedis } from '../server/redis/embedded-redis';
import { ROUTER_MEDIA_CODECS } from '../sfu/media-codecs';
import { prepareBriefing } from './lib/briefing-api';
import { readMachine, readProc } from './loadgen/procstat';

const { values: v } = parseArgs({
  options: {
    points: { type: 'string', default: '420' },
    seconds: { type: 'string', default: '20' },
    repeats: { type: 'string', default: '3' },
    serve: { type: 'boolean', default: false },
    'layer-kbps': { type: 'string', default: '100' },
  },
});
const POINTS = Number(v.points);
const SECONDS = Number(v.seconds);
const REPEATS = Number(v.repeats);
const ADMIN = { username: 'admin', password: 'bench-room-view-password' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a process, in seconds. */
const cpuSeconds = (pid: number): number => readProc(pid)?.cpuSeconds ?? NaN;
/** Whole-machine busy seconds (all cores), to tell whether a run was alone. */
const machineBusy = (): number => readMachine().busy;
const pct = (x: number) => Math.round(x * 1000) / 10;
const stats = (xs: number[]) => ({
  median: [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!,
  min: Math.min(...xs),
  max: Math.max(...xs),
  runs: xs,
});

/** Child mode: a whole server; prints its URL, runs until stdin closes. */
async function serve(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-room-view-'));
  const redis = await EmbeddedRedis.start({ dir: path.join(tmp, 'redis') });
  const config = benchConfig(tmp, ADMIN, {
    MEDIASOUP_WORKERS: '1',
    RECORDING: 'false',
    SOCKET_MAX_PER_ADDRESS: '2000',
    APP_SECRET: 'bench-room-view-secret-0123456789abcdef',
  });
  const o = await Orchestrator.create(config, pino({ level: 'warn' }, pino.destination(2)), redis.url);
  const port = (await o.listen()).port;
  process.stdout.write(`BENCH_URL http://127.0.0.1:${port}\n`);
  process.stdin.resume();
  await new Promise((r) => process.stdin.once('end', r));
  await o.stop();
  await redis.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(0);
}

/** A 320x180 JPEG of a busy test picture (a room compresses about as well). */
function snapshot(): Buffer {
  return execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=1'],
    ...['-frames:v', '1', '-q:v', '8', '-f', 'mjpeg', 'pipe:1'],
  ]);
}

async function snapshots(): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const base = await new Promise<string>((resolve) => {
    let text = '';
    const on = (d: Buffer) => {
      text += d.toString();
      const m = /BENCH_URL (\S+)/.exec(text);
      if (m) {
        child.stdout.off('data', on);
        child.stdout.resume();
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', on);
  });
  const jpeg = snapshot();
  const open: Socket[] = [];
  try {
    const connect = (ns: string, opts: { token?: string; cookie?: string }) =>
      new Promise<Socket>((resolve, reject) => {
        const s = io(`${base}${ns}`, {
          forceNew: true,
          transports: ['websocket'],
          reconnection: false,
          auth: opts.token ? { token: opts.token } : {},
          extraHeaders: opts.cookie ? { cookie: opts.cookie } : {},
        });
        open.push(s);
        s.once('connect', () => resolve(s));
        s.once('connect_error', reject);
      });
    const b = await prepareBriefing(base, await pointIds(base), { user: ADMIN });
    const points = await Promise.all(b.links.map((l) => connect('/point', { token: l.token })));
    const ids = b.links.map((l) => l.pointId);
    let frames = 0;
    let received = 0;
    /** Snapshots reaching a monitor that does not watch their point (must stay 0). */
    let misdelivered = 0;
    /** Snapshots a monitor got twice (must stay 0). */
    let duplicated = 0;
    // Each point sends while asked, every period, as the page does.
    points.forEach((s) => {
      let until = 0;
      let timer: NodeJS.Timeout | undefined;
      const loop = () => {
        if (Date.now() > until) return void (timer = undefined);
        s.emit('roomview:frame', { jpeg, width: 320, height: 180 }, () => frames++);
        timer = setTimeout(loop, ROOM_VIEW.periodMs);
      };
      s.on('roomview:on', ({ forMs }: { forMs: number }) => {
        until = Date.now() + forMs;
        // Spread the points' first snapshots over a period, as pages opened at different times.
        if (!timer) timer = setTimeout(loop, Math.random() * ROOM_VIEW.periodMs);
      });
      s.on('roomview:off', () => (until = 0));
    });
    const monitors: Socket[] = [];
    const watch = async (n: number) => {
      for (const m of monitors.splice(0)) m.close();
      for (let i = 0; i < n; i += ROOM_VIEW.maxWatched) {
        const m = await connect('/monitor', { cookie: b.cookie });
        const mine = new Set(ids.slice(i, Math.min(n, i + ROOM_VIEW.maxWatched)));
        const seen = new Set<string>();
        m.on('roomview:frame', (f: { pointId: string; at: string }) => {
          received++;
          if (!mine.has(f.pointId)) misdelivered++;
          if (seen.has(f.pointId + f.at)) duplicated++;
          seen.add(f.pointId + f.at);
        });
        monitors.push(m);
        await m.timeout(10_000).emitWithAck('roomview:watch', { sessionId: b.sessionId, pointIds: [...mine] });
      }
    };
    const out: Record<string, unknown> = { jpegBytes: jpeg.length, points: points.length, server: {} };
    for (const [name, watched] of [
      ['idle (sockets connected, none watched)', 0],
      ['16 watched (one wall page)', 16],
      [`all ${points.length} sending`, points.length],
    ] as const) {
      await watch(watched);
      await sleep(ROOM_VIEW.periodMs + 2000); // every point asked has sent once
      const cpu: number[] = [];
      const machine: number[] = [];
      let rate = 0;
      for (let r = 0; r < REPEATS; r++) {
        const [c0, m0, f0, t0] = [cpuSeconds(child.pid!), machineBusy(), received, Date.now()];
        await sleep(SECONDS * 1000);
        const secs = (Date.now() - t0) / 1000;
        cpu.push(pct((cpuSeconds(child.pid!) - c0) / secs));
        machine.push(pct((machineBusy() - m0) / secs));
        rate = (received - f0) / secs;
      }
      (out.server as Record<string, unknown>)[name] = {
        serverCpuPercentOfCore: stats(cpu),
        machineCpuPercent: stats(machine),
        snapshotsRelayedPerSecond: Math.round(rate * 10) / 10,
        relayedKbps: Math.round((rate * jpeg.length * 8) / 1000),
      };
    }
    out.snapshotsAcked = frames;
    out.misdelivered = misdelivered;
    out.duplicated = duplicated;
    return out;
  } finally {
    for (const s of open) s.close();
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
  }
}

async function pointIds(base: string): Promise<string[]> {
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const page = (await (await fetch(`${base}/api/v1/points?limit=500`, { headers: { cookie } })).json()) as {
    items: { id: string }[];
  };
  return page.items.slice(0, POINTS).map((p) => p.id);
}

const CLIP_SECONDS = 10;

/** RTP packets of a VP8 clip (320x180, 15 fps, a key frame a second) at `kbps`. */
async function captureVp8(kbps: number): Promise<Buffer[]> {
  const rx = dgram.createSocket('udp4');
  await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
  const packets: Buffer[] = [];
  rx.on('message', (m) => packets.push(m));
  execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=15`],
    ...['-t', String(CLIP_SECONDS), '-c:v', 'libvpx', '-b:v', `${kbps}k`, '-g', '15', '-deadline', 'realtime'],
    ...['-cpu-used', '8', '-payload_type', '101', '-ssrc', '1', '-f', 'rtp'],
    `rtp://127.0.0.1:${rx.address().port}?pkt_size=1200`,
  ]);
  await sleep(200);
  rx.close();
  return packets.filter((p) => (p[1]! & 0x7f) === 101);
}

/** The alternative: N producers of a low layer through one mediasoup worker. */
async function layers(): Promise<Record<string, unknown>> {
  const kbps = Number(v['layer-kbps']);
  const worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 41000, rtcMaxPort: 49000 });
  const router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
  const vp8 = router.rtpCapabilities.codecs!.find((c) => c.mimeType === 'video/VP8')!;
  const sender = dgram.createSocket('udp4');
  const sink = dgram.createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
  let sunk = 0;
  sink.on('message', () => sunk++);
  const producers: { port: number; ssrc: number; id: string; seq: number }[] = [];
  for (let i = 0; i < POINTS; i++) {
    const t = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
    const ssrc = 100_000 + i;
    const p = await t.produce({
      kind: 'video',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
        encodings: [{ ssrc }],
      },
    });
    producers.push({ port: t.tuple.localPort, ssrc, id: p.id, seq: 0 });
  }
  // A real 320x180 VP8 stream at the layer's bitrate, encoded once by ffmpeg and captured
  // as RTP, replayed by every producer (its own SSRC and sequence numbers).
  const clip = await captureVp8(kbps);
  const perSecond = clip.length / CLIP_SECONDS;
  let credit = 0;
  const tick = setInterval(() => {
    credit += (perSecond * POINTS) / 50;
    while (credit >= 1) {
      credit -= 1;
      const p = producers[Math.floor(Math.random() * producers.length)]!;
      const packet = Buffer.from(clip[p.seq % clip.length]!);
      packet.writeUInt16BE(p.seq++ & 0xffff, 2);
      packet.writeUInt32BE(p.ssrc, 8);
      sender.send(packet, p.port, '127.0.0.1');
    }
  }, 20);
  const consumers: mediasoup.types.Transport[] = [];
  const consume = async (n: number) => {
    for (const t of consumers.splice(0)) t.close();
    for (let i = 0; i < n; i++) {
      const t = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
      await t.connect({ ip: '127.0.0.1', port: sink.address().port });
      await t.consume({ producerId: producers[i]!.id, rtpCapabilities: { codecs: [vp8], headerExtensions: [] } });
      consumers.push(t);
    }
  };
  const used = async () => {
    const u = await worker.getResourceUsage();
    return (u.ru_utime + u.ru_stime) / 1000;
  };
  const out: Record<string, unknown> = { producers: POINTS, layerKbps: kbps, worker: {} };
  try {
    for (const [name, n] of [
      [`${POINTS} producing, none consumed`, 0],
      ['16 consumed (one wall page)', 16],
      [`all ${POINTS} consumed`, POINTS],
    ] as const) {
      await consume(n);
      await sleep(2000);
      const cpu: number[] = [];
      const machine: number[] = [];
      let forwarded = 0;
      for (let r = 0; r < REPEATS; r++) {
        const [c0, m0, s0, t0] = [await used(), machineBusy(), sunk, Date.now()];
        await sleep(SECONDS * 1000);
        const secs = (Date.now() - t0) / 1000;
        cpu.push(pct(((await used()) - c0) / secs));
        machine.push(pct((machineBusy() - m0) / secs));
        forwarded = (sunk - s0) / secs;
      }
      (out.worker as Record<string, unknown>)[name] = {
        workerCpuPercentOfCore: stats(cpu),
        machineCpuPercent: stats(machine),
        packetsInPerSecond: Math.round(perSecond * POINTS),
        packetsForwardedPerSecond: Math.round(forwarded),
      };
    }
    return out;
  } finally {
    clearInterval(tick);
    sender.close();
    sink.close();
    worker.close();
  }
}

async function main(): Promise<void> {
  if (v.serve) return serve();
  const started = new Date().toISOString();
  const snap = await snapshots();
  const layer = await layers();
  const result = {
    at: started,
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) },
    node: process.version,
    command: `node --import tsx scripts/bench-room-view.ts --points ${POINTS} --seconds ${SECONDS} --repeats ${REPEATS}`,
    loadAverage1m: os.loadavg()[0],
    snapshots: snap,
    lowLayer: layer,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
