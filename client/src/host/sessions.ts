// Briefing sessions for the host: the list, a session's card with its state buttons,
// the editor (./session-editor.ts) and the join links (./join-links.ts). A session in
// its lobby or live opens the live console (./live.ts) inside its card.
import type { Page, Role, Session, SessionAction, SessionState, SessionSummary } from '../../../server/contract/api';
import { actionAllowed, CONTENT_EDITABLE } from '../../../server/contract/session-state';
import { call, qs } from './api';
import { showJoinLinks } from './join-links';
import { mountLiveConsole, type LiveConsole } from './live';
import { sessionEditor } from './session-editor';
import { plain } from '../ui/i18n';
import { STATE_TEXT } from '../ui/words';
import { bi, button, el, row, statusLine, table, when, zoneText, type StatusLine, type Text } from './ui';

export { STATE_TEXT };

/**
 * The card's state buttons. "Start" never makes a session live by itself: it opens the
 * lobby when needed and then the live console, where the host goes live with the camera
 * on. "End" and "Cancel" ask first. Each shows only where the contract's state
 * machine allows its action.
 */
const ACTIONS: { action: SessionAction; text: Text; className?: string; ask?: Text }[] = [
  { action: 'schedule', text: ['Lên lịch', 'Schedule'], className: 'primary' },
  { action: 'open-lobby', text: ['Mở phòng chờ ngay', 'Open the lobby now'] },
  { action: 'start', text: ['Bắt đầu', 'Start'], className: 'primary' },
  {
    action: 'end',
    text: ['Kết thúc', 'End'],
    className: 'danger',
    ask: ['Kết thúc hội nghị cho tất cả các điểm cầu?', 'End the briefing for every point?'],
  },
  {
    action: 'cancel',
    text: ['Hủy phiên', 'Cancel'],
    className: 'danger',
    ask: ['Hủy phiên họp này?', 'Cancel this session?'],
  },
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
      list.replaceChildren(sessionsTable(page.items, (id) => openSession(id)));
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

  function openEditor(s: Session | undefined) {
    detail.replaceChildren(
      sessionEditor(s, {
        onSaved: async (saved) => {
          showSession(saved);
          await loadList();
        },
        onClose: () => (s ? showSession(s) : void detail.replaceChildren()),
      }),
    );
  }

  /** Draws `s`'s card; with `console`, opens its live console in it. */
  function showSession(s: Session, opts: { console?: boolean } = {}) {
    const st = statusLine();
    if (live && live.id !== s.id) closeLive();
    // Drawn again for the same session (an action, a state change): the console and the
    // join links stay where they are, with their media and sockets.
    const liveBox = live?.box ?? el('div', { attrs: { 'data-testid': 'live-console' } });
    const linksBox = shown?.s.id === s.id ? shown.linksBox : el('div');
    const openConsole = () => {
      closeLive();
      live = {
        id: s.id,
        box: liveBox,
        console: mountLiveConsole(liveBox, s.id, s.agenda, { onState: (state) => void followState(s.id, state) }),
      };
      if (s.state === 'lobby') {
        st.say([
          'Kiểm tra camera và micro, rồi bấm "Bắt đầu phát trực tiếp"',
          'Check camera and microphone, then "Go live"',
        ]);
      }
    };
    const act = async (action: SessionAction, ask?: Text) => {
      if (ask && !confirm(plain(ask))) return;
      try {
        if (action === 'start' && s.state === 'lobby') return openConsole();
        if (action === 'start') {
          // Going live happens in the console, with the camera on: open the lobby first.
          showSession(await call<Session>('POST', `/sessions/${s.id}/open-lobby`), { console: true });
        } else {
          showSession(await call<Session>('POST', `/sessions/${s.id}/${action}`));
        }
        await loadList();
      } catch (err) {
        st.error(err);
      }
    };
    const actions = canEdit
      ? ACTIONS.filter((a) => actionAllowed(a.action, s.state)).map((a) =>
          button(a.text, () => act(a.action, a.ask), a.className),
        )
      : [];
    if (canEdit && (s.state === 'lobby' || s.state === 'live')) {
      actions.push(button(['Bàn điều khiển trực tiếp', 'Live console'], openConsole));
    }
    if (canEdit && CONTENT_EDITABLE.includes(s.state)) {
      actions.push(button(['Sửa', 'Edit'], () => openEditor(s)));
    }
    if (canEdit) actions.push(button(['Đường dẫn tham dự', 'Join links'], () => showJoinLinks(s, linksBox)));
    const card = sessionCard(s, actions, st, liveBox);
    shown = { s, node: card, linksBox };
    detail.replaceChildren(card, linksBox);
    if (opts.console) openConsole();
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
          button(['Tạo phiên họp', 'New session'], () => openEditor(undefined), 'primary'),
        )
      : '',
    status.node,
    detail,
    list,
  );
}

/** The sessions as the server lists them, each with an Open button. */
function sessionsTable(items: SessionSummary[], open: (id: string) => Promise<void>): HTMLElement {
  return table(
    [
      ['Phiên họp', 'Session'],
      [`Bắt đầu (${zoneText()[0]})`, `Start (${zoneText()[1]})`],
      ['Trạng thái', 'State'],
      ['Điểm cầu', 'Points'],
      ['', ''],
    ],
    items.map((s) =>
      row(
        s.title,
        when(s.scheduledStart),
        `${STATE_TEXT[s.state][0]}${s.overrunAt ? ' ⚠' : ''}`,
        String(s.invitedPoints),
        button(['Mở', 'Open'], () => open(s.id)),
      ),
    ),
  );
}

/** A session's card: its state and times, warnings, agenda, the buttons, the live console's box. */
function sessionCard(s: Session, actions: HTMLElement[], st: StatusLine, liveBox: HTMLElement): HTMLElement {
  const warnings: HTMLElement[] = [];
  if (s.startReachedAt && (s.state === 'scheduled' || s.state === 'lobby')) {
    warnings.push(el('p', { className: 'status warn', text: 'Đã đến giờ bắt đầu · Start time reached' }));
  }
  if (s.overrunAt) {
    warnings.push(
      el('p', { className: 'status bad', text: 'Phiên họp đã quá giờ dự kiến · Running past its planned end' }),
    );
  }
  return el(
    'div',
    { className: 'card', attrs: { 'data-testid': 'session-card', 'data-state': s.state } },
    el('h3', { text: s.title }),
    el('p', {
      text:
        `${STATE_TEXT[s.state].join(' · ')} — ` +
        `mở phòng chờ ${when(s.lobbyOpensAt)}, bắt đầu ${when(s.scheduledStart)}, kết thúc dự kiến ${when(s.plannedEnd)} · ` +
        `${s.invitedPointIds.length} điểm cầu, ${s.invitedDelegates} đại biểu (${zoneText()[0]})`,
    }),
    ...warnings,
    el(
      'ol',
      { className: 'agenda' },
      ...s.agenda.map((a) =>
        el('li', { text: `${a.title} — ${[a.speaker, a.role].filter(Boolean).join(', ')} (${a.plannedMinutes}′)` }),
      ),
    ),
    el('div', { className: 'controls', attrs: { 'data-testid': 'session-actions' } }, ...actions),
    ...(s.state === 'ended' ? [reportLinks(s.id)] : []),
    st.node,
    liveBox,
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
