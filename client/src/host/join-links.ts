// A session's join links for the host: one card per invited point (QR code, the link,
// copy, revoke, re-issue), a page at a time, with the CSV and printable exports.
import type { JoinLink, Page, Session } from '../../../server/contract/api';
import { API, call, qs } from './api';
import { bi, button, el, statusLine, type StatusLine } from './ui';

const PAGE_SIZE = 24;

/** Draws one page of the session's join links into `box` (again after each change). */
export async function showJoinLinks(s: Session, box: HTMLElement, offset = 0): Promise<void> {
  const st = statusLine();
  const limit = PAGE_SIZE;
  try {
    const page = await call<Page<JoinLink>>('GET', `/sessions/${s.id}/links${qs({ limit, offset })}`);
    const redraw = () => showJoinLinks(s, box, offset);
    const cards = page.items.map((l) => linkCard(s, l, st, redraw));
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
          button(['Trang trước', 'Previous'], () => showJoinLinks(s, box, Math.max(0, offset - limit))),
          button(['Trang sau', 'Next'], () =>
            showJoinLinks(s, box, offset + limit < page.total ? offset + limit : offset),
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

/** One point's link: its QR code, the link to copy, and revoke / re-issue. */
function linkCard(s: Session, l: JoinLink, st: StatusLine, redraw: () => Promise<void>): HTMLElement {
  const url = el('input', { className: 'url', attrs: { readonly: '', value: l.url } });
  const point = encodeURIComponent(l.pointId);
  return el(
    'div',
    { className: `link-card${l.revokedAt ? ' revoked' : ''}`, attrs: { 'data-testid': 'link-card' } },
    el('img', {
      className: 'qr',
      attrs: {
        src: `${API}/sessions/${s.id}/links/${point}/qr.svg?v=${l.version}`,
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
        await call('POST', `/sessions/${s.id}/links/${point}/revoke`).catch(st.error);
        await redraw();
      }),
      button(['Cấp lại', 'Re-issue'], async () => {
        await call('POST', `/sessions/${s.id}/links/${point}/reissue`).catch(st.error);
        await redraw();
      }),
    ),
  );
}
