// Briefing sessions for the host: the list, the editor (times, agenda, invited points),
// the state buttons, and the join links with their QR codes and exports. A session in
// its lobby or live opens the live console (./live.ts, the broadcast issue's module).
import type {
  AgendaItemInput,
  Invite,
  JoinLink,
  Page,
  PointLevel,
  PointSummary,
  Role,
  Session,
  SessionAction,
  SessionState,
  SessionSummary,
} from '../../../server/contract/api';
import { POINT_LEVELS } from '../../../server/contract/api';
import { API, call, qs } from './api';
import { mountLiveConsole, type LiveConsole } from './live';
import { LEVEL_TEXT } from './points';
import {
  bi,
  button,
  el,
  field,
  fromLocalInput,
  input,
  row,
  select,
  statusLine,
  table,
  toLocalInput,
  when,
  type Text,
} from './ui';

export const STATE_TEXT: Record<SessionState, Text> = {
  draft: ['Nháp', 'Draft'],
  scheduled: ['Đã lên lịch', 'Scheduled'],
  lobby: ['Phòng chờ', 'Lobby'],
  live: ['Đang diễn ra', 'Live'],
  ended: ['Đã kết thúc', 'Ended'],
  cancelled: ['Đã hủy', 'Cancelled'],
};

const ACTIONS: { action: SessionAction; from: SessionState[]; text: Text; className?: string }[] = [
  { action: 'schedule', from: ['draft'], text: ['Lên lịch', 'Schedule'], className: 'primary' },
  { action: 'open-lobby', from: ['scheduled'], text: ['Mở phòng chờ ngay', 'Open the lobby now'] },
  { action: 'start', from: ['scheduled', 'lobby'], text: ['Bắt đầu', 'Start'], className: 'primary' },
  { action: 'end', from: ['live'], text: ['Kết thúc', 'End'], className: 'danger' },
  { action: 'cancel', from: ['draft', 'scheduled', 'lobby'], text: ['Hủy phiên', 'Cancel'], className: 'danger' },
];

export function sessionsView(role: Role): HTMLElement {
  const canEdit = role === 'admin' || role === 'host';
  const status = statusLine();
  const list = el('div', { attrs: { 'data-testid': 'sessions-list' } });
  const detail = el('div', { attrs: { 'data-testid': 'session-detail' } });
  /** The live console, in a box that stays when the card around it is drawn again. */
  let live: { id: string; box: HTMLElement; console: LiveConsole } | undefined;
  /** The card on screen: the session it was drawn from and its node. */
  let shown: { s: Session; node: HTMLElement; linksBox: HTMLElement } | undefined;
  let following = 0;

  function closeLive() {
    live?.console.close();
    live = undefined;
  }

  /**
   * The live console tells the session's state (going live, ending, or a job or another
   * host moving it); the card's state line and buttons follow without being reopened.
   */
  async function followState(id: string, state: SessionState) {
    const card = shown;
    if (!card || card.s.id !== id || card.s.state === state || !card.node.isConnected) return;
    const mine = ++following;
    try {
      const fresh = await call<Session>('GET', `/sessions/${id}`);
      // Another change, another card or the editor may have come meanwhile.
      if (mine !== following || shown !== card || !card.node.isConnected) return;
      showSession(fresh);
      await loadList();
    } catch (err) {
      status.error(err);
    }
  }

  async function loadList() {
    try {
      const page = await call<Page<SessionSummary>>('GET', `/sessions${qs({ limit: 100 })}`);
      list.replaceChildren(
        table(
          [
            ['Phiên họp', 'Session'],
            ['Bắt đầu', 'Start'],
            ['Trạng thái', 'State'],
            ['Điểm cầu', 'Points'],
            ['', ''],
          ],
          page.items.map((s) =>
            row(
              s.title,
              when(s.scheduledStart),
              `${STATE_TEXT[s.state][0]}${s.overrunAt ? ' ⚠' : ''}`,
              String(s.invitedPoints),
              button(['Mở', 'Open'], () => openSession(s.id)),
            ),
          ),
        ),
      );
    } catch (err) {
      status.error(err);
    }
  }

  async function openSession(id: string) {
    closeLive();
    shown = undefined;
    try {
      const s = await call<Session>('GET', `/sessions/${id}`);
      showSession(s);
    } catch (err) {
      status.error(err);
    }
  }

  function showSession(s: Session) {
    const st = statusLine();
    const act = async (action: SessionAction) => {
      try {
        const next = await call<Session>('POST', `/sessions/${s.id}/${action}`);
        showSession(next);
        await loadList();
      } catch (err) {
        st.error(err);
      }
    };
    const actions = canEdit
      ? ACTIONS.filter((a) => a.from.includes(s.state)).map((a) => button(a.text, () => act(a.action), a.className))
      : [];
    if (live && live.id !== s.id) closeLive();
    // Drawn again for the same session (an action, a state change): the console and the
    // join links stay where they are, with their media and sockets.
    const liveBox = live?.box ?? el('div', { attrs: { 'data-testid': 'live-console' } });
    const linksBox = shown?.s.id === s.id ? shown.linksBox : el('div');
    if (canEdit && (s.state === 'lobby' || s.state === 'live')) {
      actions.push(
        button(['Bàn điều khiển trực tiếp', 'Live console'], () => {
          closeLive();
          live = {
            id: s.id,
            box: liveBox,
            console: mountLiveConsole(liveBox, s.id, s.agenda, { onState: (state) => void followState(s.id, state) }),
          };
        }),
      );
    }
    const warnings: HTMLElement[] = [];
    if (s.startReachedAt && (s.state === 'scheduled' || s.state === 'lobby')) {
      warnings.push(el('p', { className: 'status warn', text: 'Đã đến giờ bắt đầu · Start time reached' }));
    }
    if (s.overrunAt) {
      warnings.push(
        el('p', { className: 'status bad', text: 'Phiên họp đã quá giờ dự kiến · Running past its planned end' }),
      );
    }
    const card = el(
      'div',
      { className: 'card', attrs: { 'data-testid': 'session-card', 'data-state': s.state } },
      el('h3', { text: s.title }),
      el('p', {
        text:
          `${STATE_TEXT[s.state].join(' · ')} — ` +
          `mở phòng chờ ${when(s.lobbyOpensAt)}, bắt đầu ${when(s.scheduledStart)}, kết thúc dự kiến ${when(s.plannedEnd)} · ` +
          `${s.invitedPointIds.length} điểm cầu, ${s.invitedDelegates} đại biểu`,
      }),
      ...warnings,
      el(
        'ol',
        { className: 'agenda' },
        ...s.agenda.map((a) =>
          el('li', { text: `${a.title} — ${[a.speaker, a.role].filter(Boolean).join(', ')} (${a.plannedMinutes}′)` }),
        ),
      ),
      el(
        'div',
        { className: 'controls', attrs: { 'data-testid': 'session-actions' } },
        ...actions,
        ...(canEdit && ['draft', 'scheduled', 'lobby', 'live'].includes(s.state)
          ? [button(['Sửa', 'Edit'], () => void detail.replaceChildren(editor(s)))]
          : []),
        ...(canEdit ? [button(['Đường dẫn tham dự', 'Join links'], () => showLinks(s, linksBox))] : []),
      ),
      ...(s.state === 'ended' ? [reportLinks(s.id)] : []),
      st.node,
      liveBox,
    );
    shown = { s, node: card, linksBox };
    detail.replaceChildren(card, linksBox);
  }

  function editor(s: Session | undefined): HTMLElement {
    const st = statusLine();
    const title = input({ value: s?.title ?? '', required: '', 'data-testid': 'session-title' });
    const defaultStart = new Date(Date.now() + 24 * 3600_000);
    defaultStart.setMinutes(0, 0, 0);
    const start = input({
      type: 'datetime-local',
      value: toLocalInput(s?.scheduledStart ?? defaultStart.toISOString()),
      'data-testid': 'session-start',
    });
    const lobby = input({ type: 'datetime-local', value: s ? toLocalInput(s.lobbyOpensAt) : '' });
    const end = input({
      type: 'datetime-local',
      value: toLocalInput(s?.plannedEnd ?? new Date(defaultStart.getTime() + 3 * 3600_000).toISOString()),
      'data-testid': 'session-end',
    });

    // Agenda: one row of inputs per item.
    const agendaRows = el('div', { className: 'agenda-edit' });
    const addItem = (a?: Partial<AgendaItemInput>) => {
      const t = input({ value: a?.title ?? '', placeholder: 'Quán triệt Nghị quyết 05-NQ/TU' });
      const sp = input({ value: a?.speaker ?? '', placeholder: 'Người trình bày · Speaker' });
      const ro = input({ value: a?.role ?? '', placeholder: 'Chức vụ · Role' });
      const mi = input({ type: 'number', min: '1', max: '600', value: String(a?.plannedMinutes ?? 30) });
      const docs = input({
        value: (a?.documents ?? []).map((d) => `${d.title} | ${d.url}`).join('; '),
        placeholder: 'Tài liệu: tên | https://… ; … · Documents',
      });
      const r = el('div', { className: 'agenda-row' }, t, sp, ro, mi, docs);
      (r as HTMLElement & { read?: () => AgendaItemInput }).read = () => ({
        ...(a?.id ? { id: a.id } : {}),
        title: t.value,
        speaker: sp.value,
        role: ro.value,
        plannedMinutes: Number(mi.value),
        documents: docs.value
          .split(';')
          .map((d) => d.split('|').map((x) => x.trim()))
          .filter(([dt, du]) => dt && du)
          .map(([dt, du]) => ({ title: dt!, url: du! })),
      });
      r.append(button(['Xóa', 'Remove'], () => r.remove()));
      agendaRows.append(r);
    };
    for (const a of s?.agenda ?? []) addItem(a);
    if (!s) addItem();

    // Invitation.
    const mode = select([
      ['all', 'Tất cả điểm cầu · All points'],
      ['districts', 'Theo huyện · By district'],
      ['levels', 'Theo cấp · By level'],
      ['points', 'Danh sách mã · A list of codes'],
    ]);
    const districtBoxes = el('div', { className: 'checks' });
    const levelBoxes = el(
      'div',
      { className: 'checks' },
      ...POINT_LEVELS.map((l) =>
        el('label', {}, el('input', { attrs: { type: 'checkbox', value: l } }), LEVEL_TEXT[l].join(' · ')),
      ),
    );
    const codes = el('textarea', { attrs: { rows: '3', placeholder: 'HT, HT-CX, HT-CX-001, …' } });
    const inv = s?.invite ?? { mode: 'all' };
    mode.value = inv.mode;
    if (inv.mode === 'points') codes.value = inv.pointIds.join(', ');
    if (inv.mode === 'levels') {
      for (const cb of levelBoxes.querySelectorAll('input')) cb.checked = inv.levels.includes(cb.value as PointLevel);
    }
    void call<PointSummary>('GET', '/points/summary').then((sum) => {
      districtBoxes.replaceChildren(
        ...sum.districts.map((d) => {
          const cb = el('input', { attrs: { type: 'checkbox', value: d.code } });
          cb.checked = inv.mode === 'districts' && inv.districts.includes(d.code);
          return el('label', {}, cb, `${d.name} (${d.points})`);
        }),
      );
    });
    const showInvite = () => {
      districtBoxes.hidden = mode.value !== 'districts';
      levelBoxes.hidden = mode.value !== 'levels';
      codes.hidden = mode.value !== 'points';
    };
    mode.addEventListener('change', showInvite);
    showInvite();
    const checked = (box: HTMLElement) =>
      [...box.querySelectorAll('input')].filter((c) => c.checked).map((c) => c.value);
    const readInvite = (): Invite => {
      switch (mode.value) {
        case 'districts':
          return { mode: 'districts', districts: checked(districtBoxes) };
        case 'levels':
          return { mode: 'levels', levels: checked(levelBoxes) as PointLevel[] };
        case 'points':
          return { mode: 'points', pointIds: codes.value.split(/[\s,;]+/).filter(Boolean) };
        default:
          return { mode: 'all' };
      }
    };

    const save = async () => {
      st.clear();
      const agenda = [...agendaRows.children].map((r) => (r as HTMLElement & { read: () => AgendaItemInput }).read());
      const timesEditable = !s || s.state === 'draft' || s.state === 'scheduled';
      const body = {
        title: title.value,
        ...(timesEditable
          ? {
              scheduledStart: fromLocalInput(start.value),
              ...(lobby.value ? { lobbyOpensAt: fromLocalInput(lobby.value) } : {}),
            }
          : {}),
        plannedEnd: fromLocalInput(end.value),
        agenda,
        invite: readInvite(),
      };
      try {
        const saved = s
          ? await call<Session>('PATCH', `/sessions/${s.id}`, body)
          : await call<Session>('POST', '/sessions', body);
        showSession(saved);
        await loadList();
      } catch (err) {
        st.error(err);
      }
    };

    return el(
      'div',
      { className: 'card editor', attrs: { 'data-testid': 'session-editor' } },
      bi(s ? ['Sửa phiên họp', 'Edit the session'] : ['Phiên họp mới', 'New session'], 'h3'),
      field(['Tiêu đề', 'Title'], title),
      el(
        'div',
        { className: 'row3' },
        field(['Bắt đầu', 'Start'], start),
        field(['Mở phòng chờ (mặc định 60 phút trước)', 'Lobby opens (default 60 min before)'], lobby),
        field(['Kết thúc dự kiến', 'Planned end'], end),
      ),
      bi(['Chương trình', 'Agenda'], 'h3'),
      agendaRows,
      button(['Thêm nội dung', 'Add an item'], () => addItem()),
      bi(['Điểm cầu mời', 'Invited points'], 'h3'),
      mode,
      districtBoxes,
      levelBoxes,
      codes,
      el(
        'div',
        { className: 'controls' },
        button(['Lưu', 'Save'], save, 'primary'),
        button(['Đóng', 'Close'], () => (s ? showSession(s) : void detail.replaceChildren())),
      ),
      st.node,
    );
  }

  async function showLinks(s: Session, box: HTMLElement, offset = 0) {
    const st = statusLine();
    const limit = 24;
    try {
      const page = await call<Page<JoinLink>>('GET', `/sessions/${s.id}/links${qs({ limit, offset })}`);
      const cards = page.items.map((l) => {
        const url = el('input', { className: 'url', attrs: { readonly: '', value: l.url } });
        return el(
          'div',
          { className: `link-card${l.revokedAt ? ' revoked' : ''}`, attrs: { 'data-testid': 'link-card' } },
          el('img', {
            className: 'qr',
            attrs: {
              src: `${API}/sessions/${s.id}/links/${encodeURIComponent(l.pointId)}/qr.svg?v=${l.version}`,
              alt: `QR ${l.code}`,
              loading: 'lazy',
            },
          }),
          el('strong', { text: l.name }),
          el('span', { text: `${l.code} · v${l.version}${l.revokedAt ? ' · đã thu hồi · revoked' : ''}` }),
          url,
          el(
            'div',
            { className: 'controls' },
            button(['Sao chép', 'Copy'], async () => {
              await navigator.clipboard?.writeText(l.url).catch(() => url.select());
            }),
            button(['Thu hồi', 'Revoke'], async () => {
              await call('POST', `/sessions/${s.id}/links/${encodeURIComponent(l.pointId)}/revoke`).catch(st.error);
              await showLinks(s, box, offset);
            }),
            button(['Cấp lại', 'Re-issue'], async () => {
              await call('POST', `/sessions/${s.id}/links/${encodeURIComponent(l.pointId)}/reissue`).catch(st.error);
              await showLinks(s, box, offset);
            }),
          ),
        );
      });
      box.replaceChildren(
        el(
          'div',
          { className: 'card' },
          bi(['Đường dẫn tham dự', 'Join links'], 'h3'),
          el(
            'div',
            { className: 'controls' },
            el('a', {
              className: 'button',
              text: 'Tải CSV · Download CSV',
              attrs: { href: `${API}/sessions/${s.id}/links.csv`, download: '' },
            }),
            el('a', {
              className: 'button',
              text: 'Bản in · Printable sheet',
              attrs: { href: `${API}/sessions/${s.id}/links/print`, target: '_blank', rel: 'noopener' },
            }),
            el('span', { text: `${offset + 1}–${offset + page.items.length} / ${page.total}` }),
            button(['Trang trước', 'Previous'], () => showLinks(s, box, Math.max(0, offset - limit))),
            button(['Trang sau', 'Next'], () =>
              showLinks(s, box, offset + limit < page.total ? offset + limit : offset),
            ),
          ),
          st.node,
          el('div', { className: 'link-grid' }, ...cards),
        ),
      );
    } catch (err) {
      st.error(err);
      box.replaceChildren(st.node);
    }
  }

  void loadList();
  return el(
    'section',
    { attrs: { 'data-testid': 'sessions-view' } },
    bi(['Phiên họp', 'Briefing sessions'], 'h2'),
    canEdit
      ? el(
          'div',
          { className: 'controls' },
          button(['Tạo phiên họp', 'New session'], () => void detail.replaceChildren(editor(undefined)), 'primary'),
        )
      : '',
    status.node,
    detail,
    list,
  );
}

/** The attendance and quality report of an ended session (written by a job at its end). */
function reportLinks(sessionId: string): HTMLElement {
  const base = `/api/v1/reports/${encodeURIComponent(sessionId)}`;
  return el(
    'p',
    { attrs: { 'data-testid': 'report-links' } },
    el('a', { text: 'Báo cáo điểm danh (CSV) · Attendance report (CSV)', attrs: { href: `${base}/csv` } }),
    ' · ',
    el('a', { text: 'Bản in · Printable', attrs: { href: `${base}/html`, target: '_blank', rel: 'noopener' } }),
  );
}
