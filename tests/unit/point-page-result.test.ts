// The point page bench's result file (scripts/loadgen/point-page-result.ts): runs of two
// configurations, made by two invocations, end in one file with figures per configuration
// and condition over all their pages; a file of another machine or not of this bench is
// refused rather than mixed in, and so are runs of another build under a label that has
// runs already (a label names one build).
import type { Checkout } from '../../scripts/lib/checkout';
import {
  checkMergeable,
  MergeRefused,
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
const AT: Checkout = { commit: '9164854047258215275d8819eb0ba9b5c684b171', dirty: false };
const run = (
  configuration: string,
  condition: 'as-is' | 'burn',
  frames: number[],
  /** null: a run of an older file, which records none. */
  checkout: Checkout | null = AT,
): PageRun => ({
  configuration,
  ...(checkout ? { checkout } : {}),
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
  expect(refusal(other, [])).toBe('other_machine');
  expect(refusal({ runs: [] }, [])).toBe('not_a_result');
  expect(() => mergeResult({ runs: [] }, machine, invocation('after'), [])).toThrow('not a result of bench-point-page');
  expect(() => mergeResult(null, machine, invocation('after'), [])).toThrow('not a result of bench-point-page');
});

/** The refusal's code, or 'merged' when the runs may join the file. */
function refusal(earlier: unknown, runs: Pick<PageRun, 'configuration' | 'checkout' | 'clientBuild'>[]): string {
  try {
    checkMergeable(earlier, machine, runs);
    return 'merged';
  } catch (err) {
    if (!(err instanceof MergeRefused)) throw err;
    return err.code;
  }
}

describe('a label names one build', () => {
  const file = newResult(machine, invocation('before'), [run('before', 'as-is', [3000])]);
  const other: Checkout = { commit: '9893f0b6bf27cacca5f7c3619b4360e48605f1b5', dirty: false };
  const changed: Checkout = { ...AT, dirty: true, diff: '3fa2c1d0e9b7' };

  test('runs of the same checkout join their label; runs of another checkout join another label', () => {
    expect(refusal(file, [{ configuration: 'before', checkout: { ...AT } }])).toBe('merged');
    expect(refusal(file, [{ configuration: 'after', checkout: other }])).toBe('merged');
    const merged = mergeResult(file, machine, invocation('before'), [run('before', 'as-is', [3400])]);
    expect(merged.summary.before?.['as-is']?.firstFrame.n).toBe(2);
  });

  test('runs of another commit, of the tree with changes, or of other changes are refused under the label', () => {
    expect(refusal(file, [{ configuration: 'before', checkout: other }])).toBe('other_build');
    expect(refusal(file, [{ configuration: 'before', checkout: changed }])).toBe('other_build');
    const dirty = newResult(machine, invocation('before'), [run('before', 'as-is', [3000], changed)]);
    expect(refusal(dirty, [{ configuration: 'before', checkout: { ...changed } }])).toBe('merged');
    expect(refusal(dirty, [{ configuration: 'before', checkout: { ...changed, diff: '000000000000' } }])).toBe(
      'other_build',
    );
  });

  test('a page served from a build of another checkout (--no-build) is another build', () => {
    const prebuilt = newResult(machine, invocation('before'), [
      { ...run('before', 'as-is', [3000]), clientBuild: other },
    ]);
    expect(refusal(prebuilt, [{ configuration: 'before', checkout: AT, clientBuild: other }])).toBe('merged');
    expect(refusal(prebuilt, [{ configuration: 'before', checkout: AT }])).toBe('other_build');
    expect(refusal(prebuilt, [{ configuration: 'before', checkout: AT, clientBuild: null }])).toBe('other_build');
  });

  test('the refusal names the label and both builds, and merges nothing', () => {
    const runs = [run('before', 'burn', [4000], other)];
    expect(() => mergeResult(file, machine, invocation('before'), runs)).toThrow(
      'merge refused (other_build): label "before" has runs of 9164854 (clean); these are of 9893f0b (clean): give them a label of their own',
    );
    expect(file.runs).toHaveLength(1);
  });

  test("a label's runs that record no checkout (an older file) take no runs of a known one", () => {
    const older = newResult(machine, invocation('before'), [run('before', 'as-is', [3000], null)]);
    expect(refusal(older, [{ configuration: 'before', checkout: AT }])).toBe('other_build');
    expect(() => mergeResult(older, machine, invocation('before'), [run('before', 'as-is', [1])])).toThrow(
      'label "before" has runs of no recorded commit',
    );
  });
});
