// What each path of the hall's ingest costs the machine: plain RTP (three VP8 simulcast
// layers and Opus straight to the origin), WHIP (Chromium's fake 1280x720 camera, three
// simulcast layers, and its microphone), RTMP and SRT (Debian's ffmpeg as the encoder,
// H.264 and AAC at 1280x720; the server's listener and transcoder relay it as three VP8
// simulcast layers and Opus). An in-process Orchestrator with one live session and no
// viewing point;
// per path, after a warm-up, `--repeats` windows of `--seconds`: the CPU (% of one core)
// and RSS of this process (the server), of its mediasoup workers and of the listener and
// transcoder ffmpeg the server starts for the path (this process's children, told apart
// by their arguments), and what reaches the origin per RTP stream (the producers' byte
// counts). The publishers (the simulcast hall process, ffmpeg, Chromium) are not counted.
// Recording is off, so no recorder runs. See docs/benchmarks/sip-and-ingest.md.
//
//   node --import tsx scripts/bench-ingest.ts --repeats 3 --seconds 20 --out result.json
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { io } from 'socket.io-client';
import { benchConfig } from './lib/bench-config';
import { cpuSeconds, hostAsker, runMain } from './lib/bench-hall';
import { prepareBriefing } from './lib/briefing-api';
import { launchChromium } from './lib/chromium';
import { pctOfCore, spread, streamKbps, type StreamBytes } from './lib/ingest-window';
import { whipPublish } from './lib/whip-publish';
import { startHallProcess } from './loadgen/hall-process';
import { freePort, freeUdpPort } from './loadgen/http';
import { HALL_LAYERS, preparedLayers } from './loadgen/simulcast-hall';
import { preparedClip, startAudioReplay } from './loadgen/source';
import { loadAverage, processesWhere, readMachine, readProc } from './loadgen/procstat';
import { Orchestrator } from '../server/assembly/orchestrator';
import { EmbeddedRedis } from '../server/redis/embedded-redis';

const PATHS = ['plain', 'whip', 'rtmp', 'srt'] as const;
type IngestPath = (typeof PATHS)[number];

const { values: v } = parseArgs({
  options: {
    repeats: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '15' },
    paths: { type: 'string', default: PATHS.join(',') },
    out: { type: 'string' },
  },
});
const REPEATS = Number(v.repeats);
const SECONDS = Number(v.seconds);
const WARMUP = Number(v.warmup);
const CHOSEN = v.paths!.split(',') as IngestPath[];
for (const p of CHOSEN) if (!PATHS.includes(p)) throw new Error(`--paths: ${p} is none of ${PATHS.join(', ')}`);
const ADMIN = { username: 'admin', password: 'bench-ingest-password' };
/** The encoder's picture on the RTMP and SRT paths. */
const ENCODER = { size: '1280x720', fps: 25, videoKbps: 2500 };

const log = (line: string) => process.stderr.write(`[bench-ingest] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** This process's children whose arguments pass `test`. */
const children = (test: (args: string[]) => boolean): number[] =>
  processesWhere((p) => p.ppid === process.pid && test(p.args));
const isFfmpeg = (args: string[]) => path.basename(args[0] ?? '') === 'ffmpeg';
/** The server's processes for a path: its workers, and its SRT/RTMP listener and transcoder. */
const productProcesses = () => ({
  workers: children((a) => a.some((x) => /mediasoup-worker/.test(x))),
  listener: children((a) => isFfmpeg(a) && a.includes('pipe:1')),
  transcoder: children((a) => isFfmpeg(a) && a.includes('pipe:0')),
});

type Room = NonNullable<Awaited<ReturnType<Orchestrator['realtime']['broadcasts']['get']>>['room']>;

/** Byte counts of the hall's producers (the host camera's streams, the host microphone's). */
async function hallBytes(room: Room): Promise<{ video: StreamBytes[]; audio: StreamBytes[] }> {
  const out = { video: [] as StreamBytes[], audio: [] as StreamBytes[] };
  for (const p of room.listProducers()) {
    if (p.source !== 'host-camera' && p.source !== 'host-mic') continue;
    const s = await room.getProducerStats(p.producerId).catch(() => undefined);
    out[p.kind].push(...(s?.streams ?? []).map((x) => ({ ssrc: x.ssrc, rid: x.rid, byteCount: x.byteCount })));
  }
  return out;
}

/** One window: CPU and RSS of the server, its workers and the path's relays, and what reaches the origin. */
async function measureWindow(room: Room) {
  const procs = productProcesses();
  const cpu0 = Object.fromEntries(Object.entries(procs).map(([k, ps]) => [k, ps.map(cpuSeconds)]));
  const server0 = process.cpuUsage();
  const machine0 = readMachine();
  const bytes0 = await hallBytes(room);
  const t0 = process.hrtime.bigint();
  await sleep(SECONDS * 1000);
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  const bytes1 = await hallBytes(room);
  const server = process.cpuUsage(server0);
  const machine1 = readMachine();
  const group = (k: keyof typeof procs) => ({
    processes: procs[k].length,
    cpuPct: pctOfCore(
      procs[k].reduce((a, pid, i) => a + cpuSeconds(pid) - cpu0[k]![i]!, 0),
      dt,
    ),
    rssMiB: Math.round(procs[k].reduce((a, pid) => a + (readProc(pid)?.rssBytes ?? 0), 0) / 2 ** 20),
  });
  return {
    seconds: Math.round(dt * 10) / 10,
    server: {
      cpuPct: pctOfCore((server.user + server.system) / 1e6, dt),
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    },
    workers: group('workers'),
    listener: group('listener'),
    transcoder: group('transcoder'),
    videoKbps: streamKbps(bytes0.video, bytes1.video, dt),
    audioKbps: streamKbps(bytes0.audio, bytes1.audio, dt),
    machineBusyPct: pctOfCore(machine1.busy - machine0.busy, dt),
    load1m: loadAverage()[0],
  };
}
type Window = Awaited<ReturnType<typeof measureWindow>>;

/** Debian's ffmpeg as the vision mixer's encoder: a moving test pattern and a tone, H.264 baseline and AAC. */
function encoder(protocol: 'srt' | 'rtmp', url: string): ChildProcess {
  const [w, h] = ENCODER.size.split('x');
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${w}x${h}:rate=${ENCODER.fps}`],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
    ...['-b:v', `${ENCODER.videoKbps}k`, '-g', String(ENCODER.fps * 2), '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-b:a', '128k'],
    ...(protocol === 'srt' ? ['-f', 'mpegts', `${url}&mode=caller`] : ['-f', 'flv', url]),
  ];
  return spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

interface Publishing {
  /** What the encoder sends, in words. */
  publisher: string;
  stop(): Promise<void>;
}

/** Starts a path's publisher; resolves once the hall's video producer exists at the origin. */
async function publish(
  which: IngestPath,
  ctx: { ask: ReturnType<typeof hostAsker>; room: () => Promise<Room>; browser: () => Promise<Browser>; base: string },
): Promise<Publishing> {
  const { ask } = ctx;
  const hasVideo = async () => (await ctx.room()).listProducers().some((p) => p.source === 'host-camera');
  const waitVideo = async (what: string) => {
    for (let i = 0; i < 150 && !(await hasVideo()); i++) await sleep(200);
    if (!(await hasVideo())) throw new Error(`${what}: no hall video at the origin after 30 s`);
  };
  if (which === 'plain') {
    const files = preparedLayers();
    const ssrcs = HALL_LAYERS.map((_, i) => 5_000_000 + i);
    const ingest = (await ask('ingest:plain', {
      video: { ssrc: ssrcs[0], payloadType: 101, simulcastSsrcs: ssrcs.slice(1) },
      audio: { ssrc: 6_000_000, payloadType: 100 },
      rtcpMux: false,
    })) as unknown as { ingestId: string } & Record<'video' | 'audio', { ip: string; port: number; rtcpPort?: number }>;
    const vt = ingest.video;
    const hall = await startHallProcess({
      files,
      ssrcs,
      payloadType: 101,
      target: { ip: vt.ip, port: vt.port, rtcpPort: vt.rtcpPort ?? vt.port },
    });
    const at = ingest.audio;
    const audio = startAudioReplay(preparedClip(), {
      ...at,
      rtcpPort: at.rtcpPort ?? at.port,
      ssrc: 6_000_000,
      payloadType: 100,
    });
    await waitVideo('plain');
    return {
      publisher: `VP8 simulcast ${HALL_LAYERS.map((l) => `${l.width}x${l.height} ${l.kbps} kbps`).join(', ')}, 30 fps (pre-encoded, sent from Node) + Opus (ffmpeg copying a clip)`,
      stop: async () => {
        hall.stop();
        audio.kill('SIGKILL');
        await ask('ingest:close', { ingestId: ingest.ingestId });
      },
    };
  }
  if (which === 'whip') {
    const issued = (await ask('whip:issue', {})) as unknown as { url: string; token: string };
    const page = await (await (await ctx.browser()).newContext({ bypassCSP: true })).newPage();
    await page.goto(`${ctx.base}/healthz`);
    const r = await whipPublish(page, issued.url, issued.token, { layers: 3 });
    if (r.status !== 201) throw new Error(`WHIP POST answered ${r.status}: ${r.body.slice(0, 200)}`);
    await waitVideo('whip');
    return {
      publisher:
        "Chromium's fake camera 1280x720 30 fps, VP8 simulcast q/h/f (150/500/1200 kbps caps), fake microphone (Opus)",
      stop: async () => {
        await ask('whip:stop', {});
        await page.context().close();
      },
    };
  }
  const status = (await ask(`ingest:${which}`, { open: true })) as unknown as { url: string };
  const enc = encoder(which, status.url);
  let errors = '';
  enc.stderr!.on('data', (d: Buffer) => (errors = (errors + d.toString()).slice(-1000)));
  await waitVideo(`${which} (encoder: ${errors})`);
  return {
    publisher: `Debian's ffmpeg: testsrc2 ${ENCODER.size} ${ENCODER.fps} fps, libx264 baseline ${ENCODER.videoKbps} kbps + AAC 128 kbps, ${which === 'srt' ? 'MPEG-TS over SRT (AES-128)' : 'FLV over RTMP'}`,
    stop: async () => {
      enc.kill('SIGKILL');
      await ask(`ingest:${which}`, { open: false });
    },
  };
}

/** The figures of a path over its windows: median, lowest and highest of each. */
function summary(ws: Window[]) {
  const of = (f: (w: Window) => number) => spread(ws.map(f));
  const layers = Math.max(...ws.map((w) => w.videoKbps.length));
  return {
    serverCpuPct: of((w) => w.server.cpuPct),
    workersCpuPct: of((w) => w.workers.cpuPct),
    listenerCpuPct: of((w) => w.listener.cpuPct),
    transcoderCpuPct: of((w) => w.transcoder.cpuPct),
    productTotalCpuPct: of(
      (w) => Math.round((w.server.cpuPct + w.workers.cpuPct + w.listener.cpuPct + w.transcoder.cpuPct) * 10) / 10,
    ),
    serverRssMiB: of((w) => w.server.rssMiB),
    workersRssMiB: of((w) => w.workers.rssMiB),
    relayRssMiB: of((w) => w.listener.rssMiB + w.transcoder.rssMiB),
    videoKbpsPerLayer: Array.from({ length: layers }, (_, i) => of((w) => w.videoKbps[i]?.kbps ?? 0)),
    audioKbps: of((w) => w.audioKbps.reduce((a, s) => a + s.kbps, 0)),
    machineBusyPct: of((w) => w.machineBusyPct),
  };
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ingest-'));
  const [srtPort, rtmpPort] = [await freeUdpPort(), await freePort()];
  const redis = await EmbeddedRedis.start({ dir: path.join(tmp, 'redis') });
  const config = benchConfig(tmp, ADMIN, {
    RECORDING: 'false',
    SRT_INGEST_PORTS: `${srtPort}-${srtPort}`,
    RTMP_INGEST_PORTS: `${rtmpPort}-${rtmpPort}`,
  });
  const o = await Orchestrator.create(config, pino({ level: 'warn' }), redis.url);
  const base = `http://127.0.0.1:${(await o.listen()).port}`;
  let browser: Browser | undefined;
  let current: Publishing | undefined;
  try {
    const points = (await o.control.points.all()).slice(0, 5).map((p) => p.id);
    const b = await prepareBriefing(base, points, { user: ADMIN });
    const host = io(`${base}/host`, { transports: ['websocket'], forceNew: true, extraHeaders: { cookie: b.cookie } });
    const ask = hostAsker(host);
    await ask('host:attach', { sessionId: b.sessionId });
    // A console whose socket reconnected (a loaded machine can miss a ping) is no longer
    // attached: attach it again at once.
    host.io.on('reconnect', () => {
      ask('host:attach', { sessionId: b.sessionId }).catch((err: Error) => log(`attach again: ${err.message}`));
    });
    const room = async () => (await o.realtime.broadcasts.get(b.sessionId)).requireRoom();
    const ctx = { ask, room, base, browser: async () => (browser ??= await launchChromium()) };
    const results: Record<string, unknown> = {};
    for (const which of CHOSEN) {
      log(`${which}: starting the publisher`);
      current = await publish(which, ctx);
      // Live from the first path's media on (going live needs the hall's camera or microphone).
      if (which === CHOSEN[0]) await ask('session:goLive', {});
      log(`${which}: publishing; warm-up ${WARMUP} s`);
      await sleep(WARMUP * 1000);
      const windows: Window[] = [];
      for (let r = 1; r <= REPEATS; r++) {
        const w = await measureWindow(await room());
        windows.push(w);
        log(
          `${which} ${r}/${REPEATS}: server ${w.server.cpuPct}%, workers ${w.workers.cpuPct}%, ` +
            `listener ${w.listener.cpuPct}%, transcoder ${w.transcoder.cpuPct}%, ` +
            `video ${w.videoKbps.map((s) => s.kbps).join('/')} kbps, audio ${w.audioKbps.map((s) => s.kbps).join('/')} kbps, load ${w.load1m}`,
        );
      }
      results[which] = { publisher: current.publisher, summary: summary(windows), windows };
      await current.stop();
      current = undefined;
      await sleep(3000); // the path's processes and producers go before the next one starts
    }
    await ask('session:end', {});
    host.close();
    const result = {
      at: new Date().toISOString(),
      command: `node --import tsx scripts/bench-ingest.ts ${process.argv.slice(2).join(' ')}`,
      method:
        'in-process Orchestrator, one live session, no viewing point, recording off; CPU from /proc/<pid>/stat ' +
        '(workers, listener, transcoder: this process’s children by their arguments) and process.cpuUsage() (server), ' +
        '% of one core; what reaches the origin from the host-camera and host-mic producers’ byte counts; ' +
        'the repeats are consecutive windows of one publishing run per path, after the warm-up',
      repeats: REPEATS,
      secondsPerWindow: SECONDS,
      warmupSeconds: WARMUP,
      viewingPoints: 0,
      paths: results,
      machine: {
        cores: os.cpus().length,
        model: os.cpus()[0]?.model,
        niceness: os.getPriority(),
        load1mAtEnd: loadAverage()[0],
      },
    };
    const text = `${JSON.stringify(result, null, 2)}\n`;
    if (v.out) fs.writeFileSync(v.out, text);
    process.stdout.write(text);
  } finally {
    await current?.stop().catch(() => undefined);
    await browser?.close();
    await o.stop();
    await redis.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

runMain(main);
