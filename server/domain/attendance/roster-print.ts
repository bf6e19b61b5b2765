// A point's roster as a printable page in Vietnamese: the sheet the point's staff tick
// delegates off at the door. All text is escaped; nothing from a user is markup.
import type { Point } from '../../contract/api';
import type { RosterEntry } from '../../contract/attendance';
import { esc, printPage } from '../print-page';

export function rosterHtml(point: Point, entries: RosterEntry[], printedAt: string): string {
  const rows = entries.length
    ? entries
        .map(
          (e, i) =>
            `<tr><td class="n">${i + 1}</td><td>${esc(e.name)}</td><td>${esc(e.position)}</td><td>${esc(
              e.unit,
            )}</td><td class="sign"></td></tr>`,
        )
        .join('\n')
    : '<tr><td colspan="5">Chưa có danh sách đại biểu.</td></tr>';
  return printPage(
    `Danh sách đại biểu — ${point.name}`,
    `<h1>Danh sách đại biểu</h1>
<p class="sub">${esc(point.name)} (${esc(point.code)})</p>
<p>${entries.length} đại biểu · dự kiến ${point.expectedDelegates} · In lúc ${esc(printedAt)}</p>
<table><thead><tr><th>STT</th><th>Họ và tên</th><th>Chức vụ</th><th>Đơn vị</th><th>Ký tên</th></tr></thead>
<tbody>
${rows}
</tbody></table>`,
    { bodyClass: 'report roster-print' },
  );
}
