// How fast a connection point's page (/join/<token>) starts and shows the hall, in Debian
// Chromium: N pages opened at once on a live briefing (the simulcast hall publishing, one
// virtual point), each timing its own stages (client/src/rtc/join-stages.ts, read by
// scripts/loadgen/chromium-points.ts), repeated on the machine as it is (`as-is`) and with
// busy loops taking the cores (`burn`: `--burn`, default one per core, at the bench's own
// niceness), the two conditions alternating run by run. SIGINT or SIGTERM ends everything
// it started (the busy loops, the server and its workers, the hall, Chromium) before it
// exits, and its exit, however it comes, kills what is left. The client is built from the
// working tree first, unless `--no-build` (build/client as it is; its build.json says from
// what). The result names, run by run, the checkout measured (commit, whether the tree had
// changes, a digest of them) and with --no-build the client build's, the machine, its
// kernel and the Chromium. Reports per stage p50 / p95 / max over all pages of a
// condition (nearest rank) and each run's median, in ms since each page's navigation:
// HTML received, scripts requested and loaded, script started, socket connected, device
// loaded, transport created, DTLS connected, first RTP, first decoded frame.
//
// The result (scripts/loadgen/point-page-result.ts) goes to `--out FILE` (default
// data/loadgen/point-page-<time>.json), its runs labelled with `--label` (default
// `current`). `--merge FILE` adds this invocation's runs to an earlier result instead (the
// same machine's), e.g. one made in a checkout of another configuration, and writes the whole
// back to FILE (or to `--out`): run the checkouts in turn, each merging into one file. A
// label names one build: runs of another checkout under a label that has runs already are
// refused before they start (`merge refused (other_build)`), not pooled into its figures.
//
//   node --import tsx scripts/bench-point-page.ts [--pages 5] [--repeats 3] [--burn 2]
//     [--label NAME] [--out FILE | --merge FILE] [--no-build]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readBuildCheckout, readCheckout, type Checkout } from './lib/checkout';
import { CHROMIUM } from './lib/chromium';
import { exitCodeFor, parseOptions, UsageError, wholeNumber } from './lib/command-line';
import { endDescendants, killDescendantsNow } from './lib/process-tree';
import { writeWhole } from './lib/write-whole';
import type { ChromiumPageResult } from './loadgen/chromium-points';
import { readMachine } from './loadgen/procstat';
import { runLoad } from './loadgen/run';
import {
  buildOf,
  checkMergeable,
  CONDITIONS,
  mergeResult,
  MergeRefused,
  newResult,
  sameBuild,
  STAGES,
  type Machine,
  type MeasuredBuild,
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

/** The checkout the bench, its server and its client build come from. */
const ROOT = path.resolve(__dirname, '..');

/** The busy loops running: killed between runs, and when the bench exits. */
const loopsRunning = new Set<ChildProcess>();
function killLoops(): void {
  for (const l of loopsRunning) l.kill('SIGKILL');
  loopsRunning.clear();
}
/** Set once a signal came: the bench ends through its signal handler, nothing else. */
let signalled: NodeJS.Signals | undefined;
// Whatever is left, however the bench exits (an error, the runs' own exit, a signal's).
process.on('exit', () => {
  killLoops();
  killDescendantsNow();
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    // A second signal: no more waiting.
    if (signalled) return void process.exit(128 + os.constants.signals[signalled]);
    signalled = sig;
    killLoops();
    process.stderr.write(`[bench-point-page] ${sig}: stopping the server, its workers and Chromium\n`);
    // The server stops its workers and Redis in order when asked (SIGTERM); what is still
    // there after the server's own forced exit (15 s) is killed.
    void endDescendants(15_000).finally(() => process.exit(128 + os.constants.signals[sig]));
  });
}

const USAGE = `usage: node --import tsx scripts/bench-point-page.ts [options]
  --pages N        Chromium point pages opened at once per run (default 5)
  --repeats N      runs of each condition, as-is and burn alternating (default 3)
  --burn N         busy loops in the burn condition (default one per core)
  --label NAME     the runs' configuration: letters, digits, '.', '_' or '-' (default current)
  --out FILE       the result (default data/loadgen/point-page-<time>.json)
  --merge FILE     add the runs to an earlier result, written back to FILE (or --out)
  --no-build       serve build/client as it is instead of building the client first
`;

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

const CLIENT_BUILD = path.join(ROOT, 'build', 'client');

/** The client build the runs serve: `--no-build`, build/client as it is, which must be there. */
function prebuiltClient(): Checkout | null {
  const dir = CLIENT_BUILD;
  const missing = ['join.js', 'boot.js', 'preload.json'].filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length > 0)
    throw new UsageError(
      `--no-build: ${dir} has no ${missing.join(', ')}: build it first (node scripts/build-client.mjs) or leave --no-build out`,
    );
  return readBuildCheckout(dir);
}

/**
 * The result in `file` to merge into, checked now (mergeResult's checks, for this
 * invocation's label and build), or undefined when there is no such file yet (begun, in a
 * folder made for it if need be). A file that cannot be read, is no JSON or not mergeable,
 * or a path under something that is not a folder, is a bad command line (UsageError): one
 * line naming the file and what is wrong with it.
 */
function readMergeable(
  file: string,
  machine: Machine,
  incoming: Pick<PageRun, 'configuration' | keyof MeasuredBuild>,
): unknown {
  const bad = (what: string) => new UsageError(`--merge ${file}: ${what}`);
  if (!existsSync(file)) {
    let up = path.dirname(path.resolve(file));
    while (!existsSync(up)) up = path.dirname(up);
    if (!statSync(up).isDirectory()) throw bad(`is not there, and ${up} is no folder to make it in`);
    process.stderr.write(`[bench-point-page] --merge: ${file} is not there: starting it\n`);
    return undefined;
  }
  if (!statSync(file).isFile()) throw bad('is not a file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw bad(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let earlier: unknown;
  try {
    earlier = JSON.parse(text);
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message})`);
  }
  try {
    checkMergeable(earlier, machine, [incoming]);
  } catch (err) {
    if (err instanceof MergeRefused) throw bad(err.message);
    throw err;
  }
  return earlier;
}

/** Writes `result` to `file` whole or not at all. */
const put = (file: string, result: PointPageResult) => writeWhole(file, `${JSON.stringify(result, null, 2)}\n`);

async function main(): Promise<void> {
  const v = parseOptions({
    pages: { type: 'string', default: '5' },
    repeats: { type: 'string', default: '3' },
    burn: { type: 'string', default: String(os.cpus().length) },
    out: { type: 'string' },
    label: { type: 'string', default: 'current' },
    merge: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return void process.stdout.write(USAGE);
  const label = v.label;
  if (!/^[\w.-]{1,40}$/.test(label))
    throw new UsageError(`--label must be letters, digits, '.', '_' or '-', 1-40 of them, not "${label}"`);
  const pages = wholeNumber(v.pages, 'pages', 1);
  const repeats = wholeNumber(v.repeats, 'repeats', 1);
  const burners = wholeNumber(v.burn, 'burn', 0);
  const machine: Machine = {
    cpus: os.cpus().length,
    model: (os.cpus()[0]?.model ?? '').trim(),
    memGiB: round(os.totalmem() / 2 ** 30, 1),
    kernel: os.release(),
    chromium: firstLine(CHROMIUM, ['--version']),
  };
  // What the runs measure: the checkout, and the client build when it is not built from it.
  const checkout = readCheckout(ROOT);
  const measured: MeasuredBuild = { checkout, ...(v['no-build'] ? { clientBuild: prebuiltClient() } : {}) };
  if (v['no-build'] && measured.clientBuild === null)
    process.stderr.write(`[bench-point-page] --no-build: build/client records no checkout (no build.json)\n`);
  // Read and checked first (its shape, its machine, the label's build): a file that cannot
  // be merged into fails before minutes of runs. A file not there yet is begun (the first
  // of the checkouts run in turn).
  if (v.merge) readMergeable(v.merge, machine, { configuration: label, ...measured });
  const started = Date.now();
  const log = (l: string) =>
    process.stderr.write(`[bench-point-page ${((Date.now() - started) / 1000).toFixed(0)}s] ${l}\n`);
  const runs: PageRun[] = [];
  const invocationOf = () => ({
    configuration: label,
    ...checkout,
    ...(measured.clientBuild !== undefined ? { clientBuild: measured.clientBuild } : {}),
    startedAt: new Date(started).toISOString(),
    command:
      `node --import tsx scripts/bench-point-page.ts --pages ${pages} --repeats ${repeats} --burn ${burners} --label ${label}` +
      (v.merge ? ` --merge ${v.merge}` : '') +
      (v['no-build'] ? ' --no-build' : ''),
  });
  const fresh =
    v.out ??
    path.join(
      'data',
      'loadgen',
      `point-page-${new Date(started).toISOString().replace(/[:.]/g, '-').slice(0, 19)}.json`,
    );
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const condition of CONDITIONS) {
      // Stopping: no run begins (and no server or loop starts) while the tree is ended.
      if (signalled) throw new Error(`stopped by ${signalled}`);
      if (condition === 'burn') burn(burners);
      const before = readMachine();
      const t0 = Date.now();
      try {
        const r = await runLoad({
          points: 1,
          chromiumPoints: pages,
          duration: 3,
          buildClient: !v['no-build'],
          // Signals are this bench's: Playwright's handlers would exit before the server's
          // orderly shutdown (see the SIGINT/SIGTERM handlers above).
          chromiumHandleSignals: false,
          floor: false,
          monitor: false,
          maxSeconds: 600,
          log: (l) => log(`${condition} #${repeat}: ${l}`),
        });
        const after = readMachine();
        const chromium = r.join.chromium?.perPage ?? [];
        // What this run measured: the run rebuilt the client from the tree (its build.json
        // says from what, read before bundling) and started the server from it; with
        // --no-build, the tree and build/client as they are now. A tree changed during the
        // bench is not filed under the checkout it started with.
        const own: MeasuredBuild = v['no-build']
          ? { checkout: readCheckout(ROOT), clientBuild: readBuildCheckout(CLIENT_BUILD) }
          : { checkout: readBuildCheckout(CLIENT_BUILD) ?? readCheckout(ROOT) };
        if (!sameBuild(own, measured)) {
          if (runs.length > 0) put(fresh, newResult(machine, invocationOf(), runs));
          throw new MergeRefused(
            'other_build',
            `the bench began on ${buildOf(measured)}, but ${condition} #${repeat} measured ${buildOf(own)}: ` +
              `the tree changed during the bench; its runs are not pooled` +
              (runs.length > 0 ? ` (the ${runs.length} earlier runs are in ${fresh})` : ''),
          );
        }
        runs.push({
          configuration: label,
          ...own,
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
  const invocation = invocationOf();
  let result: PointPageResult;
  let out: string;
  try {
    // The file read again: another invocation may have merged into it meanwhile.
    const now =
      v.merge && existsSync(v.merge)
        ? readMergeable(v.merge, machine, { configuration: label, ...measured })
        : undefined;
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
  process.stdout.write(`measured: ${label}, ${buildOf(measured)}\nresult: ${out}\n`);
}

// Once a signal came, its handler ends the bench when everything it started is down.
main().then(
  () => {
    if (!signalled) process.exit(0);
  },
  (err: unknown) => {
    if (signalled) return;
    process.exit(exitCodeFor('bench-point-page', USAGE, err));
  },
);
