// The point page bench's result file (scripts/loadgen/point-page-result.ts): runs of two
// configurations, made by two invocations, end in one file with figures per configuration
// and condition over all their pages; a file of another machine or not of this bench is
// refused rather than mixed in.
import {
  mergeResult,
  newResult,
  type Invocation,
  type Machine,
  type PageRun,
} from '../../scripts/loadgen/point-page-result';

const machine: Machine = { cpus: 2, model: 'AMD EPYC', memGiB: 7.8, kernel: '6.1', chromium: 'Chromium 120' };
const invocation = (configuration: string): Invocation => ({
  configuration,
  commit: 'abc',
  dirty: false,
  startedAt: '2026-12-01T18:00:00.000Z',
  command: `bench --label ${configuration}`,
});
const run = (configuration: string, condition: 'as-is' | 'burn', frames: number[]): PageRun => ({
  configuration,
  condition,
  repeat: 0,
  startedAt: '2026-12-01T18:00:00.000Z',
  loadAverage: [1, 1, 1],
  machinePct: 150,
  pages: frames.map((firstFrame) => ({ script: firstFrame - 1000, firstFrame })),
});

test('a merged invocation adds its runs, and the figures are over all pages of each configuration', () => {
  const first = newResult(machine, invocation('before'), [
    run('before', 'as-is', [3000, 3200]),
    run('before', 'burn', [5000]),
  ]);
  const again = JSON.parse(JSON.stringify(first)) as unknown;
  const merged = mergeResult(again, machine, invocation('after'), [run('after', 'as-is', [2000, 2600, 2400])]);
  expect(merged.invocations.map((i) => i.configuration)).toEqual(['before', 'after']);
  expect(merged.runs).toHaveLength(3);
  expect(merged.summary.before?.['as-is']?.firstFrame).toEqual({ n: 2, p50: 3000, p95: 3200, max: 3200 });
  expect(merged.summary.before?.burn?.firstFrame).toEqual({ n: 1, p50: 5000, p95: 5000, max: 5000 });
  expect(merged.summary.after?.['as-is']?.firstFrame).toEqual({ n: 3, p50: 2400, p95: 2600, max: 2600 });
  expect(merged.summary.after?.['as-is']?.script).toEqual({ n: 3, p50: 1400, p95: 1600, max: 1600 });
  expect(merged.summary.after?.['as-is']?.runMediansFirstFrame).toEqual([2400]);
  expect(merged.summary.after?.burn).toBeUndefined();
});

test('a result of another machine, or a file that is not a result, is refused', () => {
  const other = newResult({ ...machine, cpus: 4 }, invocation('before'), [run('before', 'as-is', [3000])]);
  expect(() => mergeResult(other, machine, invocation('after'), [])).toThrow('another machine (cpus differ)');
  expect(() => mergeResult({ runs: [] }, machine, invocation('after'), [])).toThrow('not a result of bench-point-page');
  expect(() => mergeResult(null, machine, invocation('after'), [])).toThrow('not a result of bench-point-page');
});
