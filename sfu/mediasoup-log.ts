// Routes mediasoup's own log lines into pino.
//
// mediasoup 3.12 logs through the `debug` package: each module creates instances named
// `mediasoup:<Module>`, `mediasoup:WARN:<Module>`, `mediasoup:ERROR:<Module>` at require
// time and pins their output to console.*. (3.14+ has setLogEventListeners; 3.12 does
// not.) We wrap debug's factory before mediasoup is first required so that every such
// instance writes to the sink set here instead, and is enabled for the levels we want.
// This module must be imported before `mediasoup` anywhere in sfu/.
import { format } from 'node:util';
import type { Logger } from 'pino';
import { RepeatLimiter, kindOf } from './log-repeats';

// The copy of `debug` that mediasoup itself resolves, whatever npm hoisted.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const createDebug = require(require.resolve('debug', { paths: [require.resolve('mediasoup')] })) as {
  default: (namespace: string) => unknown;
};

type LogFn = ((...args: unknown[]) => void) & { namespace: string; log: unknown };

type Level = 'error' | 'warn' | 'debug';

/**
 * Warnings and errors of one kind (level, module, text but for its numbers) written per
 * window. An overloaded worker warns per packet; past this, its lines are counted, and one
 * line a window says how many were held and gives the last.
 */
export const REPEATS = { perWindow: 20, windowMs: 10_000 };

let sink: Logger | undefined;
let debugEnabled = false;
let repeats = new RepeatLimiter(REPEATS);
let flushTimer: NodeJS.Timeout | undefined;

export function setMediasoupLogSink(logger: Logger | undefined, opts: { debug?: boolean } = {}): void {
  if (sink) sayHeld(true);
  sink = logger;
  debugEnabled = opts.debug ?? false;
  repeats = new RepeatLimiter(REPEATS);
  clearInterval(flushTimer);
  flushTimer = undefined;
  if (logger) {
    flushTimer = setInterval(() => sayHeld(), REPEATS.windowMs);
    flushTimer.unref();
  }
}

/** One line per kind whose window held lines back (every kind's, `all`). */
function sayHeld(all = false): void {
  for (const h of repeats.flush(all)) {
    const [level, module] = h.kind.split('\t') as [Level, string];
    sink?.[level](
      { mediasoup: module, held: h.held, windowMs: REPEATS.windowMs },
      `mediasoup: ${h.held} more like this in ${REPEATS.windowMs / 1000} s, held back; the last: ${h.last}`,
    );
  }
}

function makeLogFn(namespace: string): LogFn {
  const [, second, third] = namespace.split(':');
  const level: Level = second === 'ERROR' ? 'error' : second === 'WARN' ? 'warn' : 'debug';
  const module = (level === 'debug' ? second : third) ?? 'mediasoup';
  const fn = ((...args: unknown[]) => {
    if (!sink || (level === 'debug' && !debugEnabled)) return;
    const line = format(...args);
    // Debug lines, asked for to diagnose, all go out.
    if (level !== 'debug' && !repeats.admit(`${level}\t${module}\t${kindOf(line)}`, line)) return;
    sink[level]({ mediasoup: module }, line);
  }) as LogFn;
  fn.namespace = namespace;
  // mediasoup's Logger assigns console.* here after creating the instance; ignored.
  fn.log = undefined;
  return fn;
}

const originalFactory = createDebug.default;
createDebug.default = (namespace: string) =>
  namespace === 'mediasoup' || namespace.startsWith('mediasoup:') ? makeLogFn(namespace) : originalFactory(namespace);
