// What recording a live briefing costs: the CPU of the recorder processes (one ffmpeg per
// recorded stream, copying without re-encoding) and the rate they write at, while the hall
// (ffmpeg over plain RTP: VP8 at the given size and bitrate, Opus) is live to N points'
// sockets. The recorder's work is per recorded stream, not per point. See docs/benchmarks.md.
//
//   node --import tsx scripts/bench-recording.ts --points 20 --seconds 60
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { io } from 'socket.io-client';
import { loadConfig } from '../server/config';
import { Orchestrator } from '../server/assembly/orchestrator';
import { EmbeddedRedis } from '../server/redis/embedded-redis';
import { prepareBriefing } from './lib/briefing-api';

const { values: v } = parseArgs({
  options: {
    points: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '60' },
    size: { type: 'string', default: '1280x720' },
    bitrate: { type: 'string', default: '1200k' },
  },
});
const POINTS = Number(v.points);
const SECONDS = Number(v.seconds);
const ADMIN = { username: 'admin', password: 'bench-recording-password' };
/** Clock ticks per second in /proc (USER_HZ, 100 on Linux). */
const TICK = 100;

/** utime + stime of a process, in seconds (0 once it is gone). */
function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return 0;
  }
}

/** The recorder processes: ffmpeg children writing under `dir`. */
function recorderPids(dir: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
        return cmd.startsWith('ffmpeg') && cmd.includes(`${dir}/`) && cmd.includes('segment');
      } catch {
        return false;
      }
    })
    .map(Number);
}

function bytesUnder(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.startsWith('seg-')) n += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return n;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-recording-'));
  const recDir = path.join(tmp, 'recordings');
  const redis = await EmbeddedRedis.start({ dir: path.join(tmp, 'redis') });
  const config = loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    RTC_LISTEN_IP: '127.0.0.1',
    RTC_PORT: '0',
    LOG_LEVEL: 'warn',
    DATA_DIR: tmp,
    RECORDING_DIR: recDir,
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
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
    type Ack = { ok: boolean; data?: Record<string, { ip: string; port: number; rtcpPort: number }> };
    const ask = async (event: string, payload: unknown) => {
      const r = (await host
        .timeout(20_000)
        .emitWithAck(event, payload)
        .catch((err: Error) => {
          throw new Error(`${event}: ${err.message}`);
        })) as Ack;
      if (!r.ok) throw new Error(`${event} failed: ${JSON.stringify(r)}`);
      return r.data!;
    };
    await ask('host:attach', { sessionId: b.sessionId });
    const ingest = await ask('ingest:plain', {
      video: { ssrc: 1111, payloadType: 101 },
      audio: { ssrc: 2222, payloadType: 100 },
    });
    const [vi, au] = [ingest.video!, ingest.audio!];
    procs.push(
      spawn(
        'ffmpeg',
        [
          ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${v.size}:rate=30`],
          ...['-f', 'lavfi', '-i', 'sine=frequency=440', '-map', '0:v', '-c:v', 'libvpx', '-b:v', v.bitrate!],
          ...['-deadline', 'realtime', '-cpu-used', '8', '-g', '60', '-ssrc', '1111', '-payload_type', '101'],
          ...['-f', 'rtp', `rtp://${vi.ip}:${vi.port}?rtcpport=${vi.rtcpPort}&pkt_size=1200`],
          ...['-map', '1:a', '-c:a', 'libopus', '-b:a', '64k', '-ssrc', '2222', '-payload_type', '100'],
          ...['-f', 'rtp', `rtp://${au.ip}:${au.port}?rtcpport=${au.rtcpPort}&pkt_size=1200`],
        ],
        { stdio: 'ignore' },
      ),
    );
    await new Promise((r) => setTimeout(r, 2000));
    await ask('session:goLive', {});
    await new Promise((r) => setTimeout(r, 3000)); // the recorders start and settle
    const pids = recorderPids(recDir);
    const cpu0 = pids.map(cpuSeconds);
    const bytes0 = bytesUnder(recDir);
    const load0 = os.loadavg()[0];
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const secs = (Date.now() - t0) / 1000;
    const cpu = pids.map((p, i) => cpuSeconds(p) - cpu0[i]!);
    const bytes = bytesUnder(recDir) - bytes0;
    const result = {
      at: new Date().toISOString(),
      points: POINTS,
      pointsConnected: sockets.filter((s) => s.connected).length,
      seconds: Math.round(secs),
      hall: { video: `VP8 ${v.size} ${v.bitrate}bps 30 fps`, audio: 'Opus 64 kbps' },
      recorders: pids.length,
      recorderCpuPercentOfCore: Math.round((cpu.reduce((a, c) => a + c, 0) / secs) * 1000) / 10,
      perRecorderCpuPercent: cpu.map((c) => Math.round((c / secs) * 1000) / 10),
      diskKiBps: Math.round(bytes / 1024 / secs),
      loadAverage1m: { before: load0, after: os.loadavg()[0] },
      cores: os.cpus().length,
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

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
