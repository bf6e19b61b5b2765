import { esc, printPage } from '../../server/domain/print-page';

describe('printable pages', () => {
  test('every character that makes markup is escaped; null and undefined print nothing', () => {
    expect(esc(`<script>"a" & 'b'</script>`)).toBe('&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;');
    expect([esc(null), esc(undefined), esc(0)]).toEqual(['', '', '0']);
  });

  test('one frame: the title escaped, the stylesheet and body class given, the body as is', () => {
    const page = printPage('Danh sách <b>', '<h1>x</h1>', { stylesheet: '/assets/print.css', bodyClass: 'report' });
    expect(page).toBe(
      '<!doctype html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n<title>Danh sách &lt;b&gt;</title>\n' +
        '<link rel="stylesheet" href="/assets/print.css">\n</head>\n<body class="report">\n<h1>x</h1>\n</body>\n</html>\n',
    );
    expect(printPage('t', 'b')).toContain('<link rel="stylesheet" href="/assets/attendance.css">\n</head>\n<body>\n');
  });
});
