// Repeated lines held to a few per window: the pure limiter with a driven clock, and the
// route from mediasoup's own `debug` instances into pino (sfu/mediasoup-log.ts) through it.
import pino from 'pino';
import { RepeatLimiter, kindOf } from '../../sfu/log-repeats';
import { REPEATS, setMediasoupLogSink } from '../../sfu/mediasoup-log';

test('a kind is its text without identifiers and numbers', () => {
  const a = kindOf('[pid:41] Insert() | higher seq but lower timestamp [ssrc:123, seq:9, timestamp:1.5]');
  const b = kindOf('[pid:7] Insert() | higher seq but lower timestamp [ssrc:77, seq:65535, timestamp:3]');
  expect(a).toBe(b);
  expect(kindOf('transport 3f2a1b4c-0d9e-4f7a-8b6c-5d4e3f2a1b0c closed')).toBe('transport <id> closed');
  expect(kindOf('x'.repeat(500))).toHaveLength(200);
});

test('the first lines of a kind pass in each window, the rest are counted and said once', () => {
  let now = 0;
  const l = new RepeatLimiter({ perWindow: 3, windowMs: 1000, now: () => now });
  const passed = Array.from({ length: 10 }, (_, i) => l.admit('k', `line ${i}`));
  expect(passed).toEqual([true, true, true, false, false, false, false, false, false, false]);
  expect(l.admit('other', 'o')).toBe(true);
  now = 999;
  expect(l.flush()).toEqual([]);
  now = 1000;
  expect(l.flush()).toEqual([{ kind: 'k', held: 7, last: 'line 9' }]);
  // A new window for both.
  expect(l.admit('k', 'again')).toBe(true);
  expect(l.flush(true)).toEqual([]);
});

test('a quiet window starts again without a flush; a kind beyond the cap shares one allowance', () => {
  let now = 0;
  const l = new RepeatLimiter({ perWindow: 1, windowMs: 100, now: () => now, maxKinds: 2 });
  expect(l.admit('a', '1')).toBe(true);
  now = 150;
  expect(l.admit('a', '2')).toBe(true);
  expect(l.admit('b', '1')).toBe(true);
  expect(l.admit('c', '1')).toBe(true);
  expect(l.admit('d', '1')).toBe(false);
  expect(l.flush(true).map((h) => [h.kind, h.held])).toEqual([['<other kinds>', 1]]);
});

/** A pino logger whose lines land in the array. */
function capture() {
  const lines: { level: number; msg: string; held?: number; mediasoup?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { logger, lines };
}

test("mediasoup's repeated warnings reach the log a few per window, then one count", () => {
  const { logger, lines } = capture();
  setMediasoupLogSink(logger, { debug: true });
  // The factory mediasoup's modules call (wrapped by sfu/mediasoup-log.ts).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const createDebug = require(require.resolve('debug', { paths: [require.resolve('mediasoup')] })) as {
    default: (ns: string) => (...a: unknown[]) => void;
  };
  const warn = createDebug.default('mediasoup:WARN:Channel');
  const debug = createDebug.default('mediasoup:Channel');
  for (let i = 0; i < 50; i++) warn(`[pid:1] Insert() | discarding it [ssrc:5, seq:${i}]`);
  for (let i = 0; i < 30; i++) debug(`request() [method:x, id:${i}]`);
  warn('[pid:1] another warning');
  expect(lines.filter((l) => l.level === 40)).toHaveLength(REPEATS.perWindow + 1);
  expect(lines.filter((l) => l.level === 20)).toHaveLength(30);
  // The log closing says what was held.
  setMediasoupLogSink(undefined);
  const held = lines.filter((l) => l.held !== undefined);
  expect(held).toEqual([expect.objectContaining({ level: 40, mediasoup: 'Channel', held: 50 - REPEATS.perWindow })]);
  expect(held[0]?.msg).toContain('seq:49');
});
