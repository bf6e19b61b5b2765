// A point's roster of delegates on the host console: import from CSV (a dry run first if
// wanted, every bad row listed, nothing replaced unless all are good), edit, add and
// remove rows, export as CSV, print. Technicians only read, export and print it.
import type { Point, Role } from '../../../server/contract/api';
import type { RosterEntry, RosterImportReport } from '../../../server/contract/attendance';
import { API, call, qs } from './api';
import { bi, button, el, field, importButtons, input, issuesTable, row, statusLine, table } from './ui';

export function rosterPanel(point: Point, role: Role, onClose: () => void): HTMLElement {
  const canEdit = role === 'host' || role === 'admin';
  const base = `/rosters/${encodeURIComponent(point.id)}`;
  const status = statusLine();
  const count = el('p', { className: 'totals', attrs: { 'data-testid': 'roster-count' } });
  const list = el('div', { attrs: { 'data-testid': 'roster-list' } });
  const report = el('div', { attrs: { 'data-testid': 'roster-report' } });

  const show = (entries: RosterEntry[]) => {
    count.textContent = `${entries.length} đại biểu, dự kiến ${point.expectedDelegates} · ${entries.length} delegates, ${point.expectedDelegates} expected`;
    list.replaceChildren(
      table(
        [
          ['STT', 'No.'],
          ['Họ và tên', 'Name'],
          ['Chức vụ', 'Position'],
          ['Đơn vị', 'Unit'],
          ...(canEdit ? [['', ''] as const] : []),
        ],
        entries.map((e, i) => (canEdit ? editableRow(e, i) : row(String(i + 1), e.name, e.position, e.unit))),
      ),
    );
  };
  const load = async () => {
    try {
      show(await call<RosterEntry[]>('GET', base));
    } catch (err) {
      status.error(err);
    }
  };

  function editableRow(e: RosterEntry, i: number): HTMLTableRowElement {
    const name = input({ value: e.name, 'aria-label': 'Họ và tên · Name', 'data-testid': 'roster-name' });
    const position = input({ value: e.position, 'aria-label': 'Chức vụ · Position', 'data-testid': 'roster-position' });
    const unit = input({ value: e.unit, 'aria-label': 'Đơn vị · Unit', 'data-testid': 'roster-unit' });
    const save = async () => {
      try {
        await call('PATCH', `${base}/entries/${e.id}`, {
          name: name.value,
          position: position.value,
          unit: unit.value,
        });
        status.say(['Đã lưu', 'Saved'], 'ok');
        await load();
      } catch (err) {
        status.error(err);
      }
    };
    const remove = async () => {
      if (!window.confirm(`Xóa ${e.name} khỏi danh sách? · Remove ${e.name} from the roster?`)) return;
      try {
        await call('DELETE', `${base}/entries/${e.id}`);
        await load();
      } catch (err) {
        status.error(err);
      }
    };
    return row(
      String(i + 1),
      name,
      position,
      unit,
      el('span', { className: 'controls' }, button(['Lưu', 'Save'], save), button(['Xóa', 'Remove'], remove)),
    );
  }

  const editing = canEdit ? [importBox(), addBox()] : [];

  function importBox(): HTMLElement {
    const file = input({ type: 'file', accept: '.csv,text/csv', 'data-testid': 'roster-file' });
    const run = async (dryRun: boolean) => {
      const f = file.files?.[0];
      if (!f) return status.say(['Chọn tệp CSV trước', 'Choose a CSV file first'], 'warn');
      try {
        const r = await call<RosterImportReport>('POST', `${base}/import${qs({ dryRun: String(dryRun) })}`, undefined, {
          contentType: 'text/csv',
          raw: await f.arrayBuffer(),
        });
        const head = r.issues.length
          ? `${r.issues.length} lỗi, danh sách giữ nguyên · ${r.issues.length} problems, the roster is unchanged`
          : r.imported
            ? `Đã nhập ${r.rows} đại biểu · Imported ${r.rows} delegates`
            : `Kiểm tra xong: ${r.rows} dòng hợp lệ · Dry run OK: ${r.rows} rows`;
        report.replaceChildren(
          el('p', { className: r.issues.length ? 'status bad' : 'status ok', text: head }),
          ...(r.issues.length ? [issuesTable(r.issues)] : []),
        );
        show(r.entries);
      } catch (err) {
        status.error(err);
      }
    };
    return el(
      'details',
      { className: 'card' },
      el('summary', {}, bi(['Nhập danh sách từ CSV (thay toàn bộ)', 'Import from CSV (replaces the roster)'])),
      el('p', {
        className: 'hint',
        text: 'Cột: Họ tên, Chức vụ, Đơn vị (hoặc name, position, unit); UTF-8 · Columns: name, position, unit; UTF-8',
      }),
      field(['Tệp CSV', 'CSV file'], file),
      importButtons(run),
      report,
    );
  }

  function addBox(): HTMLElement {
    const name = input({ 'data-testid': 'roster-add-name' });
    const position = input({ 'data-testid': 'roster-add-position' });
    const unit = input({ 'data-testid': 'roster-add-unit' });
    const add = async () => {
      try {
        await call('POST', `${base}/entries`, { name: name.value, position: position.value, unit: unit.value });
        for (const i of [name, position, unit]) i.value = '';
        status.clear();
        await load();
      } catch (err) {
        status.error(err);
      }
    };
    return el(
      'div',
      { className: 'controls filters' },
      field(['Họ và tên', 'Name'], name),
      field(['Chức vụ', 'Position'], position),
      field(['Đơn vị', 'Unit'], unit),
      button(['Thêm đại biểu', 'Add a delegate'], add, 'primary'),
    );
  }

  void load();
  return el(
    'section',
    { className: 'card', attrs: { 'data-testid': 'roster-panel' } },
    el('h3', { text: `Danh sách đại biểu · Roster — ${point.code} · ${point.name}` }),
    count,
    el(
      'div',
      { className: 'controls' },
      el('a', {
        className: 'button',
        text: 'In danh sách · Print',
        attrs: { href: `${API}${base}/print`, target: '_blank', rel: 'noopener', 'data-testid': 'roster-print' },
      }),
      el('a', {
        className: 'button',
        text: 'Xuất CSV · Export CSV',
        attrs: { href: `${API}${base}/export.csv`, download: '' },
      }),
      button(['Đóng', 'Close'], onClose),
    ),
    ...editing,
    status.node,
    list,
  );
}
