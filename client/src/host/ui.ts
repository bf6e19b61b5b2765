// Small building blocks of the host views: bilingual buttons and fields, a status line,
// error display. All text goes in through textContent (el / setBi).
import { bi, setBi, type Text } from '../ui/i18n';
import { el } from '../ui/shell';
import type { ImportIssue } from '../../../server/contract/api';
import { errorText, issueText } from '../ui/errors';
import { showTime } from '../ui/time';

export { bi, el, setBi, type Text };

export function button(text: Text, onClick: () => void | Promise<void>, className = ''): HTMLButtonElement {
  const b = el('button', { className, attrs: { type: 'button' } });
  setBi(b, text);
  b.addEventListener('click', () => {
    b.disabled = true;
    void Promise.resolve(onClick()).finally(() => (b.disabled = false));
  });
  return b;
}

export function field(label: Text, input: HTMLElement): HTMLLabelElement {
  return el('label', { className: 'field' }, bi(label), input);
}

export function input(attrs: Record<string, string> = {}): HTMLInputElement {
  return el('input', { attrs });
}

export function select(
  options: [value: string, text: string][],
  attrs: Record<string, string> = {},
): HTMLSelectElement {
  return el('select', { attrs }, ...options.map(([value, text]) => el('option', { text, attrs: { value } })));
}

export interface StatusLine {
  node: HTMLElement;
  say: (t: Text | string, kind?: 'info' | 'ok' | 'warn' | 'bad') => void;
  error: (err: unknown) => void;
  clear: () => void;
}

export function statusLine(): StatusLine {
  const node = el('div', { className: 'status hidden', attrs: { role: 'status' } });
  const say: StatusLine['say'] = (t, kind = 'info') => {
    node.className = `status ${kind}`;
    if (typeof t === 'string') node.textContent = t;
    else setBi(node, t);
  };
  return {
    node,
    say,
    error: (err) => say(errorText(err), 'bad'),
    clear: () => {
      node.className = 'status hidden';
      node.textContent = '';
    },
  };
}

/** An instant in the briefing's zone (../ui/time.ts). */
export const when = (iso: string | null) => showTime(iso);
export { fromLocalInput, toLocalInput, zoneText } from '../ui/time';

export function table(headers: Text[], rows: HTMLTableRowElement[]): HTMLTableElement {
  return el(
    'table',
    { className: 'grid' },
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, bi(h))))),
    el('tbody', {}, ...rows),
  );
}

export function row(...cells: (string | Node)[]): HTMLTableRowElement {
  return el('tr', {}, ...cells.map((c) => el('td', {}, c)));
}

/** An import's bad rows: where (line, column) and why, in both languages. */
export function issuesTable(issues: ImportIssue[]): HTMLTableElement {
  return table(
    [
      ['Dòng', 'Line'],
      ['Cột', 'Column'],
      ['Lý do', 'Reason'],
    ],
    issues.map((i) => row(String(i.line ?? i.row), i.column, bi(issueText({ ...i, message: i.reason })))),
  );
}

/** The two buttons of a CSV import: a dry run, then the import itself. */
export function importButtons(run: (dryRun: boolean) => Promise<void>): HTMLElement {
  return el(
    'div',
    { className: 'controls' },
    button(['Kiểm tra thử', 'Dry run'], () => run(true)),
    button(['Nhập', 'Import'], () => run(false), 'primary'),
  );
}
