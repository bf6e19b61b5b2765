// The load run's summary (scripts/loadgen/summary.ts) on a recorded result: one line per
// concern, the watchdog's with the drill's rebuilds, and the drill's verdict (drillFailure):
// a run with `--stall N` that stalled no point, or whose watchdog left one of the points
// stalled on purpose not rebuilt, failed, and the CLI exits 1 on it; a point that left and
// rejoined (churn) before its watchdog fired is no longer stalled, and counts apart (drillVerdict).
// The fixture is a real drill, 4 points with one
// stalled on purpose (`--points 4 --stall 1 --duration 30`), its lists cut to two items
// (tests/fixtures/loadgen-result-drill.json).
import fs from 'node:fs';
import path from 'node:path';
import type { LoadResult } from '../../scripts/loadgen/result';
import { drillFailure, drillVerdict, summary } from '../../scripts/loadgen/summary';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'loadgen-result-drill.json');
const recorded = (): LoadResult => JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as LoadResult;
const watchdogLine = (r: LoadResult) =>
  summary(r)
    .split('\n')
    .find((l) => l.startsWith('watchdog:'))!;

/** The recorded drill with the watchdog's rebuilds of the points for which `keep` holds only. */
function rebuiltOnly(keep: (pointId: string) => boolean): LoadResult {
  const r = recorded();
  const w = r.media.watchdog;
  w.points = w.points.filter((p) => keep(p.pointId));
  w.rebuilds = w.points.reduce((a, p) => a + p.rebuilds.length, 0);
  w.reasons = { noPackets: 0, undecryptable: 0, drill: 0 };
  for (const p of w.points) for (const b of p.rebuilds) w.reasons[b.reason] += 1;
  return r;
}

describe('summary', () => {
  test('one line per concern, from the points to the watchdog', () => {
    const lines = summary(recorded()).split('\n');
    for (const head of [
      'points:',
      'join (storm)',
      'media:',
      'cpu over',
      'sfu:',
      'join stages',
      'memory:',
      'signalling',
    ])
      expect(lines.some((l) => l.startsWith(head))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/undefined|\[object/);
  });

  test('the watchdog line counts the drill and names the point stalled on purpose', () => {
    const line = watchdogLine(recorded());
    expect(line).toMatch(/^watchdog: 2 rebuilds at 2 points \(1 no packets, 0 undecryptable, 1 drill; 4 strikes;/);
    expect(line).toContain('1 stalled on purpose: HT-TXKA');
    expect(line).toMatch(/HT-TXKA #1 at 33\.7 s, drill, 3\/3 others receiving .* → receiving after/);
  });
});

describe('drillFailure', () => {
  test('the recorded drill passed: the watchdog rebuilt the point stalled on purpose', () => {
    expect(drillFailure(recorded())).toBeUndefined();
  });

  test('no drill: nothing to fail', () => {
    const r = rebuiltOnly(() => false);
    r.media.watchdog.drilled = [];
    r.options.stall = 0;
    expect(drillFailure(r)).toBeUndefined();
  });

  test('a drill that stalled no point (every point cut) failed', () => {
    const r = recorded();
    r.media.watchdog.drilled = [];
    expect(drillFailure(r)).toBe('watchdog drill failed: --stall 1 stalled no point (no media, or every point cut)');
  });

  test('a drill in which it rebuilt one of two points stalled on purpose failed, naming the other', () => {
    const r = recorded();
    r.media.watchdog.drilled.push('HT-OTHER');
    expect(drillFailure(r)).toBe(
      'watchdog drill failed: 1 of the 2 points stalled on purpose (--stall) not rebuilt: HT-OTHER',
    );
  });

  test('a drill in which it rebuilt none of the points stalled on purpose failed, whatever else it rebuilt', () => {
    const r = rebuiltOnly((id) => id !== 'HT-TXKA');
    expect(r.media.watchdog.rebuilds).toBe(1);
    expect(drillFailure(r)).toBe(
      'watchdog drill failed: 1 of the 1 points stalled on purpose (--stall) not rebuilt: HT-TXKA',
    );
    expect(watchdogLine(r)).toContain('0 drill');
  });
});

describe('drillVerdict: points that left and rejoined before their watchdog fired', () => {
  const rebuiltByDrill = (pointId: string) => ({
    pointId,
    receivingAfter: true,
    rebuilds: [{ atMs: 30_000, attempt: 1, reason: 'drill' as const, stalled: [] }],
  });
  const watchdog = (drilled: string[], drillLeft: string[], rebuilt: string[]) => ({
    drilled,
    drillLeft,
    points: rebuilt.map(rebuiltByDrill),
  });

  test('a point that churned out is not applicable: the others rebuilt, the drill passed', () => {
    const v = drillVerdict(watchdog(['P1', 'P2', 'P3'], ['P2'], ['P1', 'P3']), 3);
    expect(v).toEqual({ rebuilt: ['P1', 'P3'], left: ['P2'], missed: [], failure: undefined });
  });

  test('a point still stalled and not rebuilt fails the drill, the one that left said apart', () => {
    const v = drillVerdict(watchdog(['P1', 'P2', 'P3'], ['P2'], ['P1']), 3);
    expect(v.missed).toEqual(['P3']);
    expect(v.failure).toBe(
      'watchdog drill failed: 1 of the 3 points stalled on purpose (--stall) not rebuilt: P3 (1 more left and rejoined before their watchdog fired: not counted)',
    );
  });

  test('a point rebuilt by its watchdog counts as rebuilt, whatever came after', () => {
    expect(drillVerdict(watchdog(['P1'], ['P1'], ['P1']), 1)).toMatchObject({ rebuilt: ['P1'], left: [], missed: [] });
  });

  test('every point stalled on purpose left first: nothing drilled, the drill failed', () => {
    expect(drillVerdict(watchdog(['P1', 'P2'], ['P1', 'P2'], []), 2).failure).toBe(
      'watchdog drill failed: all 2 points stalled on purpose (--stall) left and rejoined before their watchdog fired (--churn): nothing drilled',
    );
  });

  test('the run that exited 1 wrongly: its stalled point churned out, the CLI verdict passes it', () => {
    const r = rebuiltOnly((id) => id !== 'HT-TXKA');
    r.media.watchdog.drilled.push('HT-LEFT');
    r.media.watchdog.drillLeft = ['HT-LEFT'];
    r.media.watchdog.points.push(rebuiltByDrill('HT-TXKA'));
    expect(drillFailure(r)).toBeUndefined();
    expect(watchdogLine(r)).toContain('1 of them left and rejoined before their watchdog fired (not drilled): HT-LEFT');
  });
});
