// The result file of scripts/bench-point-page.ts: each run of the bench (a configuration
// of the page, labelled, on the machine as it is and with its cores taken), and the figures
// over all pages of each configuration and condition. A later invocation, e.g. in a
// checkout of another configuration, adds its runs to the same file (`--merge`), and the
// figures are worked out again over all of them: a comparison comes straight from the
// script, alternating checkouts run by run. A label names one build: each run records the
// checkout it measured, and runs of another checkout are refused under a label that has
// some already, rather than pooled into its figures.
import { describeCheckout, type Checkout } from '../lib/checkout';
import { percentile, round } from './stats';

export const STAGES = [
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
export type Stage = (typeof STAGES)[number];
export type Condition = 'as-is' | 'burn';
export const CONDITIONS: readonly Condition[] = ['as-is', 'burn'];

export interface Machine {
  cpus: number;
  model: string;
  memGiB: number;
  kernel: string;
  chromium: string;
}

/** One invocation of the bench: what it measured, where, and how. */
export interface Invocation extends Checkout, Pick<MeasuredBuild, 'clientBuild'> {
  configuration: string;
  startedAt: string;
  command: string;
}

/** What a run measured: the checkout, and the client build when it was not built from it. */
export interface MeasuredBuild {
  /** Absent in results written before runs recorded it. */
  checkout?: Checkout;
  /**
   * `--no-build`: the checkout the client build served was built from (its build.json),
   * null when the build records none. Absent: built from the checkout by the run.
   */
  clientBuild?: Checkout | null;
}

export interface PageRun extends MeasuredBuild {
  configuration: string;
  condition: Condition;
  repeat: number;
  startedAt: string;
  loadAverage: number[];
  /** Whole-machine CPU during the run, % (100 per core). */
  machinePct: number;
  pages: (Partial<Record<Stage, number>> & { error?: string })[];
}

export interface Figure {
  n: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

export interface PointPageResult {
  what: string;
  percentiles: string;
  machine: Machine;
  invocations: Invocation[];
  /** By configuration, then condition. */
  summary: Record<string, Partial<Record<Condition, ConditionSummary>>>;
  runs: PageRun[];
}

export type ConditionSummary = Record<Stage, Figure> & {
  /** Each run's median first frame, in the order run. */
  runMediansFirstFrame: (number | null)[];
  /** Whole-machine CPU in each run, %. */
  machinePct: number[];
};

const WHAT =
  "the point page (/join/<token>) in Debian Chromium: N pages opened at once on a live briefing (simulcast hall, one virtual point), ms since each page's navigation, per configuration and condition (as-is: the machine as it is; burn: busy loops taking the cores)";

export function figure(v: readonly number[]): Figure {
  return {
    n: v.length,
    p50: v.length ? round(percentile(v, 50), 0) : null,
    p95: v.length ? round(percentile(v, 95), 0) : null,
    max: v.length ? Math.max(...v) : null,
  };
}

/** The figures over all pages of each configuration and condition. */
export function summarise(runs: readonly PageRun[]): PointPageResult['summary'] {
  const out: PointPageResult['summary'] = {};
  for (const configuration of [...new Set(runs.map((r) => r.configuration))]) {
    out[configuration] = {};
    for (const condition of CONDITIONS) {
      const mine = runs.filter((r) => r.configuration === configuration && r.condition === condition);
      if (mine.length === 0) continue;
      const pages = mine.flatMap((r) => r.pages);
      const s = {} as Record<Stage, Figure>;
      for (const st of STAGES) s[st] = figure(pages.flatMap((p) => (typeof p[st] === 'number' ? [p[st]] : [])));
      out[configuration][condition] = {
        ...s,
        runMediansFirstFrame: mine.map((r) => figure(r.pages.flatMap((p) => p.firstFrame ?? [])).p50),
        machinePct: mine.map((r) => r.machinePct),
      };
    }
  }
  return out;
}

/** A new result of one invocation's runs. */
export function newResult(machine: Machine, invocation: Invocation, runs: PageRun[]): PointPageResult {
  return {
    what: WHAT,
    percentiles: 'nearest rank over all pages of a configuration and condition',
    machine,
    invocations: [invocation],
    summary: summarise(runs),
    runs,
  };
}

export type MergeRefusal = 'not_a_result' | 'other_machine' | 'other_build';

/** Why runs cannot join a result file, with a code a caller can tell apart. */
export class MergeRefused extends Error {
  constructor(
    readonly code: MergeRefusal,
    message: string,
  ) {
    super(`merge refused (${code}): ${message}`);
    this.name = 'MergeRefused';
  }
}

/** A result file as read: older ones may lack what this bench writes now. */
type Mergeable = Partial<PointPageResult> & Pick<PointPageResult, 'runs' | 'invocations' | 'machine'>;

/** The build a run measured, in words. */
export function buildOf(r: MeasuredBuild): string {
  const page = r.clientBuild === undefined ? '' : `, its page from the build of ${describeCheckout(r.clientBuild)}`;
  return `${describeCheckout(r.checkout)}${page}`;
}

/** Whether two runs measured the same build. */
export function sameBuild(a: MeasuredBuild, b: MeasuredBuild): boolean {
  return buildKey(a) === buildKey(b);
}

/** Equal for two runs of the same build (whole commits, not the words' short ones). */
function buildKey(r: MeasuredBuild): string {
  const at = (c: Checkout | null | undefined) => (c ? [c.commit, c.dirty, c.diff ?? ''] : null);
  return JSON.stringify([at(r.checkout), r.clientBuild === undefined ? 'built by the run' : at(r.clientBuild)]);
}

/**
 * The earlier result (`--merge`) checked for runs to join it: refused when the file is not
 * this bench's result, was measured on another machine (figures of two machines side by
 * side compare nothing), or when a label of the runs already has runs of another build
 * (or of one its runs do not record): pooled, a label's figures would mix two builds and
 * name neither. Another label keeps both, side by side.
 */
export function checkMergeable(
  earlier: unknown,
  machine: Machine,
  runs: readonly Pick<PageRun, 'configuration' | 'checkout' | 'clientBuild'>[],
): Mergeable {
  const e = earlier as Partial<PointPageResult> | null;
  if (!e || typeof e !== 'object' || !Array.isArray(e.runs) || !Array.isArray(e.invocations) || !e.machine)
    throw new MergeRefused(
      'not_a_result',
      'the file is not a result of bench-point-page (no runs, invocations or machine)',
    );
  const differs = (Object.keys(machine) as (keyof Machine)[]).filter((k) => e.machine![k] !== machine[k]);
  if (differs.length > 0)
    throw new MergeRefused('other_machine', `the file was measured on another machine (${differs.join(', ')} differ)`);
  for (const r of runs) {
    const other = e.runs.find((x) => x.configuration === r.configuration && buildKey(x) !== buildKey(r));
    if (other)
      throw new MergeRefused(
        'other_build',
        `label "${r.configuration}" has runs of ${buildOf(other)}; these are of ${buildOf(r)}: give them a label of their own`,
      );
  }
  return e as Mergeable;
}

/** An earlier result (`--merge`) with one more invocation's runs added, its figures worked out again. */
export function mergeResult(
  earlier: unknown,
  machine: Machine,
  invocation: Invocation,
  runs: PageRun[],
): PointPageResult {
  const e = checkMergeable(earlier, machine, runs);
  const all = [...e.runs, ...runs];
  return {
    what: e.what ?? WHAT,
    percentiles: e.percentiles ?? 'nearest rank over all pages of a configuration and condition',
    machine: e.machine,
    invocations: [...e.invocations, invocation],
    summary: summarise(all),
    runs: all,
  };
}
