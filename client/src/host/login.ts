// The login form of the host page.
import type { Me } from '../../../server/contract/api';
import type { SetupStatus } from '../../../server/contract/setup';
import { call } from './api';
import { bi, button, el, field, input, statusLine } from './ui';

export function loginView(onLoggedIn: (user: NonNullable<Me['user']>) => void): HTMLElement {
  const username = input({ autocomplete: 'username', required: '', 'data-testid': 'login-username' });
  const password = input({
    type: 'password',
    autocomplete: 'current-password',
    required: '',
    'data-testid': 'login-password',
  });
  const status = statusLine();
  const submit = async () => {
    status.clear();
    try {
      const me = await call<Me>('POST', '/auth/login', { username: username.value, password: password.value });
      password.value = '';
      if (me.user) onLoggedIn(me.user);
    } catch (err) {
      status.error(err);
    }
  };
  const form = el(
    'form',
    { className: 'card login' },
    bi(['Đăng nhập', 'Log in'], 'h2'),
    field(['Tên đăng nhập', 'Username'], username),
    field(['Mật khẩu', 'Password'], password),
    button(['Đăng nhập', 'Log in'], submit, 'primary'),
    status.node,
  );
  // No admin yet: say where the first account comes from (the server's setup link).
  void call<SetupStatus>('GET', '/setup')
    .then(({ needed }) => {
      if (!needed) return;
      form.append(
        bi(
          [
            'Chưa có tài khoản nào. Khi máy chủ khởi động, nó in ra một đường dẫn thiết lập dùng một lần ' +
              '(…/setup/…): mở đường dẫn đó để tạo tài khoản quản trị đầu tiên. Đường dẫn hết hạn sau 1 giờ; ' +
              'khởi động lại máy chủ để có đường dẫn mới.',
            'No account exists yet. When the server starts it prints a one-time setup link (…/setup/…): open it ' +
              'to create the first admin account. The link expires after 1 hour; restart the server for a new one.',
          ],
          'p',
        ),
      );
      form.lastElementChild?.setAttribute('data-testid', 'login-no-account');
    })
    .catch(() => undefined);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void submit();
  });
  password.addEventListener('keydown', (e) => e.key === 'Enter' && void submit());
  return form;
}
