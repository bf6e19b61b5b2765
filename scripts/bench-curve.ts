// The capacity curve: load runs at several numbers of points, each repeated, with the
// simulcast hall and browser-like points; writes every run's headline figures and their
// spread per size to a results JSON and the curve to an SVG. Run on a quiet machine (each
// run records whether it was alone).
//
//   node --import tsx scripts/bench-curve.ts --curve 105,210,420,840 --repeats 3
//   … --duration 60 --out docs/results/<date>-capacity-curve.json --svg docs/capacity-curve.svg
//   … --curve 840 --keep <earlier result>: runs 840 only; the earlier result's runs of other
//     sizes are kept in the new result and the plot
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { curveSvg, type CurvePanel } from './loadgen/curve-svg';
import { headlineOf, type Headline } from './loadgen/headline';
import { runLoad } from './loadgen/run';

const ROOT = path.resolve(__dirname, '..');

interface CurveRun {
  points: number;
  repeat: number;
  startedAt: string;
  headline?: Headline;
  error?: string;
}

const FIGURES: [keyof Headline, string, string][] = [
  ['workerCpuPct', 'mediasoup workers CPU', '% of one core'],
  ['sfuUsPerPacket', 'worker CPU per forwarded packet', 'µs'],
  ['lossP95Pct', 'loss per point after recovery, p95', '%'],
  ['freezesP95', 'freezes per point, p95', 'count'],
  ['joinP95Ms', 'join to first key frame, p95', 'ms'],
  ['generatorCpuPct', 'generator CPU (the points)', '% of one core'],
];

function spread(v: number[]): { median: number; min: number; max: number } {
  const s = v.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return { median: NaN, min: NaN, max: NaN };
  const mid = Math.floor(s.length / 2);
  return { median: s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2, min: s[0]!, max: s[s.length - 1]! };
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      curve: { type: 'string', default: '105,210,420,840' },
      repeats: { type: 'string', default: '3' },
      duration: { type: 'string', default: '60' },
      out: { type: 'string' },
      svg: { type: 'string', default: path.join('docs', 'capacity-curve.svg') },
      keep: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    process.stdout.write(
      'usage: node --import tsx scripts/bench-curve.ts [--curve 105,210,420,840] [--repeats 3] [--duration 60] [--out FILE] [--svg FILE] [--keep EARLIER.json]\n',
    );
    return;
  }
  const sizes = v.curve.split(',').map((x) => Number(x.trim()));
  if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 2000))
    throw new Error('--curve takes point counts 1-2000, comma-separated');
  const repeats = Number(v.repeats);
  const duration = Number(v.duration);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error('--repeats must be 1 or more');
  if (!Number.isFinite(duration) || duration < 10) throw new Error('--duration must be at least 10 s');
  const startedAt = new Date().toISOString();
  const out = v.out ?? path.join('docs', 'results', `${startedAt.slice(0, 10)}-capacity-curve.json`);
  // An earlier result's successful runs of the sizes not measured now.
  const runs: CurveRun[] = v.keep
    ? (JSON.parse(fs.readFileSync(v.keep, 'utf8')) as { runs: CurveRun[] }).runs.filter(
        (r) => r.headline && !sizes.includes(r.points),
      )
    : [];
  const allSizes = [...new Set([...runs.map((r) => r.points), ...sizes])].sort((a, b) => a - b);
  const t0 = Date.now();
  const log = (line: string) =>
    process.stderr.write(`[curve ${((Date.now() - t0) / 1000).toFixed(0).padStart(5)}s] ${line}\n`);
  for (let rep = 1; rep <= repeats; rep++)
    for (const points of sizes) {
      log(`${points} points, repeat ${rep}/${repeats}`);
      const at = new Date().toISOString();
      try {
        const r = await runLoad({ points, duration, monitor: false, maxSeconds: 900, log });
        runs.push({ points, repeat: rep, startedAt: at, headline: headlineOf(r) });
      } catch (err) {
        runs.push({ points, repeat: rep, startedAt: at, error: (err as Error).message });
      }
      write();
    }

  function write(): void {
    const bySize = allSizes.map((points) => {
      const hs = runs.filter((r) => r.points === points && r.headline).map((r) => r.headline!);
      const figures: Record<string, { median: number; min: number; max: number }> = Object.fromEntries(
        FIGURES.map(([k]) => [k, spread(hs.map((h) => h[k] as number))]),
      );
      return { points, runs: hs.length, notAlone: hs.filter((h) => !h.alone).length, figures };
    });
    const result = {
      startedAt,
      command: `node --import tsx scripts/bench-curve.ts --curve ${sizes.join(',')} --repeats ${repeats} --duration ${duration}${v.keep ? ` --keep ${v.keep}` : ''}`,
      bySize,
      runs,
    };
    fs.mkdirSync(path.dirname(path.resolve(ROOT, out)), { recursive: true });
    fs.writeFileSync(path.resolve(ROOT, out), `${JSON.stringify(result, null, 2)}\n`);
    const panels: CurvePanel[] = FIGURES.map(([k, title, unit]) => ({
      title,
      unit,
      values: bySize.map((b) => ({
        points: b.points,
        ...b.figures[k]!,
      })),
    }));
    fs.writeFileSync(
      path.resolve(ROOT, v.svg),
      curveSvg(
        `Capacity: simulcast hall, browser-like points (${startedAt.slice(0, 10)}; runs per size ${bySize.map((b) => b.runs).join('/')})`,
        panels,
      ),
    );
  }
  process.stdout.write(`result: ${out}\nplot: ${v.svg}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench-curve failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
