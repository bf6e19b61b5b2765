// The live console's documents card: attach a PDF or a picture to an agenda item (the
// points see it while that item runs), see what each item has, open or remove one.
import type { AgendaDocument } from '../../../server/contract/documents';
import { DOCUMENT_MAX_BYTES } from '../../../server/contract/documents';
import { API, call, qs } from './api';
import { bi, button, el, field, input, select, statusLine } from './ui';

export function mountAgendaDocuments(
  parent: HTMLElement,
  sessionId: string,
  agenda: { id: string; title: string }[],
): void {
  const base = `/sessions/${encodeURIComponent(sessionId)}`;
  const status = statusLine();
  const item = select(
    agenda.map((a, i) => [a.id, `${i + 1}. ${a.title}`]),
    { 'data-testid': 'doc-item', 'aria-label': 'Nội dung · Agenda item' },
  );
  const file = input({
    type: 'file',
    accept: '.pdf,.png,.jpg,.jpeg,.webp,application/pdf,image/png,image/jpeg,image/webp',
    'data-testid': 'doc-file',
  });
  const list = el('div', { attrs: { 'data-testid': 'doc-list' } });

  async function load(): Promise<void> {
    try {
      const docs = await call<AgendaDocument[]>('GET', `${base}/documents`);
      list.replaceChildren(
        ...agenda.map((a, i) => {
          const mine = docs.filter((d) => d.itemId === a.id);
          return el(
            'div',
            { className: 'doc-group' },
            el('strong', { text: `${i + 1}. ${a.title}` }),
            mine.length === 0
              ? el('span', { className: 'muted', text: ' — chưa có tài liệu · no documents' })
              : el(
                  'ul',
                  {},
                  ...mine.map((d) =>
                    el(
                      'li',
                      { attrs: { 'data-testid': 'doc-row' } },
                      el('a', {
                        text: d.name,
                        attrs: { href: `${API}${base}/documents/${d.id}`, target: '_blank', rel: 'noopener' },
                      }),
                      ' ',
                      button(['Gỡ', 'Remove'], async () => {
                        if (!window.confirm(`Gỡ ${d.name}? · Remove ${d.name}?`)) return;
                        try {
                          await call('DELETE', `${base}/documents/${d.id}`);
                          await load();
                        } catch (err) {
                          status.error(err);
                        }
                      }),
                    ),
                  ),
                ),
          );
        }),
      );
    } catch (err) {
      status.error(err);
    }
  }

  async function attach(): Promise<void> {
    const f = file.files?.[0];
    if (!f) return status.say(['Chọn tệp trước', 'Choose a file first'], 'warn');
    if (f.size > DOCUMENT_MAX_BYTES) {
      const mb = DOCUMENT_MAX_BYTES / 1024 / 1024;
      return status.say([`Tệp quá lớn (tối đa ${mb} MB)`, `The file is too large (at most ${mb} MB)`], 'bad');
    }
    try {
      await call(
        'POST',
        `${base}/agenda/${encodeURIComponent(item.value)}/documents${qs({ name: f.name })}`,
        undefined,
        { contentType: f.type || 'application/octet-stream', raw: await f.arrayBuffer() },
      );
      file.value = '';
      status.say(['Đã đính kèm', 'Attached'], 'ok');
      await load();
    } catch (err) {
      status.error(err);
    }
  }

  parent.append(
    el(
      'section',
      { className: 'card', attrs: { 'data-testid': 'agenda-documents' } },
      bi(['Tài liệu theo nội dung', 'Agenda documents'], 'h3'),
      el('p', {
        className: 'muted',
        text: 'Điểm cầu thấy tài liệu khi nội dung đó đang diễn ra · Points see them while that item runs (PDF, PNG, JPEG, WebP)',
      }),
      field(['Nội dung', 'Agenda item'], item),
      field(['Tệp', 'File'], file),
      el('div', { className: 'controls' }, button(['Đính kèm', 'Attach'], attach, 'primary')),
      status.node,
      list,
    ),
  );
  void load();
}
