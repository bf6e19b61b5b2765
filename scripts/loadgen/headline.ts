// The few figures that show what a change to the media path did, taken from a load run's
// result, and a side-by-side of two such sets (scripts/bench-quick.ts).
import type { LoadResult } from './result';

export interface Headline {
  points: number;
  withKeyFrame: number;
  /** All mediasoup workers, % of one core. */
  workerCpuPct: number;
  sfuUsPerPacket: number;
  packetsPerSecond: number;
  lossP50Pct: number;
  lossP95Pct: number;
  lossWorstPct: number;
  freezesP95: number;
  pointsWithFreezes: number;
  nackedPackets: number;
  unrecovered: number;
  joinP50Ms: number;
  joinP95Ms: number;
  serverCpuPct: number;
  serverPlusWorkersRssMiB: number;
  hallCpuPct: number;
  generatorCpuPct: number;
  machineBusyPct: number;
  otherPct: number;
  alone: boolean;
  load1Before: number;
  load1After: number;
}

const n = (x: number | undefined): number => (typeof x === 'number' && Number.isFinite(x) ? x : NaN);

export function headlineOf(r: LoadResult): Headline {
  const c = r.cost;
  const fb = r.media.feedback;
  return {
    points: r.points.requested,
    withKeyFrame: r.points.withKeyFrame,
    workerCpuPct: n(c.cpuPct.workersTotal),
    sfuUsPerPacket: n(c.sfuUsPerPacket),
    packetsPerSecond: n(r.media.packetsPerSecond),
    lossP50Pct: n(r.media.lossPct.p50),
    lossP95Pct: n(r.media.lossPct.p95),
    lossWorstPct: n(r.media.lossPct.worst),
    freezesP95: n(fb?.freezesPerPoint.p95),
    pointsWithFreezes: n(fb?.pointsWithFreezes),
    nackedPackets: n(fb?.totals.nackedPackets),
    unrecovered: n(fb?.totals.unrecovered),
    joinP50Ms: n(r.join.p50),
    joinP95Ms: n(r.join.p95),
    serverCpuPct: n(c.cpuPct.server),
    serverPlusWorkersRssMiB: n(c.serverPlusWorkersRssMiB),
    hallCpuPct: n(c.cpuPct.hall),
    generatorCpuPct: n(c.cpuPct.generator),
    machineBusyPct: n(c.machineBusyPct),
    otherPct: n(c.otherPct),
    alone: c.alone,
    load1Before: n(r.machine.loadBefore[0]),
    load1After: n(r.machine.loadAfter[0]),
  };
}

const LABELS: [keyof Headline, string][] = [
  ['withKeyFrame', 'points with a key frame'],
  ['workerCpuPct', 'workers CPU (% of a core)'],
  ['sfuUsPerPacket', 'worker µs per forwarded packet'],
  ['packetsPerSecond', 'packets/s to the points'],
  ['lossP50Pct', 'loss per point p50 (%)'],
  ['lossP95Pct', 'loss per point p95 (%)'],
  ['lossWorstPct', 'loss per point worst (%)'],
  ['freezesP95', 'freezes per point p95'],
  ['pointsWithFreezes', 'points with a freeze'],
  ['nackedPackets', 'packets NACKed'],
  ['unrecovered', 'packets given up'],
  ['joinP50Ms', 'join to key frame p50 (ms)'],
  ['joinP95Ms', 'join to key frame p95 (ms)'],
  ['serverCpuPct', 'server CPU (%)'],
  ['serverPlusWorkersRssMiB', 'server+workers RSS (MiB)'],
  ['hallCpuPct', 'simulcast hall CPU (%)'],
  ['generatorCpuPct', 'generator CPU (%)'],
  ['machineBusyPct', 'machine busy (% of a core)'],
  ['otherPct', 'other processes (% of a core)'],
  ['load1Before', 'load average (1 min) before'],
];

/** A text table: each figure now and in the last recorded run (and the ratio). */
export function compareTable(now: Headline, last: { at: string; headline: Headline } | undefined): string {
  const rows: string[][] = [['figure', 'now', last ? `last (${last.at})` : 'last (none recorded)', 'now/last']];
  for (const [k, label] of LABELS) {
    const a = now[k] as number;
    const b = last ? (last.headline[k] as number) : NaN;
    const ratio = Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(2) : '';
    rows.push([label, fmt(a), last ? fmt(b) : '', ratio]);
  }
  rows.push(['run alone', now.alone ? 'yes' : 'NO', last ? (last.headline.alone ? 'yes' : 'NO') : '', '']);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2).replace(/\.?0+$/, '');
}
