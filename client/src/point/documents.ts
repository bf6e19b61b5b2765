// The documents of the agenda item that runs now, on a point's page: a list with "open"
// (a PDF in the browser's own viewer, a picture as is, in a new tab) and "download". Asked
// again whenever the item or the state changes; between items the list goes away.
import type { BroadcastView } from '../../../server/contract/broadcast';
import type { AgendaDocument, PointDocuments } from '../../../server/contract/documents';
import { bi, plain } from '../ui/i18n';
import { el } from '../ui/shell';

const KIND: Record<AgendaDocument['type'], string> = {
  'application/pdf': 'PDF',
  'image/png': 'PNG',
  'image/jpeg': 'JPEG',
  'image/webp': 'WebP',
};

const size = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;

export interface PointDocumentsView {
  node: HTMLElement;
  update: (v: BroadcastView) => void;
}

export function pointDocuments(token: string): PointDocumentsView {
  const base = `/api/v1/join/${encodeURIComponent(token)}/documents`;
  const list = el('ul', { className: 'doc-list' });
  const node = el(
    'section',
    { className: 'card documents hidden', attrs: { 'data-testid': 'documents' } },
    bi(['Tài liệu của nội dung này', 'Documents of this item'], 'h3'),
    list,
  );
  let shownFor = '';
  let asking = 0;

  function show(docs: AgendaDocument[]): void {
    node.classList.toggle('hidden', docs.length === 0);
    list.replaceChildren(
      ...docs.map((d) => {
        const url = `${base}/${encodeURIComponent(d.id)}`;
        return el(
          'li',
          { attrs: { 'data-testid': 'document' } },
          el('span', { className: 'doc-name', text: d.name }),
          el('span', { className: 'muted', text: ` ${KIND[d.type]}, ${size(d.size)} ` }),
          el('a', {
            className: 'button',
            text: plain(['Mở', 'Open']),
            attrs: { href: url, target: '_blank', rel: 'noopener', 'data-testid': 'document-open' },
          }),
          el('a', {
            className: 'button',
            text: plain(['Tải về', 'Download']),
            attrs: { href: `${url}?download=1`, download: d.name, 'data-testid': 'document-download' },
          }),
        );
      }),
    );
  }

  async function load(): Promise<void> {
    const mine = ++asking;
    try {
      const res = await fetch(base, { cache: 'no-store', credentials: 'same-origin' });
      const body = res.ok ? ((await res.json()) as PointDocuments) : { itemId: null, documents: [] };
      if (mine === asking) show(body.documents);
    } catch {
      // Offline for a moment: the next change asks again.
      if (mine === asking) show([]);
    }
  }

  return {
    node,
    update(v) {
      const key = v.state === 'live' && v.caption ? `${v.caption.index}` : '';
      if (key === shownFor) return;
      shownFor = key;
      if (key === '') {
        asking++;
        show([]);
      } else void load();
    },
  };
}
