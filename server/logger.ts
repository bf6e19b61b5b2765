import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/** JSON lines for machines; pino-pretty when a person watches a terminal. */
export function createLogger(log: Config['log']): Logger {
  return pino({
    level: log.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...(log.pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid' } } }
      : {}),
  });
}
