// The links of a session as files to send out: a CSV for mail merges and a printable
// HTML sheet (Vietnamese first), one card per point with its QR code.
import type { JoinLink, Session } from '../../contract/api';
import { writeCsv } from '../../security/csv';
import { qrDataUrl } from './join-links';
import { formatInZone, zoneLabel } from '../../contract/time-zone';
import { esc, printPage } from '../print-page';

export function linksCsv(links: JoinLink[]): string {
  return writeCsv([
    [
      'code',
      'name',
      'district',
      'contact_name',
      'contact_phone',
      'url',
      'version',
      'status',
      'valid_from',
      'valid_until',
    ],
    ...links.map((l) => [
      l.code,
      l.name,
      l.district ?? '',
      l.contactName,
      l.contactPhone,
      l.url,
      String(l.version),
      l.revokedAt ? 'revoked' : 'active',
      l.validFrom,
      l.validUntil,
    ]),
  ]);
}

/** A self-contained page (QR codes as data: URLs, the stylesheet from /assets) for printing. */
/** The printable sheet; times in `tz`, the briefing's zone, said beside them. */
export async function linksPrintSheet(session: Session, links: JoinLink[], tz: string): Promise<string> {
  const fmt = (iso: string) => `${formatInZone(iso, tz, 'long')} (${zoneLabel(tz)})`;
  const e = esc;
  const active = links.filter((l) => !l.revokedAt);
  const cards = await Promise.all(
    active.map(
      async (l) => `
  <article class="card">
    <img class="qr" src="${await qrDataUrl(l.url)}" alt="QR">
    <div class="info">
      <h2>${e(l.name)}</h2>
      <p class="code">${e(l.code)}${l.district && l.district !== l.code ? ` · ${e(l.district)}` : ''}</p>
      <p>Kỹ thuật viên <span class="en">Technician</span>: ${e(l.contactName)} ${e(l.contactPhone)}</p>
      <p class="url">${e(l.url)}</p>
    </div>
  </article>`,
    ),
  );
  return printPage(
    `Đường dẫn tham dự · Join links: ${session.title}`,
    `<header>
  <h1>${e(session.title)}</h1>
  <p>Bắt đầu <span class="en">Start</span>: ${e(fmt(session.scheduledStart))}</p>
  <p>Mở phòng chờ để kiểm tra kỹ thuật <span class="en">Lobby opens for the technical check</span>: ${e(fmt(session.lobbyOpensAt))}</p>
  <p>${active.length} điểm cầu <span class="en">connection points</span>. Mỗi đường dẫn chỉ dùng cho đúng điểm cầu ghi trên thẻ. <span class="en">Each link is for the point named on its card only.</span></p>
  <p class="noprint">Nhấn Ctrl+P để in. <span class="en">Press Ctrl+P to print.</span></p>
</header>
<main>${cards.join('')}
</main>`,
    { stylesheet: '/assets/print.css' },
  );
}
