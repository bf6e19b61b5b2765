// The first run (/setup/<token>): the link the server printed at its first start creates
// the first admin account here. The token works once; afterwards the host page's login.
import type { SetupRequest } from '../../../server/contract/setup';
import { call } from '../host/api';
import { bi, button, el, field, input, statusLine } from '../host/ui';
import { mountShell } from '../ui/shell';

const main = mountShell({ title: { vi: 'Thiết lập lần đầu', en: 'First-run setup' } });
const token = decodeURIComponent(location.pathname.split('/').pop() ?? '');

const username = input({ autocomplete: 'username', required: '', 'data-testid': 'setup-username' });
const displayName = input({ autocomplete: 'name', 'data-testid': 'setup-display-name' });
const password = input({ type: 'password', autocomplete: 'new-password', 'data-testid': 'setup-password' });
const again = input({ type: 'password', autocomplete: 'new-password', 'data-testid': 'setup-password-again' });
const status = statusLine();

const submit = async () => {
  status.clear();
  if (password.value !== again.value) {
    status.say(['Hai mật khẩu không giống nhau.', 'The two passwords differ.'], 'bad');
    return;
  }
  try {
    const body: SetupRequest = {
      token,
      username: username.value.trim(),
      password: password.value,
      ...(displayName.value.trim() ? { displayName: displayName.value.trim() } : {}),
    };
    await call('POST', '/setup', body);
    password.value = '';
    again.value = '';
    form.replaceWith(
      el(
        'section',
        { className: 'card', attrs: { 'data-testid': 'setup-done' } },
        bi(['Đã tạo tài khoản quản trị.', 'The admin account is created.'], 'h2'),
        el('p', {}, el('a', { text: 'Đăng nhập · Log in', attrs: { href: '/host' } })),
      ),
    );
  } catch (err) {
    status.error(err);
  }
};

const form = el(
  'form',
  { className: 'card login' },
  bi(['Tạo tài khoản quản trị đầu tiên', 'Create the first admin account'], 'h2'),
  bi(
    [
      'Đường dẫn này chỉ dùng được một lần. Mật khẩu ít nhất 12 ký tự.',
      'This link works once. The password needs at least 12 characters.',
    ],
    'p',
  ),
  field(['Tên đăng nhập', 'Username'], username),
  field(['Họ tên (không bắt buộc)', 'Display name (optional)'], displayName),
  field(['Mật khẩu', 'Password'], password),
  field(['Nhập lại mật khẩu', 'Password again'], again),
  button(['Tạo tài khoản', 'Create the account'], submit, 'primary'),
  status.node,
);
form.addEventListener('submit', (e) => {
  e.preventDefault();
  void submit();
});
main.append(form);
