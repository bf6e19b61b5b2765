// The network desk's monitor (/monitor): every invited point of a session as a tile
// coloured by status, totals by district and province, filters, a point's detail with
// live charts, the alerts. A snapshot on (re)connect, then deltas about once a second.
// The province and district selectors are the server's filter (`monitor:watch`): a desk
// watching one district receives that district's points only. Level, status, pre-flight
// and search filter what the page already has.
import type {
  MonitorAreas,
  MonitorFilter,
  MonitorSession,
  MonitorSnapshot,
  Rollup,
} from '../../../server/contract/attendance';
import type { PointMode } from '../../../server/contract/broadcast';
import { loginView } from '../host/login';
import { AlertList } from '../monitor/alerts';
import { AreaWatcher } from '../monitor/area-watch';
import { DetailPanel } from '../monitor/detail';
import { PointModeControl } from '../monitor/point-mode';
import { TileGrid, type GridFilter } from '../monitor/grid';
import { fmtNum, LEVEL_TEXT, STATUS_TEXT } from '../monitor/labels';
import { requester, RequestError } from '../net/request';
import { connectMonitor } from '../net/sockets';
import { failed } from '../ui/errors';
import { bi, plain, setBi } from '../ui/i18n';
import { el, mountShell } from '../ui/shell';
import { NodesPanel } from '../monitor/nodes';
import { PreflightBoard } from '../monitor/preflight-board';
import { RoomView, RoomViewFeed } from '../monitor/room-view';
import { FloorControl, type FloorAction } from '../monitor/floor-control';
import { DialControl } from '../monitor/dial-control';
import { TalkPanel } from '../monitor/talk';
import { showTime, zoneText } from '../ui/time';
import { STATE_TEXT } from '../ui/words';

const main = mountShell({ title: { vi: 'Giám sát kết nối', en: 'Connection monitor' } });
document.head.append(el('link', { attrs: { rel: 'stylesheet', href: '/assets/attendance.css' } }));
document.body.classList.add('monitor-page');

const status = el('div', { className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
const loginBox = el('div', { className: 'hidden' });
const sessionSelect = el('select', { attrs: { 'data-testid': 'session-select', 'aria-label': 'Phiên · Session' } });
const totals = el('div', { className: 'totals', attrs: { 'data-testid': 'totals' } });
const reportLinks = el('span', { className: 'report-links' });
const worst = el('input', { attrs: { type: 'checkbox', 'data-testid': 'worst-first' } });
const provinceSel = el('select', { attrs: { 'aria-label': 'Tỉnh · Province', 'data-testid': 'filter-province' } });
const districtSel = el('select', { attrs: { 'aria-label': 'Huyện · District', 'data-testid': 'filter-district' } });
const levelSel = el('select', { attrs: { 'aria-label': 'Cấp · Level', 'data-testid': 'filter-level' } });
const statusSel = el('select', { attrs: { 'aria-label': 'Trạng thái · Status', 'data-testid': 'filter-status' } });
const search = el('input', {
  attrs: { type: 'search', placeholder: 'Tìm điểm cầu · Search', 'data-testid': 'filter-search' },
});
levelSel.append(el('option', { text: 'Mọi cấp · All levels', attrs: { value: '' } }));
for (const [k, t] of Object.entries(LEVEL_TEXT)) levelSel.append(el('option', { text: plain(t), attrs: { value: k } }));
statusSel.append(el('option', { text: 'Mọi trạng thái · All statuses', attrs: { value: '' } }));
for (const [k, t] of Object.entries(STATUS_TEXT))
  statusSel.append(el('option', { text: plain(t), attrs: { value: k } }));
const worstLabel = el('label', { className: 'inline' }, worst);
worstLabel.append(' Xấu nhất trước · Worst first');
const preflightBoard = new PreflightBoard(async () => {
  if (!sessionId) return;
  try {
    await request('preflight:rerun', { sessionId });
    say(['Đã yêu cầu mọi điểm cầu kiểm tra lại', 'Every point was asked to check again'], 'ok');
  } catch (err) {
    say(failed(['Không thực hiện được', 'Failed'], err), 'warn');
  }
});
const toolbar = el(
  'div',
  { className: 'toolbar' },
  sessionSelect,
  provinceSel,
  districtSel,
  levelSel,
  statusSel,
  search,
  worstLabel,
  el('span', { className: 'muted', text: plain(zoneText()), attrs: { 'data-testid': 'time-zone' } }),
  preflightBoard.node,
  reportLinks,
);

const socket = connectMonitor({ transports: ['websocket', 'polling'], reconnectionDelayMax: 5000 });
const request = requester(socket);
const query = new URLSearchParams(location.search);
let sessionId: string | undefined = query.get('session') ?? undefined;
/** The server's filter: what this desk watches of the session. */
let area: MonitorFilter = {
  ...(query.get('province') ? { province: query.get('province')! } : {}),
  ...(query.get('district') ? { district: query.get('district')! } : {}),
};
let areas: MonitorAreas = { provinces: [], districts: [] };
let snapshotAt = '';

const grid: TileGrid = new TileGrid((id) => void openDetail(id), {
  onPainted: () => preflightBoard.show(grid.preflightCounts(), grid.toneNotHeard()),
});
const pointMode: PointModeControl = new PointModeControl((mode): Promise<PointMode> =>
  request('point:mode', { sessionId: sessionId!, pointId: detail.pointId!, mode }),
);
const rerunOne = el('button', {
  text: 'Kiểm tra lại điểm này · Check this point again',
  attrs: { type: 'button', 'data-testid': 'preflight-rerun' },
});
rerunOne.addEventListener('click', () => {
  if (!sessionId || !detail.pointId) return;
  request('preflight:rerun', { sessionId, pointId: detail.pointId }).then(
    () => say(['Đã yêu cầu điểm cầu kiểm tra lại', 'The point was asked to check again'], 'ok'),
    (err: unknown) => say(failed(['Không thực hiện được', 'Failed'], err), 'warn'),
  );
});
// The open point's room, seen while its detail is open.
const roomFeed = new RoomViewFeed(socket);
const roomView = new RoomView();
const seeRoom = (pointId?: string) => {
  if (!sessionId) return;
  if (pointId) roomView.clear();
  roomFeed.watch(sessionId, new Map(pointId ? [[pointId, roomView]] : [])).catch((err: unknown) => {
    say(failed(['Không xem được phòng', 'Could not see the room'], err), 'warn');
  });
};
const talk = new TalkPanel((to, text) => request('talk:send', { sessionId: sessionId!, to, text }));
const floor: FloorControl = new FloorControl((action: FloorAction) => {
  const s = sessionId!;
  const pointId = detail.pointId!;
  if (action === 'grant') return request('floor:grant', { sessionId: s, pointId });
  if (action === 'mute' || action === 'unmute')
    return request('floor:mute', { sessionId: s, muted: action === 'mute' });
  if (action === 'revoke') return request('floor:revoke', { sessionId: s });
  return request('floor:state', { sessionId: s });
});
const dial = new DialControl({
  dial: (pointId, address) => request('sip:dial', { sessionId: sessionId!, pointId, ...(address ? { address } : {}) }),
  hangUp: (pointId) => request('sip:hangup', { sessionId: sessionId!, pointId }),
});
const detail: DetailPanel = new DetailPanel(
  () => {
    grid.select(undefined);
    closeDetail();
    seeRoom();
    talk.hide();
    floor.hide();
    dial.hide();
  },
  async (pointId, checkinId, reason) => {
    try {
      await request('checkin:void', { sessionId: sessionId!, pointId, checkinId, reason });
      await openDetail(pointId);
    } catch (err) {
      say(failed(['Không huỷ được', 'Could not void'], err), 'warn');
    }
  },
  [roomView.node, pointMode.node, rerunOne, floor.node, dial.node, talk.node],
);
const alerts = new AlertList({
  ack: (id) => act(() => request('alert:ack', { sessionId: sessionId!, alertId: id })),
  assign: (id, to) => act(() => request('alert:assign', { sessionId: sessionId!, alertId: id, assignee: to })),
  clear: (id) => act(() => request('alert:clear', { sessionId: sessionId!, alertId: id })),
  open: (pointId) => void openDetail(pointId),
});
const board = el('div', { className: 'board' }, grid.node, el('div', { className: 'side' }, detail.node, alerts.node));
const nodes = new NodesPanel(() => sessionId);
const app = el('div', { className: 'monitor hidden' }, toolbar, totals, board, nodes.node);
main.append(status, loginBox, app);

function say(text: readonly [string, string], kind: 'info' | 'ok' | 'warn' | 'bad' = 'info') {
  status.className = `status ${kind}`;
  setBi(status, text);
}

async function act(fn: () => Promise<{ id: string } & Record<string, unknown>>): Promise<void> {
  try {
    const a = await fn();
    alerts.upsert([a as never]);
  } catch (err) {
    say(failed(['Không thực hiện được', 'Failed'], err), 'warn');
  }
}

function showTotals(p: Rollup) {
  const by = (s: string) => p.byStatus[s] ?? 0;
  totals.replaceChildren(
    el(
      'div',
      { className: 'big' },
      el('strong', { text: `${fmtNum(p.connected)}/${fmtNum(p.invited)}`, attrs: { 'data-testid': 'total-points' } }),
      bi(['điểm cầu kết nối', 'points connected']),
    ),
    el(
      'div',
      { className: 'big' },
      el('strong', {
        text: `${fmtNum(p.delegates)}/${fmtNum(p.expected)}`,
        attrs: { 'data-testid': 'total-delegates' },
      }),
      bi(['đại biểu', 'delegates']),
    ),
    el('div', { className: 'big' }, el('strong', { text: fmtNum(p.checkedIn) }), bi(['điểm danh', 'checked in'])),
    el(
      'div',
      { className: 'chips' },
      ...(['good', 'degraded', 'poor', 'lost', 'connecting', 'offline'] as const).map((s) =>
        el('span', { className: `chip st-${s}`, text: `${plain(STATUS_TEXT[s])}: ${by(s)}` }),
      ),
    ),
  );
}

function filters(): GridFilter {
  return {
    district: districtSel.value,
    level: levelSel.value,
    status: statusSel.value,
    preflight: preflightBoard.filter.value,
    q: search.value,
    worstFirst: worst.checked,
  };
}
for (const c of [levelSel, statusSel, preflightBoard.filter, worst])
  c.addEventListener('change', () => grid.applyFilter(filters()));
// A province or district chosen: the server sends that area's points only from now on.
const watchArea = () => {
  if (!sessionId) return;
  const district = areas.districts.find((d) => d.code === districtSel.value);
  const province = provinceSel.value;
  area = {
    ...(province ? { province } : {}),
    // A district of another province than the one chosen is dropped.
    ...(district && (!province || !district.province || district.province === province)
      ? { district: district.code }
      : {}),
  };
  void watch(sessionId).catch((err: unknown) => say(failed(['Không lọc được', 'Could not filter'], err), 'warn'));
};
provinceSel.addEventListener('change', watchArea);
districtSel.addEventListener('change', watchArea);

/** The selectors from the session's areas, the districts of the chosen province only. */
function showAreas(a: MonitorAreas, f: MonitorFilter) {
  areas = a;
  provinceSel.replaceChildren(el('option', { text: 'Mọi tỉnh · All provinces', attrs: { value: '' } }));
  for (const p of a.provinces) provinceSel.append(el('option', { text: p.name, attrs: { value: p.code } }));
  provinceSel.value = f.province ?? '';
  // One province (a provincial briefing): nothing to choose.
  provinceSel.classList.toggle('hidden', a.provinces.length <= 1);
  districtSel.replaceChildren(el('option', { text: 'Mọi huyện · All districts', attrs: { value: '' } }));
  for (const d of a.districts)
    if (!f.province || !d.province || d.province === f.province)
      districtSel.append(el('option', { text: d.name, attrs: { value: d.code } }));
  districtSel.value = f.district ?? '';
}
search.addEventListener('input', () => grid.applyFilter(filters()));

function applySnapshot(s: MonitorSnapshot) {
  snapshotAt = s.serverTime;
  showAreas(s.areas, s.filter);
  grid.setAll(s.points, s.districts, s.serverTime);
  grid.applyFilter(filters());
  alerts.set(s.alerts.slice().reverse());
  showTotals(s.province);
  showReportLinks(s.session);
}

function showReportLinks(s: MonitorSession) {
  reportLinks.replaceChildren();
  if (s.state !== 'ended') return;
  const base = `/api/v1/reports/${encodeURIComponent(s.id)}`;
  const csv = el('a', { text: 'Báo cáo CSV · CSV report', attrs: { href: `${base}/csv` } });
  const html = el('a', {
    text: 'Bản in · Printable',
    attrs: { href: `${base}/html`, target: '_blank', rel: 'noopener' },
  });
  reportLinks.append(csv, ' · ', html);
}

/** Tell the server the detail view closed, so its point's samples stop. */
function closeDetail() {
  if (!sessionId) return;
  request('monitor:undetail', { sessionId }).catch(() => undefined);
}

/** The address says what the desk watches (a reload keeps it). */
function showAddress() {
  const q = new URLSearchParams({ session: sessionId!, ...area });
  history.replaceState(null, '', `?${q.toString()}`);
}

const watches = new AreaWatcher();
/**
 * Watches a session in the current area; when that area is refused or unknown, every point
 * instead, and the page says so. An answer to a watch made before the last one is dropped,
 * as are its errors.
 */
async function watch(id: string): Promise<void> {
  if (detail.pointId) closeDetail();
  if (id !== sessionId) area = {};
  sessionId = id;
  showAddress();
  // Tiles still waiting may belong to the session watched before, under the same ids.
  grid.discardPending();
  detail.hide();
  seeRoom();
  const watched = await watches.watch((f) => request('monitor:watch', { sessionId: id, ...f }), area);
  if (!watched) return;
  applySnapshot(watched.snapshot);
  if (watched.dropped) {
    area = watched.snapshot.filter;
    showAddress();
    say(
      [
        'Khu vực trong địa chỉ trang không hợp lệ hoặc không có trong phiên này; đang xem mọi điểm cầu',
        "The page address's area is not valid or not in this session; watching every point",
      ],
      'warn',
    );
  } else say(['Đang theo dõi trực tiếp', 'Watching live'], 'ok');
  let unread: Record<string, number>;
  try {
    unread = await request('talk:unread', { sessionId: id });
  } catch (err) {
    // A watch made since has its own counts to fetch, and its own errors to say.
    if (watched.current()) throw err;
    return;
  }
  if (watched.current()) for (const [pointId, n] of Object.entries(unread)) grid.setUnread(pointId, n);
}

async function openDetail(pointId: string) {
  if (!sessionId) return;
  grid.select(pointId);
  try {
    const [d, mode, history, f] = await Promise.all([
      request('monitor:detail', { sessionId, pointId }),
      request('point:mode', { sessionId, pointId }),
      request('talk:history', { sessionId, pointId }),
      request('floor:state', { sessionId }),
    ]);
    detail.show(d);
    pointMode.show(mode);
    seeRoom(pointId);
    talk.show(d.tile, history.messages);
    floor.show(pointId, f);
    dial.show(pointId, f.mayControl, d.sipAddress);
    grid.setUnread(pointId, 0);
  } catch (err) {
    say(failed(['Không mở được', 'Could not open'], err), 'warn');
  }
}

socket.on('delta', (d) => {
  if (d.sessionId !== sessionId || d.at < snapshotAt) return;
  // The tiles are painted over the next frames (half the wall can change at once); the
  // totals, district counts, alerts and the open detail are few nodes and go now.
  grid.update(d.points, d.at);
  grid.setRollups(d.districts);
  showTotals(d.province);
  if (d.alerts.length) alerts.upsert(d.alerts);
  if (detail.pointId) {
    const t = d.points.find((p) => p.id === detail.pointId);
    if (t) detail.tile(t);
    floor.refresh();
  }
  if (d.session) showReportLinks(d.session);
});
socket.on('sip:dial', (s) => {
  if (s.sessionId === sessionId) dial.update(s);
});
// A point's message marks its tile, unless its conversation is open (then it is read).
socket.on('talk', (m) => {
  if (m.sessionId !== sessionId) return;
  talk.add(m);
  if (m.from !== 'point' || !m.pointId) return;
  if (m.pointId === talk.pointId)
    void request('talk:history', { sessionId, pointId: m.pointId }).catch(() => undefined);
  else grid.setUnread(m.pointId, grid.unread(m.pointId) + 1);
});
socket.on('talk:read', (e) => {
  if (e.sessionId === sessionId) grid.setUnread(e.pointId, 0);
});
socket.on('sample', (e) => {
  if (e.sessionId === sessionId && e.pointId === detail.pointId) detail.sample(e.sample);
});

socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
  if (err.data?.code === 'unauthenticated' || err.data?.code === 'forbidden') {
    socket.disconnect();
    app.classList.add('hidden');
    if (err.data.code === 'forbidden') {
      say(['Tài khoản này không được xem trang giám sát.', 'This account may not use the monitor.'], 'bad');
    } else {
      status.className = 'status hidden';
    }
    loginBox.replaceChildren(
      loginView(() => {
        loginBox.classList.add('hidden');
        socket.connect();
      }),
    );
    loginBox.classList.remove('hidden');
  } else {
    say(['Mất kết nối máy chủ, đang thử lại…', 'Lost the server, retrying…'], 'warn');
  }
});
socket.on('disconnect', (reason) => {
  if (reason !== 'io client disconnect')
    say(['Mất kết nối máy chủ, đang thử lại…', 'Lost the server, retrying…'], 'warn');
});
socket.on('connect', () => {
  void (async () => {
    try {
      const sessions = await request('monitor:sessions', {});
      sessionSelect.replaceChildren(
        ...sessions.map((s) =>
          el('option', {
            text: `${s.title} — ${showTime(s.scheduledStart)} (${STATE_TEXT[s.state].join(' · ')})`,
            attrs: { value: s.id },
          }),
        ),
      );
      if (sessions.length === 0) {
        say(['Chưa có hội nghị nào.', 'No briefing yet.'], 'info');
        return;
      }
      const id = sessionId && sessions.some((s) => s.id === sessionId) ? sessionId : sessions[0]!.id;
      sessionSelect.value = id;
      app.classList.remove('hidden');
      nodes.start();
      await watch(id);
    } catch (err) {
      if (err instanceof RequestError) say(failed(['Lỗi', 'Error'], err), 'bad');
    }
  })();
});
sessionSelect.addEventListener('change', () => void watch(sessionSelect.value).catch(() => undefined));

// For the end-to-end tests and a technician's console.
(window as unknown as { monitor: unknown }).monitor = { socket, grid, sessionId: () => sessionId };
