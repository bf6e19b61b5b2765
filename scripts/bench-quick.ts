// A quick check for a change to the media path: 100 points for 30 s with the simulcast hall and
// browser-like points, its headline figures printed beside the last recorded ones
// (the newest docs/results/*-bench-quick.json). Not part of npm test.
//
//   npm run bench:quick                 # run and compare
//   npm run bench:quick -- --record     # and record this run as the new reference
//   npm run bench:quick -- --points 50 --duration 20
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compareTable, headlineOf, type Headline } from './loadgen/headline';
import { runLoad } from './loadgen/run';

const RESULTS = path.resolve(__dirname, '..', 'docs', 'results');

export interface QuickRecord {
  at: string;
  command: string;
  machine: { cores: number; memGiB: number; node: string; loadBefore: number[]; loadAfter: number[] };
  headline: Headline;
}

/** The newest recorded quick run, if any (file names start with the date). */
export function lastRecorded(dir = RESULTS): (QuickRecord & { file: string }) | undefined {
  const files = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('-bench-quick.json'))
        .sort()
    : [];
  const file = files[files.length - 1];
  if (!file) return undefined;
  return { ...(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as QuickRecord), file };
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      points: { type: 'string', default: '100' },
      duration: { type: 'string', default: '30' },
      record: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) {
    process.stdout.write('usage: npm run bench:quick -- [--points 100] [--duration 30] [--record]\n');
    return;
  }
  const points = Number(v.points);
  const duration = Number(v.duration);
  if (!Number.isInteger(points) || points < 1 || points > 500) throw new Error('--points must be 1-500');
  if (!Number.isFinite(duration) || duration < 5) throw new Error('--duration must be at least 5 s');
  const started = Date.now();
  const log = (line: string) =>
    process.stderr.write(`[bench:quick ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${line}\n`);
  const r = await runLoad({ points, duration, monitor: false, floor: false, maxSeconds: 600, log });
  const now = headlineOf(r);
  const last = lastRecorded();
  process.stdout.write(
    `${compareTable(now, last ? { at: `${last.at.slice(0, 16)}, ${last.file}`, headline: last.headline } : undefined)}\n`,
  );
  if (r.errors.length) process.stdout.write(`errors (${r.errors.length}): ${r.errors.slice(0, 3).join(' | ')}\n`);
  if (!now.alone) process.stdout.write('NOT ALONE: other processes took over 15 % of a core; compare with care.\n');
  if (v.record) {
    const rec: QuickRecord = {
      at: r.startedAt,
      command: `npm run bench:quick -- --points ${points} --duration ${duration}`,
      machine: {
        cores: r.machine.cores,
        memGiB: r.machine.memGiB,
        node: r.machine.node,
        loadBefore: r.machine.loadBefore,
        loadAfter: r.machine.loadAfter,
      },
      headline: now,
    };
    const out = path.join(
      RESULTS,
      `${r.startedAt.slice(0, 10)}-${r.startedAt.slice(11, 16).replace(':', '')}-bench-quick.json`,
    );
    fs.writeFileSync(out, `${JSON.stringify(rec, null, 2)}\n`);
    process.stdout.write(`recorded: ${path.relative(process.cwd(), out)}\n`);
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench:quick failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
