// The video wall (/wall): the rooms of a session's points, 16 at a time (4x4), for the big
// screen of the provincial hall. Each cell: the point's room view, its name, district and
// status. It turns the page by itself every `?every=` seconds (20 by default); the arrow
// keys, Page Up/Down and Space turn it by hand, P pauses. Only the 16 points shown are asked
// for their room view. Logged in as on /monitor (technician, host or admin).
import type { MonitorSnapshot, PointTile } from '../../../server/contract/attendance';
import { ROOM_VIEW } from '../../../server/contract/room-view-limits';
import { loginView } from '../host/login';
import { STATUS_TEXT } from '../monitor/labels';
import { RoomView, RoomViewFeed } from '../monitor/room-view';
import { requester } from '../net/request';
import { connectMonitor } from '../net/sockets';
import { failed } from '../ui/errors';
import { plain, setBi, type Text } from '../ui/i18n';
import { el, mountShell } from '../ui/shell';

const main = mountShell({ title: { vi: 'Màn hình các điểm cầu', en: 'Video wall' } });
document.body.classList.add('wall-page');
const params = new URLSearchParams(location.search);
const everySeconds = Math.max(5, Number(params.get('every')) || 20);
const PER_PAGE = ROOM_VIEW.maxWatched;

const status = el('div', { className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
const loginBox = el('div', { className: 'hidden' });
const title = el('strong', { attrs: { 'data-testid': 'wall-title' } });
const pageLine = el('span', { attrs: { 'data-testid': 'wall-page' } });
const pauseLine = el('span', { className: 'muted' });
const bar = el(
  'div',
  { className: 'wall-bar' },
  title,
  el('span', { className: 'spacer' }),
  pauseLine,
  pageLine,
  el('span', { className: 'muted', text: '← → · P' }),
);
const gridNode = el('div', { className: 'wall-grid', attrs: { 'data-testid': 'wall-grid' } });
main.append(status, loginBox, bar, gridNode);

const socket = connectMonitor({ transports: ['websocket', 'polling'], reconnectionDelayMax: 5000 });
const request = requester(socket);
const feed = new RoomViewFeed(socket);
let sessionId = params.get('session') ?? '';
let tiles: PointTile[] = [];
let page = 0;
let paused = false;
let turner: ReturnType<typeof setInterval> | undefined;
const cells = new Map<string, { node: HTMLElement; status: HTMLElement }>();

function say(text: Text, kind: 'info' | 'ok' | 'warn' | 'bad' = 'info') {
  status.className = `status ${kind}`;
  setBi(status, text);
}

const pages = () => Math.max(1, Math.ceil(tiles.length / PER_PAGE));

/** Points in a stable order: by district, the district's own point first, then by name. */
function order(list: PointTile[]): PointTile[] {
  return list
    .slice()
    .sort(
      (a, b) =>
        a.districtName.localeCompare(b.districtName, 'vi') ||
        Number(b.level === 'district') - Number(a.level === 'district') ||
        a.name.localeCompare(b.name, 'vi'),
    );
}

function paintStatus(t: PointTile) {
  const c = cells.get(t.id);
  if (!c) return;
  c.node.className = `wall-cell st-${t.status}`;
  c.status.textContent = plain(STATUS_TEXT[t.status] ?? [t.status, t.status]);
}

/** Shows page `n` and asks for exactly its points' rooms. */
function show(n: number) {
  page = ((n % pages()) + pages()) % pages();
  const shown = tiles.slice(page * PER_PAGE, (page + 1) * PER_PAGE);
  const views = new Map<string, RoomView>();
  cells.clear();
  gridNode.replaceChildren(
    ...shown.map((t) => {
      const view = new RoomView();
      views.set(t.id, view);
      const st = el('span', { className: 'muted', attrs: { 'data-testid': 'wall-status' } });
      const node = el(
        'div',
        { className: 'wall-cell', attrs: { 'data-testid': 'wall-cell', 'data-point': t.id } },
        view.node,
        el(
          'div',
          { className: 'wall-label' },
          el('strong', { text: t.name, attrs: { title: t.name } }),
          el('span', { className: 'muted', text: t.districtName }),
          st,
        ),
      );
      cells.set(t.id, { node, status: st });
      paintStatus(t);
      return node;
    }),
  );
  pageLine.textContent = `Trang ${page + 1}/${pages()} · Page ${page + 1} of ${pages()}`;
  feed
    .watch(sessionId, views)
    .catch((err: unknown) => say(failed(['Không xem được phòng', 'Could not see the rooms'], err), 'warn'));
}

function restartTurner() {
  clearInterval(turner);
  turner = setInterval(() => {
    if (!paused && pages() > 1) show(page + 1);
  }, everySeconds * 1000);
}

function setPaused(p: boolean) {
  paused = p;
  pauseLine.textContent = paused
    ? 'Tạm dừng chuyển trang (P) · Paging paused (P)'
    : `Tự chuyển trang sau ${everySeconds} giây · Next page every ${everySeconds} s`;
}

document.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement) return;
  if (e.key === 'ArrowRight' || e.key === 'PageDown' || e.key === ' ') show(page + 1);
  else if (e.key === 'ArrowLeft' || e.key === 'PageUp') show(page - 1);
  else if (e.key === 'p' || e.key === 'P') setPaused(!paused);
  else return;
  e.preventDefault();
  restartTurner(); // a page turned by hand stays its full time
});

function apply(s: MonitorSnapshot) {
  title.textContent = s.session.title;
  tiles = order(s.points);
  show(Math.min(page, pages() - 1));
}

socket.on('delta', (d) => {
  if (d.sessionId !== sessionId) return;
  for (const t of d.points) {
    const i = tiles.findIndex((x) => x.id === t.id);
    if (i >= 0) tiles[i] = t;
    paintStatus(t);
  }
});

socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
  if (err.data?.code !== 'unauthenticated' && err.data?.code !== 'forbidden') {
    say(['Mất kết nối máy chủ, đang thử lại…', 'Lost the server, retrying…'], 'warn');
    return;
  }
  socket.disconnect();
  if (err.data.code === 'forbidden') say(['Tài khoản này không được xem.', 'This account may not see this.'], 'bad');
  loginBox.replaceChildren(
    loginView(() => {
      loginBox.classList.add('hidden');
      socket.connect();
    }),
  );
  loginBox.classList.remove('hidden');
});

socket.on('connect', () => {
  void (async () => {
    try {
      const sessions = await request('monitor:sessions', {});
      const chosen =
        sessions.find((s) => s.id === sessionId) ??
        sessions.find((s) => s.state === 'live') ??
        sessions.find((s) => s.state === 'lobby') ??
        sessions[0];
      if (!chosen) return say(['Chưa có hội nghị nào.', 'No briefing yet.']);
      sessionId = chosen.id;
      history.replaceState(null, '', `?session=${encodeURIComponent(sessionId)}&every=${everySeconds}`);
      apply(await request('monitor:watch', { sessionId }));
      status.className = 'status hidden';
      restartTurner();
    } catch (err) {
      say(failed(['Lỗi', 'Error'], err), 'bad');
    }
  })();
});
setPaused(false);

// For the end-to-end tests and a technician's console.
(window as unknown as { wall: unknown }).wall = { socket, page: () => page, pages, next: () => show(page + 1) };
