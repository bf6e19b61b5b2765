// The soak: a long run of the load generator's points with churn (every few minutes a
// share of them leave and rejoin: new transports and consumers), the resident memory of
// the server, each mediasoup worker and Redis sampled every 10 s, and the slope of each
// (MiB per hour, least squares after the warm-up), so that a leak shows as a climb that
// churn does not explain. See docs/benchmarks/soak-and-history.md.
//
//   node --import tsx scripts/bench-soak.ts --points 420 --minutes 60 --churn 42/180 --tcp-share 0.1
//
// A tenth of the points (--tcp-share, 0-1) connect over ICE-TCP to the workers'
// WebRtcServer TCP port by default, and churn with the others, so that a leak on the TCP
// path (a connection kept after its transport closed) shows in the workers' RSS too.
// `--churn off` keeps every point connected, so a climb that churn does not explain stands
// alone. Beside RSS, the room's consumer count (`briefing_consumers` on /metrics) is
// sampled: consumers the server failed to close would show there first.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseChurn, parseShare } from './loadgen';
import { httpJson } from './loadgen/http';
import { childrenNamed, loadAverage, readProc } from './loadgen/procstat';
import { runLoad } from './loadgen/run';

const { values: v } = parseArgs({
  options: {
    points: { type: 'string', default: '420' },
    minutes: { type: 'string', default: '60' },
    churn: { type: 'string', default: '42/180' },
    'tcp-share': { type: 'string', default: '0.1' },
    'sample-seconds': { type: 'string', default: '10' },
    'warmup-minutes': { type: 'string', default: '2' },
    out: { type: 'string' },
  },
});
const positive = (s: string | undefined, name: string): number => {
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not "${s}"`);
  return n;
};
const POINTS = positive(v.points, 'points');
const MINUTES = positive(v.minutes, 'minutes');
const SAMPLE_S = positive(v['sample-seconds'], 'sample-seconds');
const WARMUP_S = Number(v['warmup-minutes']) * 60;
const churn = v.churn === 'off' ? undefined : parseChurn(v.churn!);
const TCP_SHARE = parseShare(v['tcp-share'], 'tcp-share', 0.1);

interface Series {
  key: string;
  pid: number;
  /** [seconds since the steady state began, RSS MiB] */
  samples: [number, number][];
}

/** The server the generator spawned (a node child of this process), its workers and Redis. */
function serverProcesses(): { key: string; pid: number }[] {
  const server = childrenNamed(process.pid, 'node')[0];
  if (server === undefined) return [];
  return [
    { key: 'server', pid: server },
    ...childrenNamed(server, 'mediasoup-worker').map((pid, i) => ({ key: `worker${i}`, pid })),
    ...childrenNamed(server, 'redis-server').map((pid) => ({ key: 'redis', pid })),
  ];
}

/** Least-squares slope of y over x, in y per unit of x (0 with fewer than two points). */
export function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/** The room's consumers on the server (`briefing_consumers`, summed over sessions). */
async function consumers(baseUrl: string): Promise<number | undefined> {
  const r = await httpJson<string>(`${baseUrl}/metrics`, { timeoutMs: 5000 }).catch(() => undefined);
  if (!r || typeof r.body !== 'string') return undefined;
  const values = [...r.body.matchAll(/^briefing_consumers(?:\{[^}]*\})? ([\d.e+-]+)$/gm)].map((m) => Number(m[1]));
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
}

async function main(): Promise<void> {
  const series = new Map<number, Series>();
  /** [seconds since the steady state began, consumers] */
  const consumerSamples: [number, number][] = [];
  const started = Date.now();
  const log = (line: string) =>
    process.stderr.write(`[soak ${((Date.now() - started) / 1000).toFixed(0).padStart(5)}s] ${line}\n`);
  const sample = (t: number) => {
    for (const p of serverProcesses()) {
      const s = readProc(p.pid);
      if (!s) continue;
      let ser = series.get(p.pid);
      if (!ser) series.set(p.pid, (ser = { key: p.key, pid: p.pid, samples: [] }));
      ser.samples.push([t, s.rssBytes / 2 ** 20]);
    }
  };
  const result = await runLoad({
    points: POINTS,
    duration: MINUTES * 60,
    churn,
    tcpShare: TCP_SHARE,
    floor: false,
    log,
    maxSeconds: MINUTES * 60 + 900,
    during: async ({ baseUrl }) => {
      const t0 = Date.now();
      while (Date.now() - t0 < MINUTES * 60_000) {
        const t = (Date.now() - t0) / 1000;
        sample(t);
        const c = await consumers(baseUrl);
        if (c !== undefined) consumerSamples.push([Math.round(t), c]);
        if (Math.round(t) % 300 < SAMPLE_S) {
          const now = [...series.values()].map((s) => `${s.key}=${round1(s.samples.at(-1)?.[1] ?? 0)}`);
          log(`rss MiB ${now.join(' ')} consumers ${c ?? '?'}`);
        }
        await new Promise((r) => setTimeout(r, SAMPLE_S * 1000));
      }
      return undefined;
    },
  });
  const processes = [...series.values()].map((s) => {
    const steady = s.samples.filter(([t]) => t >= WARMUP_S);
    return {
      key: s.key,
      pid: s.pid,
      samples: s.samples.length,
      rssMiB: { first: round1(s.samples[0]?.[1] ?? 0), last: round1(s.samples.at(-1)?.[1] ?? 0) },
      slopeMiBPerHour: round1(slope(steady) * 3600),
      series: s.samples.map(([t, m]) => [Math.round(t), round1(m)]),
    };
  });
  const out = {
    at: result.startedAt,
    command: `node --import tsx scripts/bench-soak.ts --points ${POINTS} --minutes ${MINUTES} --churn ${v.churn} --tcp-share ${TCP_SHARE}`,
    machine: { ...result.machine, loadAfter: loadAverage() },
    points: {
      requested: POINTS,
      receivingVideo: result.points.receivingVideo,
      starved: result.points.starved.length,
      tcp: result.points.tcp,
    },
    churn: churn
      ? { ...churn, rejoins: result.media.rejoins, disconnects: result.media.disconnects }
      : { off: true, disconnects: result.media.disconnects },
    consumers: {
      first: consumerSamples[0]?.[1],
      last: consumerSamples.at(-1)?.[1],
      max: consumerSamples.length === 0 ? undefined : Math.max(...consumerSamples.map(([, c]) => c)),
      series: consumerSamples,
    },
    media: { lossPct: result.media.lossPct, maxGapMs: result.media.maxGapMs },
    warmupSeconds: WARMUP_S,
    processes,
    errors: result.errors.slice(0, 50),
  };
  const file = v.out ?? path.join('data', 'soak', `${result.startedAt.replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  for (const p of processes)
    process.stdout.write(
      `${p.key.padEnd(8)} rss ${p.rssMiB.first} → ${p.rssMiB.last} MiB, slope ${p.slopeMiBPerHour} MiB/h\n`,
    );
  const tcp = result.points.tcp;
  process.stdout.write(
    `ICE-TCP: ${tcp.points} points, ${tcp.receivingVideo} receiving video, ${tcp.authFailures} auth failures\n`,
  );
  process.stdout.write(`consumers ${out.consumers.first} → ${out.consumers.last} (max ${out.consumers.max})\n`);
  process.stdout.write(`result: ${file}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`soak failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
