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
  const logs: { file: string; from: number; size: number }[] = [];
  try {
    // Every log up to the size it has now, all cut at once: the servers still write (under
    // load, the workers' warnings by the thousand), and the points still receive on this
    // event loop, so a read that followed the writes could trail them for minutes.
    for (const s of servers) {
      if (!s.log) return { reason: 'the server was not started by this run: its log is not read' };
      if (!TELLS_INFO.has(s.log.level))
        return { reason: `the server logged at ${s.log.level} (LOADGEN_LOG_LEVEL): its video stops are info` };
      logs.push({ file: s.log.file, from: s.log.from, size: statSync(s.log.file).size });
    }
    const events: SfuVideoEvent[] = [];
    for (const l of logs) {
      if (l.size <= l.from) continue;
      const input = createReadStream(l.file, { start: l.from, end: l.size - 1 });
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        const e = parseSfuLine(line);
        if (e) events.push(e);
      }
    }
    return { events };
  } catch (e) {
    return { reason: `the server's log could not be read: ${(e as Error).message}` };
  }
}
