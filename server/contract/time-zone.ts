// Times of a briefing in its own zone (BRIEFING_TZ, an IANA name), on every page and in
// every file the server writes, whatever zone the browser or the server runs in. Pure
// functions over Intl, shared by the server and the pages.

export const DEFAULT_TIME_ZONE = 'Asia/Ho_Chi_Minh';

/** Whether `tz` is an IANA zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();
function format(tz: string, style: keyof typeof STYLES): Intl.DateTimeFormat {
  const key = `${tz}|${style}`;
  let f = formats.get(key);
  if (!f) formats.set(key, (f = new Intl.DateTimeFormat(STYLES[style].locale, { ...STYLES[style].o, timeZone: tz })));
  return f;
}

const STYLES = {
  /** 08:00 30/11/2026 */
  dateTime: {
    locale: 'vi-VN',
    o: { hour: '2-digit', minute: '2-digit', day: '2-digit', month: '2-digit', year: 'numeric', hourCycle: 'h23' },
  },
  /** 08:00:05 30/11/2026 */
  dateTimeSeconds: {
    locale: 'vi-VN',
    o: { hour: '2-digit', minute: '2-digit', second: '2-digit', day: '2-digit', month: '2-digit', year: 'numeric' },
  },
  /** Thứ Hai, 30 tháng 11, 2026 lúc 08:00 */
  long: { locale: 'vi-VN', o: { dateStyle: 'full', timeStyle: 'short' } },
  /** 08:00:05 */
  time: { locale: 'vi-VN', o: { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' } },
  /** The parts of an instant, for datetime-local values and offsets. */
  parts: {
    locale: 'en-US',
    o: {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    },
  },
} satisfies Record<string, { locale: string; o: Intl.DateTimeFormatOptions }>;

export type TimeStyle = Exclude<keyof typeof STYLES, 'parts'>;

/** `iso` (or epoch ms) shown in `tz`; '—' for nothing. */
export function formatInZone(
  iso: string | number | null | undefined,
  tz: string,
  style: TimeStyle = 'dateTime',
): string {
  if (iso === null || iso === undefined || iso === '') return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : format(tz, style).format(d);
}

function wallClock(ms: number, tz: string): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const p = Object.fromEntries(
    format(tz, 'parts')
      .formatToParts(new Date(ms))
      .map((x) => [x.type, Number(x.value)]),
  );
  return { y: p.year!, mo: p.month!, d: p.day!, h: p.hour! % 24, mi: p.minute!, s: p.second! };
}

/** How far `tz` is ahead of UTC at the instant `ms`, in minutes. */
export function zoneOffsetMinutes(ms: number, tz: string): number {
  const w = wallClock(ms, tz);
  const asUtc = Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

/** "Asia/Ho_Chi_Minh, UTC+7": the zone the times are given in, said beside them. */
export function zoneLabel(tz: string, ms = Date.now()): string {
  const off = zoneOffsetMinutes(ms, tz);
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  const hm = a % 60 ? `${Math.floor(a / 60)}:${String(a % 60).padStart(2, '0')}` : String(a / 60);
  return `${tz}, UTC${sign}${hm}`;
}

/** A `datetime-local` value (wall clock in `tz`) for an instant. */
export function toZoneInput(iso: string, tz: string): string {
  const w = wallClock(Date.parse(iso), tz);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${w.y}-${pad(w.mo)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}`;
}

/** The instant (ISO) of a `datetime-local` value read as wall clock in `tz`; undefined if not a time. */
export function fromZoneInput(value: string, tz: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map((x) => Number(x ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  // The offset at the guess, then at the corrected instant (a change of offset between them).
  let ms = wall - zoneOffsetMinutes(wall, tz) * 60_000;
  ms = wall - zoneOffsetMinutes(ms, tz) * 60_000;
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
