// The login form of the host page.
import type { Me } from '../../../server/contract/api';
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
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void submit();
  });
  password.addEventListener('keydown', (e) => e.key === 'Enter' && void submit());
  return form;
}
