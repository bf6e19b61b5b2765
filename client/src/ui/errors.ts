// What the server's errors say on the pages: the server sends a code, a reason and their
// parameters (server/contract/errors.ts); this turns them into Vietnamese with English
// beside. Every code and reason has its text (the Records make a missing one a type
// error); an issue code without one falls back to the server's English.
import type { ErrorCode, ErrorParams, ErrorReason, Issue } from '../../../server/contract/errors';
import type { Text } from './i18n';
import { LEVEL_TEXT, STATE_TEXT } from './words';

type Say = (p: ErrorParams) => Text;

/** Codes the pages make themselves, beside the server's. */
export type ClientErrorCode = ErrorCode | 'timeout' | 'disconnected' | 'network' | 'chunk_unavailable';

export const ERROR_TEXT: Record<ClientErrorCode, Text> = {
  bad_request: ['Dữ liệu không hợp lệ', 'Invalid input'],
  unauthenticated: ['Cần đăng nhập lại', 'Please log in again'],
  forbidden: ['Tài khoản không có quyền này', 'Your role does not allow this'],
  not_found: ['Không tìm thấy', 'Not found'],
  conflict: ['Không thực hiện được ở trạng thái hiện tại', 'Not possible in the current state'],
  payload_too_large: ['Dữ liệu quá lớn', 'Too large'],
  precondition_failed: ['Tệp đã thay đổi, tải lại trang', 'The file has changed: reload the page'],
  range_not_satisfiable: ['Phần tệp yêu cầu không có', 'That part of the file does not exist'],
  rate_limited: ['Quá nhiều lần thử, vui lòng chờ', 'Too many attempts, please wait'],
  limit_exceeded: ['Đã dùng hết số kết nối cho phép', 'As many connections as allowed are in use'],
  token_invalid: ['Đường dẫn hoặc mã không hợp lệ', 'The link or code is not valid'],
  token_expired: ['Đường dẫn hoặc mã đã hết hạn', 'The link or code has expired'],
  token_revoked: ['Đường dẫn đã bị thu hồi', 'This link was revoked'],
  not_open: ['Chưa mở hoặc đã kết thúc', 'Not open, or already over'],
  device_unknown: ['Không nhận ra thiết bị này', 'This device is not recognised'],
  device_used: ['Thiết bị này đã được dùng cho người khác', 'This device was used for someone else'],
  checkin_full: ['Điểm cầu đã đủ số đại biểu dự kiến', 'This point has as many check-ins as it expects'],
  no_hall_media: [
    'Hội trường chưa phát hình hoặc tiếng: bật camera hoặc micro trong bàn điều khiển trước',
    'The hall publishes no camera or microphone: turn them on in the console first',
  ],
  unavailable: ['Máy chủ tạm thời không sẵn sàng, thử lại', 'Server temporarily unavailable, retry'],
  pipe_gone: ['Kênh truyền giữa các máy chủ đã đóng, thử lại', 'The link between servers closed, retry'],
  internal: ['Lỗi máy chủ', 'Server error'],
  timeout: ['Máy chủ không trả lời kịp', 'The server did not answer in time'],
  disconnected: ['Mất kết nối với máy chủ', 'Not connected to the server'],
  chunk_unavailable: ['Không tải được một phần của trang', 'A part of the page did not load'],
  network: ['Không kết nối được máy chủ', 'Cannot reach the server'],
};

const ACTION: Record<string, Text> = {
  schedule: ['lên lịch', 'schedule'],
  'open-lobby': ['mở phòng chờ', 'open the lobby of'],
  start: ['bắt đầu', 'start'],
  end: ['kết thúc', 'end'],
  cancel: ['huỷ', 'cancel'],
  delete: ['xoá', 'delete'],
};
const STATE: Record<string, Text> = STATE_TEXT;
const LEVEL: Record<string, Text> = LEVEL_TEXT;
/** A word of a table, lower case inside a sentence; the value itself when the table lacks it. */
const word = (table: Record<string, Text>, v: string | number | undefined, i: 0 | 1) =>
  table[String(v)]?.[i].toLowerCase() ?? String(v ?? '');

export const REASON_TEXT: Record<ErrorReason, Say | Text> = {
  transition: (p) => [
    `Không thể ${word(ACTION, p.action, 0)} phiên đang ở trạng thái ${word(STATE, p.state, 0)}`,
    `Cannot ${word(ACTION, p.action, 1)} the session: it is ${word(STATE, p.state, 1)}`,
  ],
  not_editable: (p) => [
    `Phiên ${word(STATE, p.state, 0)} không sửa được nữa`,
    `The session can no longer be edited: it is ${word(STATE, p.state, 1)}`,
  ],
  times_locked: (p) => [
    `Giờ bắt đầu và giờ mở phòng chờ của phiên ${word(STATE, p.state, 0)} không đổi được nữa`,
    `The start and lobby times can no longer change: the session is ${word(STATE, p.state, 1)}`,
  ],
  no_point_invited: ['Chưa mời điểm cầu nào', 'No point is invited'],
  end_passed: ['Giờ kết thúc dự kiến đã qua: hãy đổi giờ trước', 'The planned end has passed: move the times first'],
  changed_meanwhile: ['Người khác vừa thay đổi cùng lúc, hãy thử lại', 'Someone else changed it meanwhile; retry'],
  code_taken: (p) => [`Mã ${p.code} đã có`, `A point with code ${p.code} already exists`],
  username_taken: (p) => [`Tên đăng nhập ${p.username} đã có người dùng`, `The username ${p.username} is taken`],
  last_admin: [
    'Đây là tài khoản quản trị cuối cùng: hãy tạo tài khoản quản trị khác trước',
    'This is the last active admin account: create another admin first',
  ],
  own_account: ['Không thể xoá tài khoản của chính mình', 'You cannot delete your own account'],
  has_children: (p) => [
    `Còn ${p.count} điểm cầu trực thuộc: hãy chuyển hoặc xoá trước`,
    `${p.count} point(s) are under it: move or remove them first`,
  ],
  unknown_points: (p) => [`Không có điểm cầu hoặc huyện: ${p.list}`, `Unknown point or district: ${p.list}`],
  attach_first: ['Hãy mở một phiên trong bàn điều khiển trước', 'Open a session in the console first'],
  not_live: ['Hội nghị chưa diễn ra', 'The briefing is not live'],
  agenda_range: (p) => [`Chương trình chỉ có ${p.count} mục`, `The agenda has ${p.count} items`],
  point_not_connected: [
    'Điểm cầu này chưa kết nối, chưa thể phát biểu',
    'This point is not connected; it cannot take the floor now',
  ],
  room_system_cannot_send: (p) => [
    `Thiết bị phòng họp (SIP) này không gửi được hình và tiếng: ${p.detail}`,
    `This SIP room system cannot send its picture and sound: ${p.detail}`,
  ],
  room_system_refused: (p) => [
    `Thiết bị phòng họp (SIP) từ chối hoặc không trả lời (${p.status}); cuộc gọi vẫn giữ`,
    `The SIP room system refused or did not answer (${p.status}); the call stays up`,
  ],
  sip_address_invalid: (p) => [
    `Địa chỉ SIP không gọi được: ${p.detail} (dạng sip:tên@máy[:cổng])`,
    `Not a SIP address the server can call: ${p.detail} (sip:user@host[:port])`,
  ],
  sip_target_refused: (p) => [
    `Máy chủ không gọi tới địa chỉ ${p.address}: ${p.detail}`,
    `The server does not call ${p.address}: ${p.detail}`,
  ],
  dial_failed: (p) => [
    `Không gọi được thiết bị phòng họp (SIP ${p.status})`,
    `The room system could not be called (SIP ${p.status})`,
  ],
  recording_locked: [
    'Chỉ bật hoặc tắt ghi hình được trước khi phát trực tiếp',
    'Recording is turned on or off only before going live',
  ],
  ingest_limit: (p) => [
    `Mỗi bàn điều khiển nhận tối đa ${p.max} nguồn: hãy đóng bớt một nguồn`,
    `At most ${p.max} ingests per console: close one first`,
  ],
  malformed_csv: (p) => [`Tệp CSV bị lỗi: ${p.detail}`, `Malformed CSV: ${p.detail}`],
  body_type: (p) => [`Hãy gửi dữ liệu dạng ${p.type}`, `Send the body as ${p.type}`],
  roster_name_taken: (p) => [`${p.name} đã có trong danh sách`, `${p.name} is already on the roster`],
  document_type: [
    'Chỉ đính kèm được tệp PDF, PNG, JPEG hoặc WebP',
    'Only PDF, PNG, JPEG and WebP files can be attached',
  ],
  documents_full: (p) => [`Một phiên có tối đa ${p.max} tài liệu`, `A session holds at most ${p.max} documents`],
  agenda_item_unknown: ['Không có nội dung này trong chương trình', 'No such agenda item'],
  roster_full: (p) => [`Danh sách có tối đa ${p.max} người`, `A roster holds at most ${p.max} names`],
  no_floor: ['Chưa có điểm cầu nào đang phát biểu', 'No point holds the floor'],
  no_floor_mic: ['Điểm cầu đang phát biểu chưa bật micro', 'The point holding the floor has no microphone on yet'],
  session_cancelled: [
    'Hội nghị này đã bị huỷ. Liên hệ ban tổ chức.',
    'This briefing was cancelled. Ask the organisers.',
  ],
  point_uninvited: [
    'Điểm cầu này không còn được mời dự hội nghị. Liên hệ ban tổ chức.',
    'This point is no longer invited to the briefing. Ask the organisers.',
  ],
  link_replaced: [
    'Đường dẫn này đã được thay bằng đường dẫn mới. Liên hệ ban tổ chức để nhận đường dẫn mới.',
    'This link was replaced by a newer one. Ask the organisers for it.',
  ],
  talk_full: (p) => [
    `Phiên đã có ${p.max} tin nhắn, không nhận thêm`,
    `The session holds ${p.max} messages and takes no more`,
  ],
  talk_point_full: (p) => [
    `Điểm cầu đã gửi ${p.max} tin nhắn trong phiên này, không gửi thêm được`,
    `This point has sent ${p.max} messages in this session and can send no more`,
  ],
};

/** Zod's issue codes and the product's own (session times, registry imports). */
export const ISSUE_TEXT: Record<string, Say> = {
  invalid_type: (p) => [`Sai kiểu dữ liệu (cần ${p.expected ?? '?'})`, `Wrong type (expected ${p.expected ?? '?'})`],
  too_small: (p) =>
    p.origin === 'string'
      ? [`Quá ngắn (ít nhất ${p.minimum} ký tự)`, `Too short (at least ${p.minimum} characters)`]
      : p.origin === 'array' || p.origin === 'set'
        ? [`Quá ít (ít nhất ${p.minimum})`, `Too few (at least ${p.minimum})`]
        : [`Quá nhỏ (ít nhất ${p.minimum})`, `Too small (at least ${p.minimum})`],
  too_big: (p) =>
    p.origin === 'string'
      ? [`Quá dài (tối đa ${p.maximum} ký tự)`, `Too long (at most ${p.maximum} characters)`]
      : p.origin === 'array' || p.origin === 'set'
        ? [`Quá nhiều (tối đa ${p.maximum})`, `Too many (at most ${p.maximum})`]
        : [`Quá lớn (tối đa ${p.maximum})`, `Too large (at most ${p.maximum})`],
  invalid_format: (p) => [`Sai định dạng (${p.format ?? ''})`, `Wrong format (${p.format ?? ''})`],
  invalid_value: (p) => [`Giá trị không được chấp nhận (${p.values ?? ''})`, `Value not allowed (${p.values ?? ''})`],
  unrecognized_keys: (p) => [`Trường không được biết: ${p.keys ?? ''}`, `Unknown fields: ${p.keys ?? ''}`],
  not_multiple_of: () => ['Giá trị không hợp lệ', 'Invalid value'],
  invalid_union: () => ['Giá trị không hợp lệ', 'Invalid value'],
  custom: () => ['Giá trị không hợp lệ', 'Invalid value'],
  // Session times.
  lobby_after_start: () => ['Phòng chờ phải mở trước giờ bắt đầu', 'The lobby must open before the start'],
  lobby_too_early: (p) => [
    `Phòng chờ mở sớm nhất ${p.hours} giờ trước giờ bắt đầu`,
    `The lobby may open at most ${p.hours} hours before the start`,
  ],
  end_before_start: () => ['Giờ kết thúc phải sau giờ bắt đầu', 'The planned end must be after the start'],
  too_long: (p) => [`Một phiên dài tối đa ${p.hours} giờ`, `A session lasts at most ${p.hours} hours`],
  in_past: () => ['Đã qua', 'In the past'],
  // The registry's imports and edits.
  duplicate_code: (p) => [`Mã ${p.code} trùng với dòng ${p.row}`, `Duplicate code ${p.code}: already on row ${p.row}`],
  code_case_clash: (p) => [
    `Mã ${p.code} chỉ khác chữ hoa/thường so với điểm cầu ${p.other}`,
    `Code ${p.code} differs only in letter case from the existing point ${p.other}`,
  ],
  parent_missing: (p) => [
    `Điểm cầu cấp ${word(LEVEL, p.level, 0)} cần có cấp trên`,
    `A ${word(LEVEL, p.level, 1)} point needs a parent`,
  ],
  own_parent: () => ['Điểm cầu không thể là cấp trên của chính nó', 'A point cannot be its own parent'],
  unknown_parent: (p) => [`Không có điểm cầu cấp trên ${p.code}`, `Unknown parent ${p.code}`],
  parent_level: (p) => [
    `Điểm cầu cấp ${word(LEVEL, p.level, 0)} không thể trực thuộc điểm cầu cấp ${word(LEVEL, p.parentLevel, 0)} ${p.code}`,
    `A ${word(LEVEL, p.level, 1)} point cannot hang under the ${word(LEVEL, p.parentLevel, 1)} point ${p.code}`,
  ],
  district_not_own: () => [
    'Huyện của điểm cầu huyện phải là chính mã của nó',
    "A district point's district is its own code",
  ],
  unknown_district: (p) => [`Không có huyện ${p.code}`, `Unknown district ${p.code}`],
  not_a_district: (p) => [
    `${p.code} là điểm cầu cấp ${word(LEVEL, p.level, 0)}, không phải huyện`,
    `${p.code} is a ${word(LEVEL, p.level, 1)} point, not a district`,
  ],
  district_not_parent: (p) => [
    `Huyện của điểm cầu xã phải là cấp trên của nó (${p.parent})`,
    `A commune's district must be its parent (${p.parent})`,
  ],
  district_missing: () => ['Điểm cầu xã cần có huyện', 'A commune point needs its district'],
  parent_cycle: (p) => [`Các cấp trên tạo thành vòng qua ${p.code}`, `Parents form a cycle through ${p.code}`],
  not_utf8: () => [
    'Tệp không phải UTF-8: hãy lưu dạng "CSV UTF-8" rồi thử lại',
    'The file is not UTF-8: save it as "CSV UTF-8" and retry',
  ],
  malformed_csv: (p) => [
    `Tệp CSV bị lỗi (${p.detail}); phần còn lại của tệp chưa được đọc`,
    `Malformed CSV (${p.detail}); the rest of the file was not read`,
  ],
  empty_file: () => ['Tệp trống', 'The file is empty'],
  column_twice: () => ['Cột này xuất hiện hai lần ở dòng tiêu đề', 'This column appears twice in the header'],
  unknown_column: (p) => [`Cột không được biết; cần: ${p.expected}`, `Unknown column; expected ${p.expected}`],
  column_missing: () => ['Thiếu cột bắt buộc ở dòng tiêu đề', 'Required column missing from the header'],
  column_count: (p) => [
    `Cần ${p.expected} cột, có ${p.found} (dấu phẩy trong tên không có ngoặc kép?)`,
    `Expected ${p.expected} columns, found ${p.found} (a comma inside an unquoted name?)`,
  ],
  not_object: () => ['Mỗi mục phải là một đối tượng', 'Each item must be an object'],
  no_points: () => ['Tệp không có điểm cầu nào', 'No points in the file'],
  too_many_rows: (p) => [`Tệp có ${p.found} dòng, tối đa ${p.max}`, `${p.found} rows: at most ${p.max}`],
  duplicate_name: (p) => [`Trùng tên với dòng ${p.row}`, `The same name as row ${p.row}`],
  unknown_points: (p) => [`Không có: ${p.list}`, `Unknown: ${p.list}`],
  sip_address_invalid: (p) => [
    `Địa chỉ SIP không hợp lệ: ${p.detail} (dạng sip:tên@máy[:cổng])`,
    `Not a valid SIP address: ${p.detail} (sip:user@host[:port])`,
  ],
};

/** One input problem, in both languages (the server's English when the issue is not known here). */
export function issueText(i: Pick<Issue, 'issue' | 'message'> & { params?: ErrorParams | undefined }): Text {
  const say = ISSUE_TEXT[i.issue];
  return say ? say(i.params ?? {}) : [i.message, i.message];
}

/** What an error carries from the server, whichever way it came (HTTP or socket ack). */
export interface CodedError {
  code: ClientErrorCode;
  message: string;
  reason?: ErrorReason | undefined;
  params?: ErrorParams | undefined;
  issues?: Issue[] | undefined;
}

const isCoded = (e: unknown): e is CodedError =>
  typeof e === 'object' &&
  e !== null &&
  typeof (e as CodedError).code === 'string' &&
  (e as CodedError).code in ERROR_TEXT;

/**
 * The text of any error: the reason when the server gave one, else the code's; the input
 * problems after it ("field: problem"). A browser error (camera refused…) keeps its own message.
 */
export function errorText(err: unknown): Text {
  if (!isCoded(err)) {
    const m = err instanceof Error ? err.message : String(err);
    return [m, m];
  }
  const reason = err.reason ? REASON_TEXT[err.reason] : undefined;
  const head = typeof reason === 'function' ? reason(err.params ?? {}) : (reason ?? ERROR_TEXT[err.code]);
  const issues = err.issues ?? [];
  if (issues.length === 0) return head;
  const list = (lang: 0 | 1) =>
    issues
      .slice(0, 5)
      .map((i) => `${i.path ? `${i.path}: ` : ''}${issueText(i)[lang]}`)
      .join('; ');
  return [`${head[0]} (${list(0)})`, `${head[1]} (${list(1)})`];
}

/** `prefix: error`, in both languages. */
export function failed(prefix: Text, err: unknown): Text {
  const t = errorText(err);
  return [`${prefix[0]}: ${t[0]}`, `${prefix[1]}: ${t[1]}`];
}
