// The load generator's pure helpers for its options and reports: the impaired link's
// spec and which points go on it, and the capacity curve's plot.
import { curveSvg } from '../../scripts/loadgen/curve-svg';
import { impairedIndexes, parseImpairSpec } from '../../scripts/loadgen/impair';

test('--impair share:loss[:rate] is read and checked', () => {
  expect(parseImpairSpec('20:5:2000')).toEqual({ sharePct: 20, lossPct: 5, rateKbps: 2000 });
  expect(parseImpairSpec('10:2.5')).toEqual({ sharePct: 10, lossPct: 2.5, rateKbps: 0 });
  expect(() => parseImpairSpec('20')).toThrow(/share:loss/);
  expect(() => parseImpairSpec('120:5')).toThrow(/percentages/);
});

test('the impaired share is spread evenly over the points', () => {
  expect([...impairedIndexes(10, 20)]).toEqual([0, 5]);
  expect(impairedIndexes(100, 25).size).toBe(25);
  expect(impairedIndexes(5, 0).size).toBe(0);
  expect(impairedIndexes(7, 100).size).toBe(7);
});

test('the curve plot has a line and a spread bar per size, and escapes its text', () => {
  const svg = curveSvg('a <b> & c', [
    {
      title: 'workers',
      unit: '%',
      values: [
        { points: 105, median: 20, min: 18, max: 23 },
        { points: 210, median: 41, min: 40, max: 44 },
        { points: 420, median: NaN, min: NaN, max: NaN },
      ],
    },
  ]);
  expect(svg).toMatch(/^<svg /);
  expect(svg).toContain('a &lt;b&gt; &amp; c');
  expect(svg.match(/<polyline/g)).toHaveLength(1);
  expect(svg.match(/<circle/g)).toHaveLength(2);
  expect(svg).not.toContain('NaN');
});
