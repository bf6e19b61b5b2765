// Delegate check-in on a phone (/checkin/<token>, from the QR code on the point's screen):
// pick your name from the point's list, or type name and position; counted once per
// session however often you scan. Text is set with textContent only.
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

function deviceId(): string {
  const key = 'briefing:device';
  let id: string | null = null;
  try {
    id = localStorage.getItem(key);
  } catch {
    id = null;
  }
  if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
    const bytes = crypto.getRandomValues(new Uint8Array(12));
    id = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    try {
      localStorage.setItem(key, id);
    } catch {
      // private mode: this scan only
    }
  }
  return id;
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

  const pick = el('select', { attrs: { 'data-testid': 'checkin-roster' } });
  pick.append(el('option', { text: '— Tự nhập tên · Type my name —', attrs: { value: '' } }));
  for (const r of info.roster) {
    pick.append(el('option', { text: r.position ? `${r.name} — ${r.position}` : r.name, attrs: { value: r.id } }));
  }
  const name = el('input', {
    attrs: { type: 'text', maxlength: '120', autocomplete: 'name', 'data-testid': 'checkin-name' },
  });
  const position = el('input', {
    attrs: { type: 'text', maxlength: '160', autocomplete: 'organization-title', 'data-testid': 'checkin-position' },
  });
  const submit = el('button', { className: 'primary big', attrs: { type: 'submit', 'data-testid': 'checkin-submit' } });
  setBi(submit, ['Điểm danh', 'Check in']);
  const typed = el(
    'div',
    {},
    el('label', {}, bi(['Họ và tên', 'Full name']), name),
    el('label', {}, bi(['Chức vụ, đơn vị', 'Position']), position),
  );
  if (info.roster.length > 0) form.append(el('label', {}, bi(['Chọn tên trong danh sách', 'Pick your name']), pick));
  form.append(typed, submit);
  form.classList.remove('hidden');
  pick.addEventListener('change', () => typed.classList.toggle('hidden', pick.value !== ''));

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body: Record<string, string> = { ticket: info.ticket, deviceId: deviceId() };
    if (pick.value) body.rosterId = pick.value;
    else {
      if (!name.value.trim()) {
        say(['Hãy nhập họ và tên.', 'Enter your name.'], 'warn');
        return;
      }
      body.name = name.value.trim();
      if (position.value.trim()) body.position = position.value.trim();
    }
    submit.disabled = true;
    void api<CheckinResult>('/api/v1/checkin', { method: 'POST', body: JSON.stringify(body) })
      .then((r) => {
        form.classList.add('hidden');
        status.className = 'status hidden';
        const time = showTime(r.at, 'time');
        done.replaceChildren(
          el('div', { className: 'tick', text: '✓' }),
          bi(
            r.already
              ? ['Bạn đã điểm danh trước đó.', 'You had already checked in.']
              : ['Đã điểm danh. Xin cảm ơn!', 'Checked in. Thank you!'],
            'h2',
          ),
          el('p', { text: r.position ? `${r.name} — ${r.position}` : r.name }),
          el('p', { className: 'muted', text: `${r.pointName} · ${time}` }),
        );
        done.classList.remove('hidden');
      })
      .catch(fail)
      .finally(() => (submit.disabled = false));
  });
}

void start();
