// The admin's accounts: list, create, change role, disable or enable.
import type { Account, Page, Role } from '../../../server/contract/api';
import { ROLES } from '../../../server/contract/api';
import { call, qs } from './api';
import { bi, button, el, field, input, row, select, statusLine, table, type Text } from './ui';

const ROLE_TEXT: Record<Role, Text> = {
  admin: ['Quản trị', 'Admin'],
  host: ['Chủ trì', 'Host'],
  technician: ['Kỹ thuật', 'Technician'],
};
const roleOptions = () => ROLES.map((r) => [r, ROLE_TEXT[r].join(' · ')] as [string, string]);

export function accountsView(): HTMLElement {
  const status = statusLine();
  const list = el('div');

  async function load() {
    try {
      const page = await call<Page<Account>>('GET', `/accounts${qs({ limit: 200 })}`);
      list.replaceChildren(
        table(
          [
            ['Tên đăng nhập', 'Username'],
            ['Vai trò', 'Role'],
            ['Trạng thái', 'Status'],
            ['', ''],
          ],
          page.items.map((a) => {
            const role = select(roleOptions());
            role.value = a.role;
            role.addEventListener(
              'change',
              () => void call('PATCH', `/accounts/${a.id}`, { role: role.value }).then(load, status.error),
            );
            return row(
              `${a.username}${a.displayName !== a.username ? ` (${a.displayName})` : ''}`,
              role,
              a.disabled ? 'Đã khóa · Disabled' : 'Hoạt động · Active',
              button(a.disabled ? ['Mở khóa', 'Enable'] : ['Khóa', 'Disable'], () =>
                call('PATCH', `/accounts/${a.id}`, { disabled: !a.disabled }).then(load, status.error),
              ),
            );
          }),
        ),
      );
    } catch (err) {
      status.error(err);
    }
  }

  const username = input({ autocomplete: 'off' });
  const displayName = input();
  const password = input({ type: 'password', autocomplete: 'new-password', minlength: '12' });
  const role = select(roleOptions());
  role.value = 'host';
  const create = async () => {
    try {
      await call('POST', '/accounts', {
        username: username.value,
        role: role.value,
        password: password.value,
        ...(displayName.value.trim() ? { displayName: displayName.value } : {}),
      });
      username.value = displayName.value = password.value = '';
      status.say(['Đã tạo tài khoản', 'Account created'], 'ok');
      await load();
    } catch (err) {
      status.error(err);
    }
  };

  void load();
  return el(
    'section',
    {},
    bi(['Tài khoản', 'Accounts'], 'h2'),
    el(
      'details',
      { className: 'card' },
      el('summary', {}, bi(['Tạo tài khoản', 'Create an account'])),
      field(['Tên đăng nhập', 'Username'], username),
      field(['Họ tên', 'Display name'], displayName),
      field(['Mật khẩu (ít nhất 12 ký tự)', 'Password (12+ characters)'], password),
      field(['Vai trò', 'Role'], role),
      button(['Tạo', 'Create'], create, 'primary'),
    ),
    status.node,
    list,
  );
}
