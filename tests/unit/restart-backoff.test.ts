// The restarts of a transcoder that ends on its own: doubling delays up to the longest,
// giving up after `max` ends in a row (an error logged), a long healthy run or a reset
// starting the count again.
import pino from 'pino';
import { RestartBackoff, TRANSCODER_RESTARTS } from '../../server/platform/restart-backoff';

function backoff(policy = { firstMs: 100, longestMs: 500, max: 4, stableMs: 10_000 }) {
  const lines: { level: number; msg: string; restart?: number; delayMs?: number; code?: number }[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  let now = 0;
  const b = new RestartBackoff('test transcoder', log, policy, () => now);
  return { b, lines, advance: (ms: number) => (now += ms) };
}

test('delays double up to the longest; after max ends in a row it gives up, with an error', () => {
  const { b, lines } = backoff();
  const delays = [];
  for (let i = 0; i < 5; i++) {
    b.started();
    delays.push(b.ended({ code: 1 }));
  }
  expect(delays).toEqual([100, 200, 400, 500, undefined]);
  expect(lines.slice(0, 4).map((l) => [l.level, l.restart, l.delayMs, l.code])).toEqual([
    [40, 1, 100, 1],
    [40, 2, 200, 1],
    [40, 3, 400, 1],
    [40, 4, 500, 1],
  ]);
  expect(lines[4]).toMatchObject({ level: 50, msg: 'test transcoder keeps ending; not restarted again' });
});

test('a failed start counts as an end', () => {
  const { b } = backoff();
  expect(b.ended()).toBe(100);
  expect(b.ended()).toBe(200);
});

test('a run that lasted stableMs was healthy: the next end is the first again', () => {
  const { b, advance } = backoff();
  b.started();
  b.ended();
  b.started();
  expect(b.ended()).toBe(200);
  b.started();
  advance(10_000);
  expect(b.ended()).toBe(100);
});

test('reset() after giving up: restarts again', () => {
  const { b } = backoff({ firstMs: 100, longestMs: 100, max: 1, stableMs: 10_000 });
  expect(b.ended()).toBe(100);
  expect(b.ended()).toBeUndefined();
  b.reset();
  expect(b.ended()).toBe(100);
});

test("the transcoders' policy gives up after about 23 s of ends in a row", () => {
  const { firstMs, longestMs, max } = TRANSCODER_RESTARTS;
  const total = Array.from({ length: max }, (_, i) => Math.min(longestMs, firstMs * 2 ** i)).reduce((a, x) => a + x);
  expect(total).toBe(23_500);
});
