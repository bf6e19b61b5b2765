// What recording a live briefing costs: the CPU of the recorder processes (one ffmpeg per
// recorded stream, copying without re-encoding) and the rate they write at, while the hall
// (ffmpeg over plain RTP: VP8 at the given size and bitrate, Opus) is live to N points'
// sockets. The recorder's work is per recorded stream, not per point. See
// docs/benchmarks/recording-and-archive.md.
//
//   node --import tsx scripts/bench-recording.ts --points 20 --seconds 60
//
// With --media-points N the load is the real one instead: the load generator
// (scripts/loadgen.ts) runs N WebRTC points receiving the hall from a server it spawns,
// with recording on as for any live session, and the recorders of that server are
// measured through its steady state, beside the loadgen's own figures (worker CPU, loss).
//
//   node --import tsx scripts/bench-recording.ts --media-points 420 --seconds 60
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { io } from 'socket.io-client';
import { benchConfig } from './lib/bench-config';
import { Orchestrator } from '../server/assembly/orchestrator';
import { EmbeddedRedis } from '../server/redis/embedded-redis';
import { cpuSeconds, feedPlainHall, hostAsker, runMain } from './lib/bench-hall';
import { prepareBriefing } from './lib/briefing-api';
import { processesWhere } from './loadgen/procstat';

const { values: v } = parseArgs({
  options: {
    points: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '60' },
    size: { type: 'string', default: '1280x720' },
    bitrate: { type: 'string', default: '1200k' },
    'media-points': { type: 'string' },
  },
});
const POINTS = Number(v.points);
const SECONDS = Number(v.seconds);
const ADMIN = { username: 'admin', password: 'bench-recording-password' };
/** The recorder processes (ffmpeg writing segments) under `dir`, or anywhere when unset. */
function recorderPids(dir?: string): number[] {
  // The server starts ffmpeg by its full path (server/platform/tied-spawn.ts).
  return processesWhere(
    ({ args }) =>
      path.basename(args[0] ?? '') === 'ffmpeg' &&
      args.includes('-segment_list') &&
      (dir === undefined || args.some((x) => x.includes(`${dir}/`))),
  );
}

/** The folder a recorder writes its segments to (the directory of its last argument). */
function recorderDir(pid: number): string | undefined {
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return path.dirname(args[args.length - 1]!);
  } catch {
    return undefined;
  }
}

function bytesUnder(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.startsWith('seg-')) n += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return n;
}

/** Recorders' CPU and disk rate over SECONDS, given their pids and folders. */
async function measureRecorders(pids: number[], dirs: string[]) {
  const cpu0 = pids.map(cpuSeconds);
  const bytesNow = () => dirs.reduce((a, d) => a + (fs.existsSync(d) ? bytesUnder(d) : 0), 0);
  const bytes0 = bytesNow();
  const load0 = os.loadavg()[0];
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const secs = (Date.now() - t0) / 1000;
  const cpu = pids.map((p, i) => cpuSeconds(p) - cpu0[i]!);
  return {
    seconds: Math.round(secs),
    recorders: pids.length,
    recorderCpuPercentOfCore: Math.round((cpu.reduce((a, c) => a + c, 0) / secs) * 1000) / 10,
    perRecorderCpuPercent: cpu.map((c) => Math.round((c / secs) * 1000) / 10),
    diskKiBps: Math.round((bytesNow() - bytes0) / 1024 / secs),
    loadAverage1m: { before: load0, after: os.loadavg()[0] },
    cores: os.cpus().length,
  };
}

/**
 * The real load: the load generator's run with N media points; the recorders of the
 * server it spawns are measured once every point has joined.
 */
async function withMediaPoints(n: number): Promise<void> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-recording-')), 'loadgen.json');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/loadgen.ts', '--points', String(n), '--duration', String(SECONDS + 15)].concat([
      '--no-floor',
      '--out',
      out,
    ]),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? 1)));
  let measured: Awaited<ReturnType<typeof measureRecorders>> | undefined;
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => {
    process.stderr.write(d);
    buf += d.toString();
    if (measured || !/joined: \d+\/\d+/.test(buf)) return;
    buf = '';
    const pids = recorderPids();
    const dirs = [...new Set(pids.map(recorderDir).filter((d): d is string => !!d))];
    process.stderr.write(`[bench-recording] measuring ${pids.length} recorders for ${SECONDS} s\n`);
    void measureRecorders(pids, dirs).then((m) => (measured = m));
  });
  const code = await exited;
  if (code !== 0) throw new Error(`loadgen exited with ${code}`);
  if (!measured) throw new Error('the loadgen ended before its points joined: nothing measured');
  const load = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, Record<string, unknown>>;
  const media = load['media'] ?? {};
  const result = {
    at: new Date().toISOString(),
    mediaPoints: n,
    hall: "the load generator's hall (see its result)",
    ...measured,
    loadgen: {
      out,
      points: load['points'],
      join: load['join'],
      cost: load['cost'],
      machine: load['machine'],
      media: { lossPct: media['lossPct'], maxGapMs: media['maxGapMs'], packetsPerSecond: media['packetsPerSecond'] },
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

async function main(): Promise<void> {
  if (v['media-points']) return withMediaPoints(Number(v['media-points']));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-recording-'));
  const recDir = path.join(tmp, 'recordings');
  const redis = await EmbeddedRedis.start({ dir: path.join(tmp, 'redis') });
  const config = benchConfig(tmp, ADMIN, {
    RECORDING_DIR: recDir,
  });
  const o = await Orchestrator.create(config, pino({ level: 'warn' }), redis.url);
  const port = (await o.listen()).port;
  const base = `http://127.0.0.1:${port}`;
  const procs: ReturnType<typeof spawn>[] = [];
  try {
    const points = (await o.control.points.all()).slice(0, POINTS).map((p) => p.id);
    const b = await prepareBriefing(base, points, { user: ADMIN });
    const sockets = b.links.map((l) =>
      io(`${base}/point`, { transports: ['websocket'], auth: { token: l.token }, reconnection: false }),
    );
    const host = io(`${base}/host`, {
      transports: ['websocket'],
      forceNew: true, // its own connection: a shared one would carry the points' headers
      extraHeaders: { cookie: b.cookie },
    });
    host.on('connect_error', (err) => process.stderr.write(`host socket refused: ${err.message}\n`));
    const ask = hostAsker(host);
    await ask('host:attach', { sessionId: b.sessionId });
    procs.push(await feedPlainHall(ask, { size: v.size!, bitrate: v.bitrate! }));
    await new Promise((r) => setTimeout(r, 2000));
    await ask('session:goLive', {});
    await new Promise((r) => setTimeout(r, 3000)); // the recorders start and settle
    const m = await measureRecorders(recorderPids(recDir), [recDir]);
    const result = {
      at: new Date().toISOString(),
      points: POINTS,
      pointsConnected: sockets.filter((s) => s.connected).length,
      hall: { video: `VP8 ${v.size} ${v.bitrate}bps 30 fps`, audio: 'Opus 64 kbps' },
      ...m,
    };
    await ask('session:end', {});
    for (const s of sockets) s.close();
    host.close();
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await o.stop();
    await redis.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

runMain(main);
