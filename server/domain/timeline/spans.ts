// From the recorded changes to what a report says: when each agenda item was on the air,
// who had the floor during it, and how much of it each point missed (away, or connected
// but lost). Pure functions of instants; the report and the recording's chapters use them.
import type { ConnectionEvent } from '../../contract/attendance';
import type { FloorSpan, ItemSpan, ReportTimeline, TimelineEntry } from '../../contract/timeline';

export interface Interval {
  from: number;
  to: number;
}

const ms = (iso: string) => Date.parse(iso);
const isoOf = (t: number) => new Date(t).toISOString();
/** Seconds, to a tenth. */
export const seconds = (from: number, to: number) => Math.max(0, Math.round((to - from) / 100) / 10);

const byInstant = <T extends { at: string }>(list: readonly T[]): T[] =>
  list
    .map((e, i) => ({ e, i }))
    .sort((a, b) => ms(a.e.at) - ms(b.e.at) || a.i - b.i)
    .map(({ e }) => e);

interface OpenItem {
  index: number;
  title: string;
  speaker: string;
  from: number;
}
interface OpenFloor {
  pointId: string;
  name: string;
  from: number;
}

/**
 * The items and floors on the air, from the entries and the session's end (or now while
 * it runs). An item runs from the host's move to it until the next move or the end.
 */
export function buildTimeline(entries: readonly TimelineEntry[], endMs: number): ReportTimeline {
  const sorted = byInstant(entries);
  const items: (OpenItem & { to: number })[] = [];
  const floors: (OpenFloor & { to: number })[] = [];
  let item: OpenItem | undefined;
  let floor: OpenFloor | undefined;
  const closeItem = (t: number) => {
    if (item) items.push({ ...item, to: t });
    item = undefined;
  };
  const closeFloor = (t: number) => {
    if (floor) floors.push({ ...floor, to: t });
    floor = undefined;
  };
  for (const e of sorted) {
    const t = ms(e.at);
    if (e.type === 'agenda') {
      closeItem(t);
      item = { index: e.index, title: e.title, speaker: e.speaker, from: t };
    } else if (e.type === 'floor') {
      if (e.granted) {
        if (floor?.pointId !== e.pointId) {
          closeFloor(t);
          floor = { pointId: e.pointId, name: e.name, from: t };
        }
      } else if (floor?.pointId === e.pointId) closeFloor(t);
    } else if (e.type === 'state' && (e.to === 'ended' || e.to === 'cancelled')) {
      closeItem(t);
      closeFloor(t);
    }
  }
  const end = Math.max(endMs, ...sorted.map((e) => ms(e.at)));
  closeItem(end);
  closeFloor(end);
  return {
    items: items.map((it): ItemSpan => ({
      index: it.index,
      title: it.title,
      speaker: it.speaker,
      startedAt: isoOf(it.from),
      endedAt: isoOf(it.to),
      seconds: seconds(it.from, it.to),
      floor: floors
        .map((f) => ({ ...f, from: Math.max(f.from, it.from), to: Math.min(f.to, it.to) }))
        .filter((f) => f.to > f.from)
        .map((f): FloorSpan => ({
          pointId: f.pointId,
          name: f.name,
          from: isoOf(f.from),
          to: isoOf(f.to),
          seconds: seconds(f.from, f.to),
        })),
    })),
    entries: sorted,
  };
}

/**
 * When a point was not following, within [fromMs, toMs]: before its first join, between a
 * leave and the next join, and while its status was `lost`.
 */
export function pointGaps(events: readonly ConnectionEvent[], fromMs: number, toMs: number): Interval[] {
  const gaps: Interval[] = [];
  let present = false;
  let lost = false;
  let gapFrom: number | null = Number.NEGATIVE_INFINITY;
  for (const e of byInstant(events)) {
    const t = ms(e.at);
    if (e.type === 'join') present = true;
    else if (e.type === 'leave') {
      present = false;
      lost = false;
    } else if (e.type === 'status') {
      if (e.status) lost = e.status.to === 'lost';
    } else continue;
    const missing = !present || lost;
    if (missing && gapFrom === null) gapFrom = t;
    else if (!missing && gapFrom !== null) {
      gaps.push({ from: gapFrom, to: t });
      gapFrom = null;
    }
  }
  if (gapFrom !== null) gaps.push({ from: gapFrom, to: Number.POSITIVE_INFINITY });
  return gaps.map((g) => ({ from: Math.max(g.from, fromMs), to: Math.min(g.to, toMs) })).filter((g) => g.to > g.from);
}

/** Seconds of each item that fall in the gaps. */
export function missedSeconds(items: readonly ItemSpan[], gaps: readonly Interval[]): number[] {
  return items.map((it) => {
    const from = ms(it.startedAt);
    const to = ms(it.endedAt);
    let total = 0;
    for (const g of gaps) total += Math.max(0, Math.min(g.to, to) - Math.max(g.from, from));
    return Math.round(total / 100) / 10;
  });
}
