// The SFU's video stops as the servers this run started logged them (./spawn.ts keeps each
// one's JSON lines in a file): read once, at the run's end, line by line, up to its size then.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ServerHandle } from './spawn';
import { parseSfuLine, type SfuVideoEvent } from './video-stops';

/** Levels at which the server still writes its info lines. */
const TELLS_INFO = new Set(['info', 'debug', 'trace']);

export type SfuVideoLog = { events: SfuVideoEvent[] } | { reason: string };

/** Every stop, resume and stopped consumer's close in these servers' logs, or why there are none to read. */
export async function readSfuVideoLog(servers: ServerHandle[]): Promise<SfuVideoLog> {
  const events: SfuVideoEvent[] = [];
  for (const s of servers) {
    if (!s.log) return { reason: 'the server was not started by this run: its log is not read' };
    if (!TELLS_INFO.has(s.log.level))
      return { reason: `the server logged at ${s.log.level} (LOADGEN_LOG_LEVEL): its video stops are info` };
    try {
      // Up to the size it has now: the server still writes (under load, the workers' warnings
      // by the thousand), and the points still receive on this event loop, so a read that
      // followed the writes could trail them for minutes.
      const size = statSync(s.log.file).size;
      if (size <= s.log.from) continue;
      const input = createReadStream(s.log.file, { start: s.log.from, end: size - 1 });
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        const e = parseSfuLine(line);
        if (e) events.push(e);
      }
    } catch (e) {
      return { reason: `the server's log could not be read: ${(e as Error).message}` };
    }
  }
  return { events };
}
