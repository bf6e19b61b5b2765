// A point's connection events on the monitor, Vietnamese first: said from the event's
// type, code and parameters; the server's English detail where the event carries none.
import type { ConnectionEvent } from '../../../server/contract/attendance';
import type { Text } from '../ui/i18n';
import { KIND_TEXT, STATUS_TEXT } from './labels';

export const EVENT_TYPE_TEXT: Record<ConnectionEvent['type'], Text> = {
  join: ['Vào', 'Joined'],
  leave: ['Rời', 'Left'],
  status: ['Trạng thái', 'Status'],
  headcount: ['Báo số người', 'Headcount'],
  problem: ['Báo sự cố', 'Problem reported'],
  checkin: ['Điểm danh', 'Check-in'],
  preflight: ['Kiểm tra trước', 'Pre-flight'],
  media: ['Đường truyền', 'Media'],
};

/** Why a page left (socket.io's disconnect reasons and the server's own). */
const LEAVE_TEXT: Record<string, Text> = {
  'transport close': ['mất kết nối mạng', 'connection closed'],
  'transport error': ['lỗi kết nối mạng', 'connection error'],
  'ping timeout': ['không phản hồi', 'stopped answering'],
  'client namespace disconnect': ['trang tự rời', 'the page left'],
  'server namespace disconnect': ['máy chủ ngắt', 'the server disconnected it'],
  'server shutting down': ['máy chủ khởi động lại', 'the server restarted'],
  'no sign of life': ['không còn tín hiệu', 'no sign of life'],
  'session ended': ['hội nghị kết thúc', 'the briefing ended'],
  'node gone': ['máy chủ phục vụ điểm cầu đã dừng', 'the node serving it stopped'],
};

const RESULT_TEXT: Record<string, Text> = {
  pass: ['Đạt', 'Pass'],
  warn: ['Cảnh báo', 'Warning'],
  fail: ['Không đạt', 'Fail'],
};

const both = (a: Text, b: Text, sep = ': '): Text => [`${a[0]}${sep}${b[0]}`, `${a[1]}${sep}${b[1]}`];
const same = (s: string): Text => [s, s];

/** What the event says beside its type. */
export function eventDetail(e: ConnectionEvent): Text {
  const p = e.params ?? {};
  switch (e.type) {
    case 'join':
      return e.detail === 'first' ? ['lần đầu', 'first time'] : ['quay lại', 'back again'];
    case 'leave':
      return LEAVE_TEXT[e.detail] ?? same(e.detail);
    case 'status':
      if (e.code === 'changed') {
        const from = STATUS_TEXT[String(p.from) as keyof typeof STATUS_TEXT] ?? same(String(p.from));
        const to = STATUS_TEXT[String(p.to) as keyof typeof STATUS_TEXT] ?? same(String(p.to));
        return both(from, to, ' → ');
      }
      break;
    case 'headcount':
      if (e.code === 'reported') {
        const was = p.was !== undefined ? [` (trước: ${p.was})`, ` (was ${p.was})`] : ['', ''];
        return [`${p.count} người${was[0]}, do ${p.by}`, `${p.count} people${was[1]}, by ${p.by}`];
      }
      break;
    case 'problem':
      if (e.code) {
        const kind = KIND_TEXT[e.code] ?? same(e.code);
        return p.note ? both(kind, same(String(p.note))) : kind;
      }
      break;
    case 'preflight':
      if (e.code) return both(RESULT_TEXT[e.code] ?? same(e.code), same(String(p.transport ?? '')), ' · ');
      break;
    case 'media':
      if (e.code === 'worker-died')
        return ['máy chủ media gặp sự cố, đang kết nối lại', 'media server worker died; reconnecting'];
      if (e.code === 'video-back') return [`có hình lại sau ${p.ms} ms`, `video back after ${p.ms} ms`];
      if (e.code === 'silent') {
        return [
          `máy chủ không nhận được gì từ điểm cầu trong ${p.s} giây: mất kết nối media`,
          `nothing received from the point's media for ${p.s} s: media lost`,
        ];
      }
      if (e.code === 'watchdog') {
        return [
          `hình bị treo, trang đã tự dựng lại kết nối nhận (lần ${p.n})`,
          `media stalled, the page rebuilt its receive path (#${p.n})`,
        ];
      }
      break;
    case 'checkin':
      break;
  }
  return same(e.detail);
}

/** The whole line: type, then what happened. */
export function eventText(e: ConnectionEvent): Text {
  return both(EVENT_TYPE_TEXT[e.type] ?? same(e.type), eventDetail(e));
}
