// The connection point registry for the host and the admin: totals, search and filters,
// pages of points, editing (admin), CSV import with a dry-run report, export.
import type { ImportReport, Page, Point, PointSummary, Role } from '../../../server/contract/api';
import { POINT_LEVELS } from '../../../server/contract/api';
import { LEVEL_TEXT } from '../ui/words';
import { API, call, qs } from './api';
import { rosterPanel } from './rosters';
import {
  bi,
  button,
  el,
  field,
  importButtons,
  input,
  issuesTable,
  row,
  select,
  statusLine,
  table,
  type StatusLine,
} from './ui';

export { LEVEL_TEXT };

const PAGE = 50;

export function pointsView(role: Role): HTMLElement {
  const status = statusLine();
  const totals = el('p', { className: 'totals', attrs: { 'data-testid': 'points-totals' } });
  const q = input({
    type: 'search',
    placeholder: 'Tìm mã, tên, người liên hệ · Search',
    'data-testid': 'points-search',
  });
  const district = select([['', 'Tất cả huyện · All districts']], { 'data-testid': 'points-district' });
  const level = select([
    ['', 'Mọi cấp · All levels'],
    ...POINT_LEVELS.map((l) => [l, LEVEL_TEXT[l].join(' · ')] as [string, string]),
  ]);
  const list = el('div', { attrs: { 'data-testid': 'points-list' } });
  const pager = el('div', { className: 'controls' });
  let offset = 0;

  async function loadSummary() {
    const s = await call<PointSummary>('GET', '/points/summary');
    totals.textContent = `${s.points} điểm cầu, ${s.expectedDelegates.toLocaleString('vi-VN')} đại biểu dự kiến · ${s.points} points, ${s.expectedDelegates.toLocaleString('en')} expected delegates`;
    const current = district.value;
    district.replaceChildren(
      el('option', { text: 'Tất cả huyện · All districts', attrs: { value: '' } }),
      ...s.districts.map((d) => el('option', { text: `${d.name} (${d.points})`, attrs: { value: d.code } })),
    );
    district.value = current;
  }

  async function load() {
    status.clear();
    try {
      const page = await call<Page<Point>>(
        'GET',
        `/points${qs({ q: q.value.trim(), district: district.value, level: level.value, limit: PAGE, offset })}`,
      );
      list.replaceChildren(pointsTable(page.items, role === 'admin' ? editPoint : undefined, openRoster));
      pager.replaceChildren(
        el('span', { text: `${page.total === 0 ? 0 : offset + 1}–${offset + page.items.length} / ${page.total}` }),
        button(['Trang trước', 'Previous'], () => {
          offset = Math.max(0, offset - PAGE);
          return load();
        }),
        button(['Trang sau', 'Next'], () => {
          if (offset + PAGE < page.total) offset += PAGE;
          return load();
        }),
      );
    } catch (err) {
      status.error(err);
    }
  }

  const editor = el('div');
  function openRoster(p: Point) {
    editor.replaceChildren(rosterPanel(p, role, () => void editor.replaceChildren()));
    editor.scrollIntoView({ block: 'start' });
  }
  function editPoint(p: Point) {
    editor.replaceChildren(
      pointEditor(p, {
        onSaved: async () => {
          editor.replaceChildren();
          await Promise.all([load(), loadSummary()]);
        },
        onClose: () => void editor.replaceChildren(),
      }),
    );
  }

  const importBox =
    role === 'admin'
      ? importPanel(status, () => Promise.all([load(), loadSummary()]).then(() => undefined))
      : el('div');

  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  q.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      offset = 0;
      void load();
    }, 250);
  });
  for (const s of [district, level]) {
    s.addEventListener('change', () => {
      offset = 0;
      void load();
    });
  }

  const exportLink =
    role === 'technician'
      ? ''
      : el('a', {
          className: 'button',
          text: 'Xuất CSV · Export CSV',
          attrs: { href: `${API}/points/export.csv`, download: '' },
        });

  void loadSummary().catch(status.error);
  void load();
  return el(
    'section',
    { attrs: { 'data-testid': 'points-view' } },
    bi(['Danh sách điểm cầu', 'Connection points'], 'h2'),
    totals,
    el('div', { className: 'controls filters' }, q, district, level, exportLink),
    importBox,
    editor,
    status.node,
    list,
    pager,
  );
}

/** One page of points; `edit` (admins only) adds an Edit button to each row, `roster` a Roster one. */
function pointsTable(items: Point[], edit: ((p: Point) => void) | undefined, roster: (p: Point) => void): HTMLElement {
  return table(
    [
      ['Mã', 'Code'],
      ['Tên điểm cầu', 'Name'],
      ['Cấp', 'Level'],
      ['Đại biểu', 'Delegates'],
      ['Người liên hệ', 'Contact'],
      ['', ''],
    ],
    items.map((p) =>
      row(
        p.code,
        p.name,
        LEVEL_TEXT[p.level][0],
        String(p.expectedDelegates),
        `${p.contactName} ${p.contactPhone}`.trim(),
        el(
          'span',
          { className: 'controls' },
          button(['Đại biểu', 'Roster'], () => roster(p)),
          edit ? button(['Sửa', 'Edit'], () => edit(p)) : '',
        ),
      ),
    ),
  );
}

/** An admin's editor of one point: name, expected delegates, contact. */
function pointEditor(p: Point, hooks: { onSaved: () => Promise<void>; onClose: () => void }): HTMLElement {
  const name = input({ value: p.name });
  const delegates = input({ type: 'number', min: '0', value: String(p.expectedDelegates) });
  const contactName = input({ value: p.contactName });
  const contactPhone = input({ value: p.contactPhone });
  const st = statusLine();
  return el(
    'div',
    { className: 'card' },
    el('h3', { text: `${p.code} · ${p.name}` }),
    field(['Tên', 'Name'], name),
    field(['Số đại biểu dự kiến', 'Expected delegates'], delegates),
    field(['Người liên hệ', 'Contact name'], contactName),
    field(['Điện thoại', 'Phone'], contactPhone),
    el(
      'div',
      { className: 'controls' },
      button(
        ['Lưu', 'Save'],
        async () => {
          try {
            await call('PATCH', `/points/${encodeURIComponent(p.id)}`, {
              name: name.value,
              expectedDelegates: Number(delegates.value),
              contactName: contactName.value,
              contactPhone: contactPhone.value,
            });
            await hooks.onSaved();
          } catch (err) {
            st.error(err);
          }
        },
        'primary',
      ),
      button(['Đóng', 'Close'], hooks.onClose),
    ),
    st.node,
  );
}

/** The admin's CSV import: a dry run or the import itself, and the report of every bad row. */
function importPanel(status: StatusLine, onImported: () => Promise<void>): HTMLElement {
  const file = input({ type: 'file', accept: '.csv,text/csv', 'data-testid': 'import-file' });
  const mode = select([
    ['replace', 'Thay toàn bộ danh sách · Replace the registry'],
    ['merge', 'Thêm và cập nhật · Add and update'],
  ]);
  const report = el('div', { attrs: { 'data-testid': 'import-report' } });
  const run = async (dryRun: boolean) => {
    const f = file.files?.[0];
    if (!f) return status.say(['Chọn tệp CSV trước', 'Choose a CSV file first'], 'warn');
    try {
      const r = await call<ImportReport>(
        'POST',
        `/points/import${qs({ format: 'csv', dryRun: String(dryRun), mode: mode.value })}`,
        undefined,
        {
          contentType: 'text/csv',
          raw: await f.arrayBuffer(),
        },
      );
      showReport(r);
      if (r.imported) await onImported();
    } catch (err) {
      status.error(err);
    }
  };
  const showReport = (r: ImportReport) => {
    const head = r.issues.length
      ? `${r.issues.length} lỗi, không nhập gì · ${r.issues.length} problems, nothing imported`
      : r.imported
        ? `Đã nhập ${r.rows} điểm cầu · Imported ${r.rows} points`
        : `Kiểm tra xong: ${r.rows} dòng hợp lệ (${r.created} mới, ${r.updated} cập nhật, ${r.removed} bỏ), ${r.expectedDelegates} đại biểu · Dry run OK`;
    report.replaceChildren(
      el('p', { className: r.issues.length ? 'status bad' : 'status ok', text: head }),
      ...(r.issues.length ? [issuesTable(r.issues)] : []),
    );
  };
  return el(
    'div',
    {},
    el(
      'details',
      { className: 'card' },
      el('summary', {}, bi(['Nhập danh sách từ CSV', 'Import the registry from CSV'])),
      field(['Tệp CSV (UTF-8)', 'CSV file (UTF-8)'], file),
      field(['Cách nhập', 'Mode'], mode),
      importButtons(run),
      report,
    ),
  );
}
