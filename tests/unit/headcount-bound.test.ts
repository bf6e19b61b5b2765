import { checkinCap, headcountLimit, judgeHeadcount } from '../../server/domain/attendance/headcount-bound';

describe('headcount bound', () => {
  test.each([
    // count, expected, accepted, outlier
    [0, 60, true, false],
    [60, 60, true, false],
    [72, 60, true, false],
    [73, 60, true, true],
    [120, 60, true, true],
    [121, 60, false, true],
    [100_000, 60, false, true],
    [30, 20, true, false],
    [31, 20, true, true],
    [70, 20, true, true],
    [71, 20, false, true],
    [50, 0, true, true],
    [51, 0, false, true],
    [10, 0, true, false],
  ])('%i reported, %i expected: accepted %s, flagged %s', (count, expected, accepted, outlier) => {
    expect(judgeHeadcount(count, expected)).toEqual({ accepted, outlier, limit: headcountLimit(expected) });
  });

  test('the whole province cannot be inflated more than about twofold', () => {
    // 420 points, 18,240 expected: every point at its limit.
    const expected = [150, ...Array<number>(419).fill(43)];
    const most = expected.reduce((n, e) => n + headcountLimit(e), 0);
    expect(most).toBeLessThan(18_240 * 2.5);
  });
});

describe('check-in cap', () => {
  test.each([
    // expected, margin %, cap
    [60, 10, 66],
    [61, 10, 68],
    [3, 10, 5],
    [0, 10, 2],
    [60, 0, 62],
    [100, 50, 150],
  ])('%i expected with a %i %% margin: at most %i', (expected, margin, cap) => {
    expect(checkinCap(expected, margin)).toBe(cap);
  });
});
