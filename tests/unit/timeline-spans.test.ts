import type { ConnectionEvent } from '../../server/contract/attendance';
import type { TimelineEntry } from '../../server/contract/timeline';
import { settingsEntries } from '../../server/domain/timeline/changes';
import { buildTimeline, missedSeconds, pointGaps } from '../../server/domain/timeline/spans';
import { describeEntry } from '../../server/domain/timeline/report-section';

const T0 = Date.parse('2022-01-18T01:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const agenda = (s: number, index: number): TimelineEntry => ({
  type: 'agenda',
  at: at(s),
  index,
  itemId: `i${index}`,
  title: `Nghị quyết ${index}`,
  speaker: `Người ${index}`,
});
const floor = (s: number, pointId: string, granted: boolean): TimelineEntry => ({
  type: 'floor',
  at: at(s),
  pointId,
  name: pointId,
  granted,
});
const state = (s: number, to: 'live' | 'ended'): TimelineEntry => ({
  type: 'state',
  at: at(s),
  from: to === 'live' ? 'lobby' : 'live',
  to,
  by: 'host',
});
const ev = (s: number, type: ConnectionEvent['type'], detail = ''): ConnectionEvent => ({ at: at(s), type, detail });
type Status = NonNullable<ConnectionEvent['status']>['to'];
/** A status change as the health tracker records it: words for people, the change as data. */
const change = (s: number, from: Status, to: Status): ConnectionEvent => ({
  ...ev(s, 'status', `${from} → ${to}`),
  status: { from, to },
});

describe('buildTimeline', () => {
  test('items run from one move to the next, the last until the end; floors clipped to items', () => {
    const t = buildTimeline(
      [
        state(0, 'live'),
        agenda(0, 0),
        floor(50, 'A', true),
        agenda(60, 1), // the floor runs across the move
        floor(90, 'B', true), // giving it to B ends A's
        floor(100, 'A', false), // A no longer holds it: nothing
        agenda(120, 0), // back to the first item
        state(150, 'ended'),
      ],
      T0 + 999_000,
    );
    expect(t.items.map((i) => [i.index, i.seconds])).toEqual([
      [0, 60],
      [1, 60],
      [0, 30],
    ]);
    expect(t.items[0]!.floor.map((f) => [f.pointId, f.seconds])).toEqual([['A', 10]]);
    expect(t.items[1]!.floor.map((f) => [f.pointId, f.seconds])).toEqual([
      ['A', 30],
      ['B', 30],
    ]);
    // B's floor ends with the session.
    expect(t.items[2]!.floor.map((f) => [f.pointId, f.seconds])).toEqual([['B', 30]]);
  });

  test('a running session closes its item at the given end; entries are sorted by instant', () => {
    const t = buildTimeline([agenda(10, 1), state(0, 'live'), agenda(0, 0)], T0 + 25_000);
    expect(t.entries.map((e) => e.type)).toEqual(['state', 'agenda', 'agenda']);
    expect(t.items.map((i) => [i.index, i.startedAt, i.endedAt])).toEqual([
      [0, at(0), at(10)],
      [1, at(10), at(25)],
    ]);
  });

  test('no agenda item on the air: no items', () => {
    expect(buildTimeline([state(0, 'live'), state(5, 'ended')], T0 + 5000).items).toEqual([]);
  });
});

describe('what a point missed', () => {
  const items = buildTimeline([agenda(0, 0), agenda(100, 1), state(200, 'ended')], T0).items;

  test('away before the first join, between leave and join, and while lost', () => {
    const events = [
      ev(10, 'join', 'first'),
      change(20, 'good', 'lost'),
      change(25, 'lost', 'good'),
      ev(30, 'headcount', '40 by x'),
      ev(90, 'leave', 'transport closed'),
      ev(120, 'join', 'return'),
      change(150, 'good', 'lost'),
      ev(160, 'leave', 'gone'), // lost then left: one gap until the end
    ];
    const gaps = pointGaps(events, T0, T0 + 200_000);
    expect(gaps.map((g) => [(g.from - T0) / 1000, (g.to - T0) / 1000])).toEqual([
      [0, 10],
      [20, 25],
      [90, 120],
      [150, 200],
    ]);
    expect(missedSeconds(items, gaps)).toEqual([10 + 5 + 10, 20 + 50]);
  });

  test('a point that never came missed everything; one there throughout missed nothing', () => {
    expect(missedSeconds(items, pointGaps([], T0, T0 + 200_000))).toEqual([100, 100]);
    expect(missedSeconds(items, pointGaps([ev(-5, 'join', 'first')], T0, T0 + 200_000))).toEqual([0, 0]);
  });

  test('only the recorded change counts, never the words of the event', () => {
    const joined = ev(-5, 'join', 'first');
    // Words that read like a loss, without the change: nothing missed.
    expect(missedSeconds(items, pointGaps([joined, ev(20, 'status', 'good → lost')], T0, T0 + 200_000))).toEqual([
      0, 0,
    ]);
    // Poor is still following; lost is not.
    const events = [joined, change(20, 'good', 'poor'), change(30, 'poor', 'lost'), change(40, 'lost', 'degraded')];
    expect(missedSeconds(items, pointGaps(events, T0, T0 + 200_000))).toEqual([10, 0]);
  });
});

test('a change of live settings gives one entry per field, with the item as it is', () => {
  const items = [
    { id: 'a', title: 'Nghị quyết 05-NQ/TU', speaker: 'Ông A', role: '', plannedMinutes: 30, documents: [] },
  ];
  const when = new Date(T0);
  expect(settingsEntries({ agendaIndex: 0, slidesOn: true }, items, when)).toEqual([
    { type: 'agenda', at: at(0), index: 0, itemId: 'a', title: 'Nghị quyết 05-NQ/TU', speaker: 'Ông A' },
    { type: 'slides', at: at(0), on: true },
  ]);
  expect(settingsEntries({ agendaIndex: 3 }, items, when)).toEqual([]);
  expect(settingsEntries({ pausedAudio: true }, items, when).map(describeEntry)).toEqual([
    'Tắt tiếng hội trường · microphone paused',
  ]);
});
