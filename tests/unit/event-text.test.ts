// A point's connection events as the monitor says them: from their code and values,
// Vietnamese first; the server's English detail only for an event that carries none.
import type { ConnectionEvent } from '../../server/contract/attendance';
import { eventText } from '../../client/src/monitor/events';

const at = '2026-01-18T01:00:00.000Z';
const ev = (e: Omit<ConnectionEvent, 'at'>): ConnectionEvent => ({ at, ...e });

describe('connection events on the monitor', () => {
  test('a status change names both statuses in each language', () => {
    expect(
      eventText(ev({ type: 'status', detail: 'x', code: 'changed', params: { from: 'good', to: 'poor' } })),
    ).toEqual(['Trạng thái: Tốt → Kém', 'Status: Good → Poor']);
  });

  test('a headcount, a media incident, a leave, a problem', () => {
    const hc = ev({
      type: 'headcount',
      detail: '42 (was 40) by An',
      code: 'reported',
      params: { count: 42, was: 40, by: 'An' },
    });
    expect(eventText(hc)).toEqual([
      'Báo số người: 42 người (trước: 40), do An',
      'Headcount: 42 people (was 40), by An',
    ]);
    const back = ev({ type: 'media', detail: 'video back after 900 ms', code: 'video-back', params: { ms: 900 } });
    expect(eventText(back)[0]).toBe('Đường truyền: có hình lại sau 900 ms');
    expect(eventText(ev({ type: 'leave', detail: 'ping timeout' }))).toEqual([
      'Rời: không phản hồi',
      'Left: stopped answering',
    ]);
    const problem = ev({
      type: 'problem',
      detail: 'no-audio: loa hỏng',
      code: 'no-audio',
      params: { note: 'loa hỏng' },
    });
    expect(eventText(problem)).toEqual(['Báo sự cố: Mất tiếng: loa hỏng', 'Problem reported: No sound: loa hỏng']);
  });

  test('an event from before codes keeps its stored detail', () => {
    expect(eventText(ev({ type: 'media', detail: 'media server worker died; reconnecting' }))).toEqual([
      'Đường truyền: media server worker died; reconnecting',
      'Media: media server worker died; reconnecting',
    ]);
  });
});
