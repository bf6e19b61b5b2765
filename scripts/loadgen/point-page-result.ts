// The result file of scripts/bench-point-page.ts: each run of the bench (a configuration
// of the page, labelled, on the machine as it is and with its cores taken), and the figures
// over all pages of each configuration and condition. A later invocation, e.g. in a
// checkout of another configuration, adds its runs to the same file (`--merge`), and the
// figures are worked out again over all of them: a comparison comes straight from the
// script, alternating checkouts run by run.
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
export interface Invocation {
  configuration: string;
  commit: string;
  /** The working tree differed from the commit. */
  dirty: boolean;
  startedAt: string;
  command: string;
}

export interface PageRun {
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

/**
 * An earlier result (`--merge`) with one more invocation's runs added, its figures worked
 * out again. Refused (a clear error) when the file is not this bench's result or was
 * measured on another machine: figures of two machines side by side compare nothing.
 */
export function mergeResult(
  earlier: unknown,
  machine: Machine,
  invocation: Invocation,
  runs: PageRun[],
): PointPageResult {
  const e = earlier as Partial<PointPageResult> | null;
  if (!e || typeof e !== 'object' || !Array.isArray(e.runs) || !Array.isArray(e.invocations) || !e.machine)
    throw new Error('merge: the file is not a result of bench-point-page (no runs, invocations or machine)');
  const differs = (Object.keys(machine) as (keyof Machine)[]).filter((k) => e.machine![k] !== machine[k]);
  if (differs.length > 0)
    throw new Error(`merge: the file was measured on another machine (${differs.join(', ')} differ)`);
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
