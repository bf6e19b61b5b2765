// The host's session editor: title and times, the agenda (one row of inputs per item)
// and the invited points (all, by district, by level, or picked one by one: ./point-picker.ts).
import type { AgendaItemInput, Invite, PointLevel, PointSummary, Session } from '../../../server/contract/api';
import { POINT_LEVELS } from '../../../server/contract/api';
import { TIMES_EDITABLE } from '../../../server/contract/session-state';
import { call } from './api';
import { PointPicker } from './point-picker';
import { LEVEL_TEXT } from './points';
import { plain } from '../ui/i18n';
import { bi, button, el, field, fromLocalInput, input, select, statusLine, toLocalInput, zoneText } from './ui';

export interface SessionEditorHooks {
  /** The session as the server saved it (created or updated). */
  onSaved: (saved: Session) => Promise<void>;
  onClose: () => void;
}

/** The editor of `s`, or of a new session when `s` is undefined. */
export function sessionEditor(s: Session | undefined, hooks: SessionEditorHooks): HTMLElement {
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
  const agenda = agendaEditor(s);
  const zone: [string, string] = [`Thời gian theo ${zoneText()[0]}`, `Times in ${zoneText()[1]}`];
  const invite = inviteEditor(s);

  const save = async () => {
    st.clear();
    const timesEditable = !s || TIMES_EDITABLE.includes(s.state);
    const body = {
      title: title.value,
      ...(timesEditable
        ? {
            scheduledStart: fromLocalInput(start.value),
            ...(lobby.value ? { lobbyOpensAt: fromLocalInput(lobby.value) } : {}),
          }
        : {}),
      plannedEnd: fromLocalInput(end.value),
      agenda: agenda.read(),
      invite: invite.read(),
    };
    try {
      const saved = s
        ? await call<Session>('PATCH', `/sessions/${s.id}`, body)
        : await call<Session>('POST', '/sessions', body);
      await hooks.onSaved(saved);
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
    el('p', { className: 'muted', text: plain(zone), attrs: { 'data-testid': 'editor-zone' } }),
    bi(['Chương trình', 'Agenda'], 'h3'),
    agenda.node,
    button(['Thêm nội dung', 'Add an item'], () => agenda.add()),
    bi(['Điểm cầu mời', 'Invited points'], 'h3'),
    ...invite.nodes,
    el(
      'div',
      { className: 'controls' },
      button(['Lưu', 'Save'], save, 'primary'),
      button(['Đóng', 'Close'], hooks.onClose),
    ),
    st.node,
  );
}

type AgendaRow = HTMLElement & { read: () => AgendaItemInput };

/** The agenda's rows; documents are typed as `title | url` pairs separated by `;`. */
function agendaEditor(s: Session | undefined) {
  const node = el('div', { className: 'agenda-edit' });
  const add = (a?: Partial<AgendaItemInput>) => {
    const t = input({ value: a?.title ?? '', placeholder: 'Quán triệt Nghị quyết 05-NQ/TU' });
    const sp = input({ value: a?.speaker ?? '', placeholder: 'Đồng chí …' });
    const ro = input({ value: a?.role ?? '', placeholder: 'Bí thư Tỉnh ủy' });
    const mi = input({ type: 'number', min: '1', max: '600', step: '1', value: String(a?.plannedMinutes ?? 30) });
    const docs = input({
      value: (a?.documents ?? []).map((d) => `${d.title} | ${d.url}`).join('; '),
      placeholder: 'tên | https://… ; …',
    });
    const r: AgendaRow = Object.assign(
      el(
        'div',
        { className: 'agenda-row' },
        field(['Nội dung', 'Item'], t),
        field(['Người trình bày', 'Speaker'], sp),
        field(['Chức vụ', 'Role'], ro),
        field(['Thời lượng (phút)', 'Duration (minutes)'], mi),
        field(['Tài liệu: tên | địa chỉ; …', 'Documents: title | URL; …'], docs),
      ),
      {
        read: (): AgendaItemInput => ({
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
        }),
      },
    );
    r.append(button(['Xóa', 'Remove'], () => r.remove()));
    node.append(r);
  };
  for (const a of s?.agenda ?? []) add(a);
  if (!s) add();
  const read = (): AgendaItemInput[] => [...node.children].map((r) => (r as AgendaRow).read());
  return { node, add, read };
}

/** Who is invited: a mode selector and, beside it, the districts, levels or codes it needs. */
function inviteEditor(s: Session | undefined) {
  const mode = select([
    ['all', 'Tất cả điểm cầu · All points'],
    ['districts', 'Theo huyện · By district'],
    ['levels', 'Theo cấp · By level'],
    ['points', 'Chọn từng điểm cầu · Pick points'],
  ]);
  const districtBoxes = el('div', { className: 'checks' });
  const levelBoxes = el(
    'div',
    { className: 'checks' },
    ...POINT_LEVELS.map((l) =>
      el('label', {}, el('input', { attrs: { type: 'checkbox', value: l } }), LEVEL_TEXT[l].join(' · ')),
    ),
  );
  const inv = s?.invite ?? { mode: 'all' };
  mode.value = inv.mode;
  // Picking starts from who is invited now, whatever the form chosen before.
  const picker = new PointPicker(inv.mode === 'points' ? inv.pointIds : (s?.invitedPointIds ?? []));
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
    picker.node.hidden = mode.value !== 'points';
  };
  mode.addEventListener('change', showInvite);
  showInvite();
  const checked = (box: HTMLElement) => [...box.querySelectorAll('input')].filter((c) => c.checked).map((c) => c.value);
  const read = (): Invite => {
    switch (mode.value) {
      case 'districts':
        return { mode: 'districts', districts: checked(districtBoxes) };
      case 'levels':
        return { mode: 'levels', levels: checked(levelBoxes) as PointLevel[] };
      case 'points':
        return { mode: 'points', pointIds: picker.pointIds() };
      default:
        return { mode: 'all' };
    }
  };
  return { nodes: [mode, districtBoxes, levelBoxes, picker.node], read };
}
