// The printable pages (a point's roster to sign, the attendance report, the join links'
// sheet): one HTML frame in Vietnamese with its stylesheet from /assets, and the one
// escape all their text goes through, so nothing from a user is markup.
const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text into HTML (null and undefined print as nothing). */
export const esc = (v: unknown): string =>
  (v === null || v === undefined ? '' : String(v)).replace(/[&<>"']/g, (c) => ESC[c]!);

export interface PrintPageOptions {
  /** Default: the attendance pages' own. */
  stylesheet?: string;
  bodyClass?: string;
}

/** A whole page: `title` is text (escaped here), `body` is markup already escaped. */
export function printPage(title: string, body: string, o: PrintPageOptions = {}): string {
  return `<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<link rel="stylesheet" href="${o.stylesheet ?? '/assets/attendance.css'}">
</head>
<body${o.bodyClass ? ` class="${o.bodyClass}"` : ''}>
${body}
</body>
</html>
`;
}
