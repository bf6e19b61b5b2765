// A pino logger whose lines a test reads back: what the server warned about, with fields.
import { Writable } from 'node:stream';
import pino, { type Level, type Logger } from 'pino';

export function capturingLogger(level: Level = 'warn'): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    }),
  );
  return { logger, lines };
}
