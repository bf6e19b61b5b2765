// The control plane at national scale: 10,000 points without media on two nodes sharing
// one Redis, health every 2 s, check-ins over a window, monitor desks watching provinces
// and districts. See docs/national-scale.md.
//
//   node --import tsx scripts/bench-national.ts --points 10000 --checkins 400000 --window 1800
//   node --import tsx scripts/bench-national.ts --points 10000 --checkins 40000 --window 180
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runNational } from './loadgen/national';

const HELP = `usage: node --import tsx scripts/bench-national.ts [options]
  --points N            points of the synthetic national registry, all invited (default 10000)
  --checkins N          delegate check-ins (default 400000)
  --window S            check-ins spread over S seconds; the measured window (default 1800)
  --generators G        generator processes sharing the points (default 2)
  --join-rate R         points joined per second, all generators (default 100)
  --province-desks N    monitor desks watching a province each (default 2)
  --district-desks N    monitor desks watching a district each (default 4)
  --out FILE            result JSON (default data/loadgen/national-<date>.json)`;

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      points: { type: 'string' },
      checkins: { type: 'string' },
      window: { type: 'string' },
      generators: { type: 'string' },
      'join-rate': { type: 'string' },
      'province-desks': { type: 'string' },
      'district-desks': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void process.stdout.write(`${HELP}\n`);
  const num = (s: string | undefined, d: number, name: string, min = 0) => {
    if (s === undefined) return d;
    const n = Number(s);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number >= ${min}`);
    return n;
  };
  const started = Date.now();
  const log = (line: string) =>
    process.stderr.write(`[national ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);
  const r = await runNational({
    points: num(v.points, 10_000, 'points', 127),
    checkins: num(v.checkins, 400_000, 'checkins'),
    windowSeconds: num(v.window, 1800, 'window', 10),
    generators: num(v.generators, 2, 'generators', 1),
    joinRate: num(v['join-rate'], 100, 'join-rate', 1),
    provinceDesks: num(v['province-desks'], 2, 'province-desks'),
    districtDesks: num(v['district-desks'], 4, 'district-desks'),
    log,
  });
  const out = v.out ?? path.join('data', 'loadgen', `national-${r.startedAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(r, null, 2)}\n`);
  process.stdout.write(`result: ${out}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench-national failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
