import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/**
 * JSON lines for machines (on stdout, or on `destination`: a test reading the lines); pino-pretty
 * when a person watches a terminal.
 */
export function createLogger(log: Config['log'], destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: log.level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (log.pretty)
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid' } },
    });
  return destination ? pino(options, destination) : pino(options);
}
