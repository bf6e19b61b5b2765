// The ingest benchmark's arithmetic: CPU over a window, each layer's rate from two reads of
// a producer's byte counts, and the spread over repeats.
import { pctOfCore, spread, streamKbps } from '../../scripts/lib/ingest-window';

test('CPU seconds over a window are a percentage of one core', () => {
  expect(pctOfCore(5, 20)).toBe(25);
  expect(pctOfCore(0.123, 20)).toBe(0.6);
  expect(pctOfCore(30, 20)).toBe(150);
  expect(pctOfCore(1, 0)).toBeNaN();
});

test('each stream’s rate comes from its own byte counts, lowest first', () => {
  const before = [
    { ssrc: 3, rid: 'f', byteCount: 1_000_000 },
    { ssrc: 1, rid: 'q', byteCount: 10_000 },
  ];
  const after = [
    { ssrc: 1, rid: 'q', byteCount: 10_000 + 375_000 }, // 150 kbps over 20 s
    { ssrc: 3, rid: 'f', byteCount: 1_000_000 + 3_000_000 }, // 1200 kbps
    { ssrc: 2, byteCount: 1_250_000 }, // new in the window: counted from zero, 500 kbps
  ];
  expect(streamKbps(before, after, 20)).toEqual([
    { ssrc: 1, rid: 'q', kbps: 150 },
    { ssrc: 2, kbps: 500 },
    { ssrc: 3, rid: 'f', kbps: 1200 },
  ]);
  expect(streamKbps(before, [], 20)).toEqual([]);
});

test('the spread is the median, lowest and highest of the repeats', () => {
  expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3 });
  expect(spread([4, 1, 3, 2])).toEqual({ median: 2, min: 1, max: 4 });
  expect(spread([NaN, 5])).toEqual({ median: 5, min: 5, max: 5 });
  expect(spread([])).toEqual({ median: NaN, min: NaN, max: NaN });
});
