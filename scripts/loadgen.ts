// The load generator: plays the reference event (420 points, 18,000 check-ins) against
// an orchestrator and reports what it measured. See docs/benchmarks.md.
//
//   node --import tsx scripts/loadgen.ts --points 420 --duration 120
//   node --import tsx scripts/loadgen.ts --points 420 --checkins 18000 --checkin-window 600
//   node --import tsx scripts/loadgen.ts --url http://127.0.0.1:3000 --server-pid 1234 \
//        --admin-user admin --admin-password '…' --points 50 --ramp 10
//   node --import tsx scripts/loadgen.ts --cluster origin+2edges --points 40 --duration 20
//   node --import tsx scripts/loadgen.ts --points 20 --tcp-share 0.1 --duration 20
//   node --import tsx scripts/loadgen.ts --points 420 --chromium-points 5 --duration 60
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseClusterSpec } from './loadgen/cluster';
import { parseImpairSpec } from './loadgen/impair';
import { DEFAULTS, runLoad } from './loadgen/run';
import { drillFailure, summary } from './loadgen/summary';

const HELP = `usage: node --import tsx scripts/loadgen.ts [options]
  --points N            virtual points (default 420; the first N of the registry)
  --duration S          steady seconds after the join (default 120)
  --ramp R              join R points per second (default: a storm, all at once)
  --checkins N          delegate check-ins (default 0; the reference event: 18000)
  --checkin-window S    spread over S seconds (default 600)
  --checkin-burst       all check-ins at once (200 in flight)
  --no-media            signalling, health and check-ins only (no WebRTC, no ffmpeg)
  --light-hall          the hall as ffmpeg alone: one 640x360 VP8 layer, key-frame requests
                        ignored (default: three simulcast layers up to 1280x720 from Node,
                        answering PLI/FIR and NACK)
  --silent-points       points send no RTCP and negotiate no header extensions (default:
                        browser-like: transport-cc, receiver reports, NACK, PLI)
  --no-rtx              browser-like points offer no video/rtx: the SFU resends NACKed
                        packets on the media SSRC (default: RTX as Chromium negotiates it,
                        resends on each consumer's RTX stream)
  --tcp-share F         the share F (0-1) of the points whose media goes over ICE-TCP to
                        the WebRtcServer's TCP port (RFC 4571 frames: STUN, DTLS, SRTP),
                        spread evenly (default 0: all UDP); the result counts them
                        (points.tcp)
  --impair S:L[:R]      S % of the points on a lossy link: L % random loss each way and
                        (optionally) R kbit/s towards each point (nftables on their media
                        ports; root and nft); the result compares them with the others
  --chromium-points N   N real Chromium pages (headless, one browser) join their own points
                        at the storm's start; each page's time to its first decoded hall
                        frame is reported (join.chromium); needs media and /usr/bin/chromium
  --decrypt-every K     decrypt one packet in K after the first key frame (default 10)
  --dtls-concurrency N  DTLS handshakes the generator computes at once (default 8;
                        0: all at once, which blocks its receivers' reads for seconds)
  --cut N               cut N points' sockets mid-run (they must rejoin)
  --churn N/S           every S seconds, the next N points leave and rejoin (in turn)
  --stall N             watchdog drill: N points stop counting media at the steady
                        state's start, socket and ICE up; their watchdog must rebuild
                        each (the run exits 1 if it missed one); one that left and
                        rejoined first (--churn) is counted apart; needs media
  --workers N           mediasoup workers of a spawned server (default: cores), or of
                        each edge with --cluster (default 1)
  --cluster origin+Nedges
                        spawn a cluster instead of one server: Redis, an origin (the
                        virtual host publishes into it), N edges and a control server,
                        each a server/main.ts process on loopback; every point asks the
                        control server where to go (GET /cluster/v1/join/:token/node,
                        again before each reconnect) and connects its socket and media
                        there. The result adds CPU/RSS per node and per worker, the
                        points per edge and the pipe hop (origin workers vs edges')
  --url URL             use a running orchestrator instead of spawning one (its log is
                        not read: the video stops against the SFU's are not available)
  --server-pid PID      its process id (CPU and memory of it and its workers)
  --admin-user U --admin-password P   an admin account of that orchestrator
  --no-monitor          no /monitor client
  --agenda-every S      the host moves to the next agenda item every S seconds of the
                        steady state (agenda:go on its /host socket; default: never)
  --floor-handover      the host gives the floor to a connected point half-way through
                        and takes it back (floor:grant, floor:revoke); each action's ack
                        and the time until every point's view changed are in hostActs
  --no-floor            skip the native SRTP+send floor measurement
  --max-seconds S       hard limit of the whole run (default 3600)
  --out FILE            result JSON (default data/loadgen/<date>.json)`;

/** `N/S`: N points every S seconds, both positive whole numbers. */
export function parseChurn(spec: string): { count: number; every: number } {
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  if (!m || Number(m[1]) === 0 || Number(m[2]) === 0)
    throw new Error(`--churn must be N/S (N points every S seconds, both above 0), not "${spec}"`);
  return { count: Number(m[1]), every: Number(m[2]) };
}

/** A share between 0 and 1 (`--tcp-share 0.1`: a tenth); `d` when unset. */
export function parseShare(s: string | undefined, name: string, d: number): number {
  if (s === undefined) return d;
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
    throw new Error(`--${name} must be a share between 0 and 1 (0.1: a tenth), not "${s}"`);
  return n;
}

/** The run, then its summary; resolves to the exit code: 1 when the run failed its watchdog drill. */
function main(): Promise<number> {
  const { values: v } = parseArgs({
    options: {
      points: { type: 'string' },
      duration: { type: 'string' },
      ramp: { type: 'string' },
      checkins: { type: 'string' },
      'checkin-window': { type: 'string' },
      'checkin-burst': { type: 'boolean' },
      'no-media': { type: 'boolean' },
      'light-hall': { type: 'boolean' },
      'silent-points': { type: 'boolean' },
      'no-rtx': { type: 'boolean' },
      'tcp-share': { type: 'string' },
      impair: { type: 'string' },
      'chromium-points': { type: 'string' },
      'decrypt-every': { type: 'string' },
      'dtls-concurrency': { type: 'string' },
      cut: { type: 'string' },
      churn: { type: 'string' },
      stall: { type: 'string' },
      workers: { type: 'string' },
      cluster: { type: 'string' },
      url: { type: 'string' },
      'server-pid': { type: 'string' },
      'admin-user': { type: 'string' },
      'admin-password': { type: 'string' },
      'no-monitor': { type: 'boolean' },
      'agenda-every': { type: 'string' },
      'floor-handover': { type: 'boolean' },
      'no-floor': { type: 'boolean' },
      'max-seconds': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    return Promise.resolve(0);
  }
  const int = (s: string | undefined, d: number, name: string) => {
    if (s === undefined) return d;
    const n = Number(s);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
    return n;
  };
  const points = int(v.points, DEFAULTS.points, 'points');
  const chromiumPoints = int(v['chromium-points'], 0, 'chromium-points');
  if (chromiumPoints > 0 && v['no-media']) throw new Error('--chromium-points needs media (not with --no-media)');
  const stall = int(v.stall, 0, 'stall');
  if (stall > 0 && v['no-media']) throw new Error('--stall needs media (not with --no-media)');
  const started = Date.now();
  const log = (line: string) =>
    process.stderr.write(`[loadgen ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);
  return runLoad({
    points,
    duration: int(v.duration, DEFAULTS.duration, 'duration'),
    join: v.ramp ? { mode: 'ramp', rate: int(v.ramp, 10, 'ramp') } : { mode: 'storm' },
    checkins: int(v.checkins, 0, 'checkins'),
    checkinWindow: int(v['checkin-window'], DEFAULTS.checkinWindow, 'checkin-window'),
    checkinBurst: Boolean(v['checkin-burst']),
    media: !v['no-media'],
    lightHall: Boolean(v['light-hall']),
    silentPoints: Boolean(v['silent-points']),
    rtx: !v['no-rtx'],
    tcpShare: parseShare(v['tcp-share'], 'tcp-share', 0),
    ...(v.impair ? { impair: parseImpairSpec(v.impair) } : {}),
    ...(chromiumPoints > 0 ? { chromiumPoints } : {}),
    decryptEvery: int(v['decrypt-every'], DEFAULTS.decryptEvery, 'decrypt-every'),
    dtlsConcurrency: int(v['dtls-concurrency'], DEFAULTS.dtlsConcurrency, 'dtls-concurrency'),
    cut: int(v.cut, 0, 'cut'),
    ...(v.churn ? { churn: parseChurn(v.churn) } : {}),
    stall,
    workers: int(v.workers, DEFAULTS.workers, 'workers'),
    ...(v.cluster ? { cluster: parseClusterSpec(v.cluster, int(v.workers, 1, 'workers')) } : {}),
    ...(v.url ? { url: v.url } : {}),
    ...(v['server-pid'] ? { serverPid: int(v['server-pid'], 0, 'server-pid') } : {}),
    admin: {
      username: v['admin-user'] ?? DEFAULTS.admin.username,
      password: v['admin-password'] ?? DEFAULTS.admin.password,
    },
    monitor: !v['no-monitor'],
    ...(v['agenda-every'] || v['floor-handover']
      ? {
          hostActs: {
            agendaEverySeconds: int(v['agenda-every'], 0, 'agenda-every'),
            floorHandover: Boolean(v['floor-handover']),
          },
        }
      : {}),
    floor: !v['no-floor'],
    maxSeconds: int(v['max-seconds'], DEFAULTS.maxSeconds, 'max-seconds'),
    log,
  }).then((r) => {
    const out = v.out ?? path.join('data', 'loadgen', `${r.startedAt.replace(/[:.]/g, '-')}.json`);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(r, null, 2)}\n`);
    process.stdout.write(`${summary(r)}\nresult: ${out}\n`);
    const failed = drillFailure(r);
    if (failed) process.stderr.write(`loadgen: ${failed}\n`);
    return failed ? 1 : 0;
  });
}

if (require.main === module) {
  // Ctrl-C exits through process.exit, so that the 'exit' handlers run: the impaired
  // link's nft table and the servers' temporary log folders are removed.
  process.once('SIGINT', () => process.exit(130));
  Promise.resolve()
    .then(main)
    .then(
      (code) => process.exit(code),
      (err: unknown) => {
        process.stderr.write(`loadgen failed: ${(err as Error).stack ?? String(err)}\n`);
        process.exit(1);
      },
    );
}
