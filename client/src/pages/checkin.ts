// Delegate check-in on a phone (/checkin/<token>, from the QR code on the point's screen):
// type name and position (a name on the point's list is recognised by the server); counted
// once per session however often you scan. The phone is known by an HttpOnly cookie the
// server sets when the form opens: one delegate per phone. Text is set with textContent only.
import type { CheckinInfo, CheckinResult } from '../../../server/contract/attendance';
import { bi, setBi, type Text } from '../ui/i18n';
import { el, mountShell } from '../ui/shell';
import { showTime } from '../ui/time';

const token = decodeURIComponent(location.pathname.split('/').pop() ?? '');
const main = mountShell({ title: { vi: 'Điểm danh đại biểu', en: 'Delegate check-in' } });
document.head.append(el('link', { attrs: { rel: 'stylesheet', href: '/assets/attendance.css' } }));
document.body.classList.add('checkin-page');

const ERRORS: Record<string, Text> = {
  token_invalid: ['Mã QR không hợp lệ.', 'This QR code is not valid.'],
  token_expired: [
    'Mã QR đã đổi. Hãy quét lại mã đang hiện trên màn hình.',
    'The QR code has changed. Scan the one on the screen now.',
  ],
  not_open: ['Điểm danh chỉ mở trong thời gian hội nghị.', 'Check-in is open only while the briefing is on.'],
  rate_limited: ['Quá nhiều lượt cùng lúc, xin thử lại sau ít giây.', 'Too many at once; try again in a moment.'],
  unavailable: ['Máy chủ đang bận, xin thử lại.', 'The server is busy; try again.'],
  bad_request: ['Thông tin chưa hợp lệ.', 'Please check what you entered.'],
  device_unknown: [
    'Không nhận ra điện thoại này. Hãy quét lại mã QR trên chính điện thoại này.',
    'This phone is not recognised. Scan the QR code again on this phone.',
  ],
  device_used: [
    'Điện thoại này đã điểm danh cho một đại biểu khác. Mỗi đại biểu điểm danh trên điện thoại của mình; nếu nhầm, xin báo bàn kỹ thuật.',
    'This phone already checked in another delegate. Each delegate checks in on their own phone; if it was a mistake, ask the desk.',
  ],
  checkin_full: [
    'Điểm cầu đã đủ số đại biểu dự kiến. Xin báo bàn kỹ thuật.',
    'This point has as many check-ins as it expects. Please ask the desk.',
  ],
};

const status = el('div', { className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
const head = el('div', { className: 'checkin-head' });
const form = el('form', { className: 'checkin-form hidden', attrs: { 'data-testid': 'checkin-form' } });
const done = el('div', { className: 'checkin-done hidden', attrs: { 'data-testid': 'checkin-done' } });
main.append(head, status, form, done);

function say(text: Text, kind: 'info' | 'ok' | 'warn' | 'bad' = 'info') {
  status.className = `status ${kind}`;
  setBi(status, text);
}

async function api<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(path, { ...init, headers: { 'Content-Type': 'application/json', ...(init?.headers ?? {}) } });
  const body = (await res.json().catch(() => ({}))) as T & { code?: string; detail?: string };
  if (!res.ok) throw Object.assign(new Error(body.detail ?? res.statusText), { code: body.code ?? 'internal' });
  return body;
}

function fail(err: unknown) {
  const code = (err as { code?: string }).code ?? 'internal';
  say(ERRORS[code] ?? ['Có lỗi, xin thử lại.', 'Something went wrong; try again.'], 'bad');
}

function showDone(
  r: { name: string; position: string; at: string; voided?: unknown },
  pointName: string,
  before: boolean,
) {
  form.classList.add('hidden');
  status.className = 'status hidden';
  const time = showTime(r.at, 'time');
  done.replaceChildren(
    el('div', { className: r.voided ? 'tick voided' : 'tick', text: r.voided ? '✕' : '✓' }),
    bi(
      r.voided
        ? ['Lượt điểm danh của điện thoại này đã bị bàn kỹ thuật huỷ.', "This phone's check-in was voided by the desk."]
        : before
          ? ['Bạn đã điểm danh trước đó.', 'You had already checked in.']
          : ['Đã điểm danh. Xin cảm ơn!', 'Checked in. Thank you!'],
      'h2',
    ),
    el('p', { text: r.position ? `${r.name} — ${r.position}` : r.name }),
    el('p', { className: 'muted', text: `${pointName} · ${time}` }),
  );
  done.classList.remove('hidden');
}

async function start() {
  say(['Đang mở…', 'Opening…']);
  let info: CheckinInfo;
  try {
    info = await api<CheckinInfo>(`/api/v1/checkin/${encodeURIComponent(token)}`);
  } catch (err) {
    fail(err);
    return;
  }
  status.className = 'status hidden';
  head.replaceChildren(
    el('h2', { text: info.session.title }),
    el('p', { className: 'point-name', text: info.point.name }),
  );
  if (info.mine) {
    showDone(info.mine, info.point.name, true);
    return;
  }

  const name = el('input', {
    attrs: { type: 'text', maxlength: '120', autocomplete: 'name', 'data-testid': 'checkin-name' },
  });
  const position = el('input', {
    attrs: { type: 'text', maxlength: '160', autocomplete: 'organization-title', 'data-testid': 'checkin-position' },
  });
  const submit = el('button', { className: 'primary big', attrs: { type: 'submit', 'data-testid': 'checkin-submit' } });
  setBi(submit, ['Điểm danh', 'Check in']);
  form.append(
    el('label', {}, bi(['Họ và tên', 'Full name']), name),
    el('label', {}, bi(['Chức vụ, đơn vị', 'Position']), position),
  );
  if (info.rosterSize > 0) {
    form.append(
      el('p', {
        className: 'muted',
        text: "Tên trong danh sách của điểm cầu được nhận ra khi bạn gõ đúng họ tên. · A name on the point's list is recognised when typed in full.",
      }),
    );
  }
  form.append(submit);
  form.classList.remove('hidden');

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!name.value.trim()) {
      say(['Hãy nhập họ và tên.', 'Enter your name.'], 'warn');
      return;
    }
    const body: Record<string, string> = { ticket: info.ticket, name: name.value.trim() };
    if (position.value.trim()) body.position = position.value.trim();
    submit.disabled = true;
    void api<CheckinResult>('/api/v1/checkin', { method: 'POST', body: JSON.stringify(body) })
      .then((r) => showDone(r, r.pointName, r.already))
      .catch(fail)
      .finally(() => (submit.disabled = false));
  });
}

void start();
