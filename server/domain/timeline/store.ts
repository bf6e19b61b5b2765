// The timeline of a session in Redis, kept as long as the session is (deleted with it).
//
// Keys (s = session id):
//   timeline:<s>        list   TimelineEntry JSON, in the order written
//   timeline:<s>:last   hash   what each kind of entry last said (agenda index, video/audio
//                              paused, slides, floor holder, hall source, state), so an entry that
//                              changes nothing is not written: a host pressing twice, or
//                              every node of a cluster seeing the same change, records once
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { TimelineEntrySchema, type TimelineEntry } from '../../contract/timeline';

export const TIMELINE_KEYS = {
  entries: (s: string) => `timeline:${s}`,
  last: (s: string) => `timeline:${s}:last`,
} as const;

// KEYS: entries, last; ARGV: field, value, default, holder ('' for any), JSON.
// Appends unless the field already says `value`; with a holder, only while the field says
// the holder (a floor ends only for the point that held it). Returns 1 when appended.
const APPEND = `
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if not cur then cur = ARGV[3] end
if ARGV[4] ~= '' and cur ~= ARGV[4] then return 0 end
if cur == ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[1], ARGV[5])
return 1
`;

/** What an entry changes: the field it sets, the value, the field's value before anything. */
function slot(e: TimelineEntry): { field: string; value: string; initial: string; holder: string } {
  switch (e.type) {
    case 'state':
      return { field: 'state', value: e.to, initial: '', holder: '' };
    case 'agenda':
      return { field: 'agenda', value: `${e.index}:${e.itemId}`, initial: '', holder: '' };
    case 'pause':
      return { field: `paused:${e.kind}`, value: e.paused ? '1' : '0', initial: '0', holder: '' };
    case 'slides':
      return { field: 'slides', value: e.on ? '1' : '0', initial: '0', holder: '' };
    case 'floor':
      return e.granted
        ? { field: 'floor', value: e.pointId, initial: '', holder: '' }
        : { field: 'floor', value: '', initial: '', holder: e.pointId };
    case 'hall':
      return { field: 'hall', value: e.source ?? '', initial: '', holder: '' };
  }
}

export class TimelineStore {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  /** Appends the entry unless it changes nothing; true when written. */
  async append(sessionId: string, entry: TimelineEntry): Promise<boolean> {
    const e = TimelineEntrySchema.parse(entry);
    const s = slot(e);
    const written = await this.redis.eval(
      APPEND,
      2,
      TIMELINE_KEYS.entries(sessionId),
      TIMELINE_KEYS.last(sessionId),
      s.field,
      s.value,
      s.initial,
      s.holder,
      JSON.stringify(e),
    );
    return written === 1;
  }

  /** Every entry, oldest written first; one that does not read back is logged and skipped. */
  async list(sessionId: string): Promise<TimelineEntry[]> {
    const raw = await this.redis.lrange(TIMELINE_KEYS.entries(sessionId), 0, -1);
    const out: TimelineEntry[] = [];
    for (const r of raw) {
      let json: unknown;
      try {
        json = JSON.parse(r);
      } catch {
        json = undefined;
      }
      const parsed = TimelineEntrySchema.safeParse(json);
      if (parsed.success) out.push(parsed.data);
      else this.logger.warn({ sessionId, entry: r.slice(0, 200) }, 'unreadable timeline entry skipped');
    }
    return out;
  }
}
