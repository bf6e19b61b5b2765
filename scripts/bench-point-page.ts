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
// The result (scripts/loadgen/point-page-result.ts) goes to `--out FILE` (default
// data/loadgen/point-page-<time>.json), its runs labelled with `--label` (default
// `current`). `--merge FILE` adds this invocation's runs to an earlier result instead (the
// same machine's), e.g. one made in a checkout of another configuration, and writes the whole
// back to FILE (or to `--out`): run the checkouts in turn, each merging into one file.
//
//   node --import tsx scripts/bench-point-page.ts [--pages 5] [--repeats 3] [--burn 2]
//     [--label NAME] [--out FILE | --merge FILE]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM } from './lib/chromium';
import type { ChromiumPageResult } from './loadgen/chromium-points';
import { readMachine } from './loadgen/procstat';
import { runLoad } from './loadgen/run';
import {
  CONDITIONS,
  mergeResult,
  newResult,
  STAGES,
  type Machine,
  type PageRun,
  type PointPageResult,
  type Stage,
} from './loadgen/point-page-result';
import { round } from './loadgen/stats';

/** A page's instants, ms since its navigation: its load (resource timing) and its join stages. */
function instants(p: ChromiumPageResult): Partial<Record<Stage, number>> {
  const out: Partial<Record<Stage, number>> = {};
  for (const s of STAGES) {
    const v = s === 'html' || s === 'scriptsRequested' || s === 'scriptsLoaded' ? p.load?.[s] : p.stages[s];
    if (typeof v === 'number') out[s] = round(v, 0);
  }
  return out;
}

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

/**
 * The result in `file` to merge into, checked now (mergeResult's checks, on no runs), or
 * undefined when there is no such file yet. A file that is no JSON or not mergeable fails.
 */
function readMergeable(file: string, machine: Machine): unknown {
  if (!existsSync(file)) {
    process.stderr.write(`[bench-point-page] --merge: ${file} is not there: starting it\n`);
    return undefined;
  }
  let earlier: unknown;
  try {
    earlier = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`--merge ${file}: not JSON (${(err as Error).message})`);
  }
  const probe = { configuration: '', commit: '', dirty: false, startedAt: '', command: '' };
  try {
    mergeResult(earlier, machine, probe, []);
  } catch (err) {
    throw new Error(`--merge ${file}: ${(err as Error).message}`);
  }
  return earlier;
}

/** Writes `result` to `file` whole or not at all: a temporary file, then renamed. */
function put(file: string, result: PointPageResult): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(result, null, 2)}\n`);
  renameSync(tmp, file);
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      pages: { type: 'string', default: '5' },
      repeats: { type: 'string', default: '3' },
      burn: { type: 'string', default: String(os.cpus().length) },
      out: { type: 'string' },
      label: { type: 'string', default: 'current' },
      merge: { type: 'string' },
    },
  });
  const label = v.label;
  if (!/^[\w.-]{1,40}$/.test(label)) throw new Error(`--label: letters, digits, '.', '_' or '-', 1-40 of them`);
  const machine: Machine = {
    cpus: os.cpus().length,
    model: (os.cpus()[0]?.model ?? '').trim(),
    memGiB: round(os.totalmem() / 2 ** 30, 1),
    kernel: os.release(),
    chromium: firstLine(CHROMIUM, ['--version']),
  };
  // Read and checked first (its shape, its machine): a file that cannot be merged into
  // fails before minutes of runs. A file not there yet is begun (the first of the
  // checkouts run in turn).
  if (v.merge) readMergeable(v.merge, machine);
  const pages = Number(v.pages);
  const repeats = Number(v.repeats);
  const burners = Number(v.burn);
  const started = Date.now();
  const log = (l: string) =>
    process.stderr.write(`[bench-point-page ${((Date.now() - started) / 1000).toFixed(0)}s] ${l}\n`);
  const runs: PageRun[] = [];
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
          configuration: label,
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
  const invocation = {
    configuration: label,
    ...checkout(),
    startedAt: new Date(started).toISOString(),
    command:
      `node --import tsx scripts/bench-point-page.ts --pages ${pages} --repeats ${repeats} --burn ${burners} --label ${label}` +
      (v.merge ? ` --merge ${v.merge}` : ''),
  };
  const fresh =
    v.out ?? path.join('data', 'loadgen', `point-page-${invocation.startedAt.replace(/[:.]/g, '-').slice(0, 19)}.json`);
  let result: PointPageResult;
  let out: string;
  try {
    // The file read again: another invocation may have merged into it meanwhile.
    const now = v.merge && existsSync(v.merge) ? readMergeable(v.merge, machine) : undefined;
    result = now !== undefined ? mergeResult(now, machine, invocation, runs) : newResult(machine, invocation, runs);
    out = v.out ?? v.merge ?? fresh;
  } catch (err) {
    // Changed under this run into one it cannot merge into: the runs are kept apart.
    put(fresh, newResult(machine, invocation, runs));
    throw new Error(`${(err as Error).message}; this run's result is in ${fresh}`);
  }
  put(out, result);
  process.stdout.write(`configuration | condition | stage | p50 / p95 / max (all pages of its runs)\n`);
  for (const [configuration, byCondition] of Object.entries(result.summary)) {
    for (const condition of CONDITIONS) {
      const f = byCondition[condition];
      if (!f) continue;
      for (const st of STAGES)
        process.stdout.write(`${configuration} | ${condition} | ${st} | ${f[st].p50} / ${f[st].p95} / ${f[st].max}\n`);
    }
  }
  process.stdout.write(`result: ${out}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench-point-page failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
