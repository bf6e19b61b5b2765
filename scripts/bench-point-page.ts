// How fast a connection point's page (/join/<token>) starts and shows the hall, in Debian
// Chromium: N pages opened at once on a live briefing (the simulcast hall publishing, one
// virtual point), each timing its own stages (client/src/rtc/join-stages.ts, read by
// scripts/loadgen/chromium-points.ts), repeated on the machine as it is (`as-is`) and with
// busy loops taking the cores (`burn`: `--burn`, default one per core, at the bench's own
// niceness, killed when the bench exits or is interrupted), the two conditions alternating
// run by run. The result names the commit measured (and whether the tree had changes), the
// machine, its kernel and the Chromium. Reports per stage p50 / p95 / max over all pages of a
// condition (nearest rank) and each run's median, in ms since each page's navigation:
// HTML received, scripts requested and loaded, script started, socket connected, device
// loaded, transport created, DTLS connected, first RTP, first decoded frame.
//
//   node --import tsx scripts/bench-point-page.ts [--pages 5] [--repeats 3] [--burn 2] [--out FILE]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM } from './lib/chromium';
import type { ChromiumPageResult } from './loadgen/chromium-points';
import { readMachine } from './loadgen/procstat';
import { runLoad } from './loadgen/run';
import { percentile, round } from './loadgen/stats';

const STAGES = [
  'html',
  'scriptsRequested',
  'scriptsLoaded',
  'script',
  'socket',
  'device',
  'transport',
  'dtls',
  'firstRtp',
  'firstFrame',
] as const;
type Stage = (typeof STAGES)[number];
type Condition = 'as-is' | 'burn';
const CONDITIONS: readonly Condition[] = ['as-is', 'burn'];

/** A page's instants, ms since its navigation: its load (resource timing) and its join stages. */
function instants(p: ChromiumPageResult): Partial<Record<Stage, number>> {
  const out: Partial<Record<Stage, number>> = {};
  for (const s of STAGES) {
    const v = s === 'html' || s === 'scriptsRequested' || s === 'scriptsLoaded' ? p.load?.[s] : p.stages[s];
    if (typeof v === 'number') out[s] = round(v, 0);
  }
  return out;
}

const figure = (v: number[]) => ({
  n: v.length,
  p50: v.length ? round(percentile(v, 50), 0) : null,
  p95: v.length ? round(percentile(v, 95), 0) : null,
  max: v.length ? Math.max(...v) : null,
});

/** The busy loops running: killed when the bench exits, however it exits. */
const loopsRunning = new Set<ChildProcess>();
function killLoops(): void {
  for (const l of loopsRunning) l.kill('SIGKILL');
  loopsRunning.clear();
}
process.on('exit', killLoops);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killLoops();
    process.exit(128 + os.constants.signals[signal]);
  });
}

/** Busy loops (`sh`), one a core by default, at this process's niceness. */
function burn(n: number): void {
  for (let i = 0; i < n; i++) loopsRunning.add(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
}

/** A command's first line of output, or '' when it cannot run. */
function firstLine(cmd: string, args: string[]): string {
  try {
    return (
      execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim()
        .split('\n')[0] ?? ''
    );
  } catch {
    return '';
  }
}

/** The commit measured, and whether the working tree differed from it. */
function checkout(): { commit: string; dirty: boolean } {
  return {
    commit: firstLine('git', ['rev-parse', 'HEAD']),
    dirty: firstLine('git', ['status', '--porcelain', '--untracked-files=no']) !== '',
  };
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      pages: { type: 'string', default: '5' },
      repeats: { type: 'string', default: '3' },
      burn: { type: 'string', default: String(os.cpus().length) },
      out: { type: 'string' },
    },
  });
  const pages = Number(v.pages);
  const repeats = Number(v.repeats);
  const burners = Number(v.burn);
  const started = Date.now();
  const log = (l: string) =>
    process.stderr.write(`[bench-point-page ${((Date.now() - started) / 1000).toFixed(0)}s] ${l}\n`);
  const runs: {
    condition: Condition;
    repeat: number;
    startedAt: string;
    loadAverage: number[];
    /** Whole-machine CPU during the run, % (100 per core). */
    machinePct: number;
    pages: (Partial<Record<Stage, number>> & { error?: string })[];
  }[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const condition of CONDITIONS) {
      if (condition === 'burn') burn(burners);
      const before = readMachine();
      const t0 = Date.now();
      try {
        const r = await runLoad({
          points: 1,
          chromiumPoints: pages,
          duration: 3,
          floor: false,
          monitor: false,
          maxSeconds: 600,
          log: (l) => log(`${condition} #${repeat}: ${l}`),
        });
        const after = readMachine();
        const chromium = r.join.chromium?.perPage ?? [];
        runs.push({
          condition,
          repeat,
          startedAt: r.startedAt,
          loadAverage: os.loadavg().map((x) => round(x, 1)),
          machinePct: round(((after.busy - before.busy) / ((Date.now() - t0) / 1000)) * 100, 0),
          pages: chromium.map((p) => ({ ...instants(p), ...(p.error ? { error: p.error } : {}) })),
        });
        const ff = chromium.map((p) => p.stages.firstFrame ?? NaN).map((x) => round(x, 0));
        log(`${condition} #${repeat}: first frames ${ff.join(', ')} ms`);
      } finally {
        killLoops();
      }
    }
  }
  const summary: Record<string, Record<Stage, ReturnType<typeof figure>> & { runMediansFirstFrame: number[] }> = {};
  for (const condition of CONDITIONS) {
    const mine = runs.filter((r) => r.condition === condition);
    const all = mine.flatMap((r) => r.pages);
    const s = {} as Record<Stage, ReturnType<typeof figure>>;
    for (const st of STAGES) s[st] = figure(all.flatMap((p) => (typeof p[st] === 'number' ? [p[st]] : [])));
    summary[condition] = {
      ...s,
      runMediansFirstFrame: mine.map((r) => figure(r.pages.flatMap((p) => p.firstFrame ?? [])).p50 ?? NaN),
    };
  }
  const result = {
    startedAt: new Date(started).toISOString(),
    ...checkout(),
    machine: {
      cpus: os.cpus().length,
      model: (os.cpus()[0]?.model ?? '').trim(),
      memGiB: round(os.totalmem() / 2 ** 30, 1),
      kernel: os.release(),
      chromium: firstLine(CHROMIUM, ['--version']),
    },
    command: `node --import tsx scripts/bench-point-page.ts --pages ${pages} --repeats ${repeats} --burn ${burners}`,
    pages,
    repeats,
    burners,
    summary,
    runs,
  };
  const out =
    v.out ?? path.join('data', 'loadgen', `point-page-${result.startedAt.replace(/[:.]/g, '-').slice(0, 19)}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  const row = (c: string, st: Stage) => {
    const f = summary[c]![st];
    return `${f.p50} / ${f.p95} / ${f.max}`;
  };
  process.stdout.write(`stage | as-is p50 / p95 / max | burn p50 / p95 / max\n`);
  for (const st of STAGES) process.stdout.write(`${st} | ${row('as-is', st)} | ${row('burn', st)}\n`);
  process.stdout.write(`result: ${out}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench-point-page failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
