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

// The copy of `debug` that mediasoup itself resolves, whatever npm hoisted.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const createDebug = require(require.resolve('debug', { paths: [require.resolve('mediasoup')] })) as {
  default: (namespace: string) => unknown;
};

type LogFn = ((...args: unknown[]) => void) & { namespace: string; log: unknown };

let sink: Logger | undefined;
let debugEnabled = false;

export function setMediasoupLogSink(logger: Logger | undefined, opts: { debug?: boolean } = {}): void {
  sink = logger;
  debugEnabled = opts.debug ?? false;
}

function makeLogFn(namespace: string): LogFn {
  const [, second, third] = namespace.split(':');
  const level = second === 'ERROR' ? 'error' : second === 'WARN' ? 'warn' : 'debug';
  const module = level === 'debug' ? second : third;
  const fn = ((...args: unknown[]) => {
    if (!sink || (level === 'debug' && !debugEnabled)) return;
    sink[level]({ mediasoup: module ?? 'mediasoup' }, format(...args));
  }) as LogFn;
  fn.namespace = namespace;
  // mediasoup's Logger assigns console.* here after creating the instance; ignored.
  fn.log = undefined;
  return fn;
}

const originalFactory = createDebug.default;
createDebug.default = (namespace: string) =>
  namespace === 'mediasoup' || namespace.startsWith('mediasoup:') ? makeLogFn(namespace) : originalFactory(namespace);
