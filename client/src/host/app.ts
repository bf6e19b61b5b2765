// The host console: log in, then tabs for sessions, the point registry and (admins)
// accounts. Each tab is a view module in this folder; the live console (./live.ts) opens
// from a session in its lobby or live.
import type { Me } from '../../../server/contract/api';
import { call } from './api';
import { accountsView } from './accounts';
import { loginView } from './login';
import { pointsView } from './points';
import { recordingsView } from './recordings';
import { sessionsView } from './sessions';
import { button, el, statusLine, type Text } from './ui';

type User = NonNullable<Me['user']>;
interface Tab {
  id: string;
  text: Text;
  view: (user: User) => HTMLElement;
  visible: (user: User) => boolean;
}

/** The tabs of the console; a new view is one more entry. */
export const TABS: Tab[] = [
  { id: 'sessions', text: ['Phiên họp', 'Sessions'], view: (u) => sessionsView(u.role), visible: () => true },
  { id: 'points', text: ['Điểm cầu', 'Points'], view: (u) => pointsView(u.role), visible: () => true },
  {
    id: 'recordings',
    text: ['Ghi hình', 'Recordings'],
    view: (u) => recordingsView(u.role),
    visible: (u) => u.role === 'admin' || u.role === 'host',
  },
  { id: 'accounts', text: ['Tài khoản', 'Accounts'], view: () => accountsView(), visible: (u) => u.role === 'admin' },
];

export async function startHostApp(root: HTMLElement): Promise<void> {
  const status = statusLine();
  let me: Me;
  try {
    me = await call<Me>('GET', '/auth/me');
  } catch (err) {
    status.error(err);
    root.replaceChildren(status.node);
    return;
  }
  if (me.user) showConsole(root, me.user);
  else root.replaceChildren(loginView((u) => showConsole(root, u)));
}

function showConsole(root: HTMLElement, user: User): void {
  const content = el('div', { className: 'tab-content' });
  const tabs = TABS.filter((t) => t.visible(user));
  const nav = el('nav', { className: 'tabs', attrs: { role: 'tablist' } });
  const open = (tab: Tab) => {
    for (const b of nav.querySelectorAll('button[data-tab]')) {
      b.setAttribute('aria-selected', String(b.getAttribute('data-tab') === tab.id));
    }
    content.replaceChildren(tab.view(user));
    history.replaceState(null, '', `#${tab.id}`);
  };
  for (const t of tabs) {
    const b = button(t.text, () => open(t));
    b.setAttribute('data-tab', t.id);
    b.setAttribute('role', 'tab');
    nav.append(b);
  }
  nav.append(
    el('span', { className: 'who', text: `${user.displayName} (${user.role})` }),
    button(['Đăng xuất', 'Log out'], async () => {
      await call('POST', '/auth/logout').catch(() => undefined);
      location.reload();
    }),
  );
  root.replaceChildren(nav, content);
  open(tabs.find((t) => `#${t.id}` === location.hash) ?? tabs[0]!);
}
