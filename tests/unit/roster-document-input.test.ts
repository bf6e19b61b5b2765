// Pure checks of what a host uploads: a roster CSV's headers and rows, a document's type
// by its bytes and its name made harmless.
import { documentName, sniffDocumentType } from '../../server/domain/sessions/documents';
import { readRosterCsv } from '../../server/domain/attendance/roster';

describe('roster CSV', () => {
  test.each([
    ['name,position,unit', 'Lê Văn An,Bí thư,Xã'],
    ['Họ và tên,Chức vụ,Đơn vị', 'Lê Văn An,Bí thư,Xã'],
    ['HO TEN,chuc vu,don vi', 'Lê Văn An,Bí thư,Xã'],
    ['Full name,Title,Agency', 'Lê Văn An,Bí thư,Xã'],
  ])('header %j', (header, line) => {
    expect(readRosterCsv(`\uFEFF${header}\n${line}\n`)).toEqual({
      rows: [{ name: 'Lê Văn An', position: 'Bí thư', unit: 'Xã' }],
      issues: [],
    });
  });

  test('the same person twice, accents and spaces aside, is refused with the first row', () => {
    const { issues } = readRosterCsv('name\nLê Văn  An\nle van an\n');
    expect(issues).toEqual([expect.objectContaining({ row: 2, line: 3, issue: 'duplicate_name', params: { row: 1 } })]);
  });
});

describe('documents', () => {
  test.each([
    ['%PDF-1.7\n', 'application/pdf'],
    ['\x89PNG\r\n\x1a\n....', 'image/png'],
    ['\xff\xd8\xff\xe0', 'image/jpeg'],
    ['RIFF\x00\x00\x00\x00WEBPVP8 ', 'image/webp'],
    ['RIFF\x00\x00\x00\x00AVI ', null],
    ['<svg onload=alert(1)>', null],
    ['<!doctype html>', null],
    [' %PDF-1.7', null],
  ])('%j is %s', (bytes, type) => expect(sniffDocumentType(Buffer.from(bytes, 'latin1'))).toBe(type));

  test.each([
    ['Nghị quyết 05.pdf', 'application/pdf', 'Nghị quyết 05.pdf'],
    ['../../etc/passwd', 'application/pdf', 'passwd.pdf'],
    ['C:\\Users\\a\\ảnh hội nghị.JPG', 'image/jpeg', 'ảnh hội nghị.jpg'],
    ['bao-cao.pdf.exe', 'application/pdf', 'bao-cao.pdf.pdf'],
    ['"quoted"\r\n\u202Efdp.exe', 'application/pdf', 'quotedfdp.pdf'],
    ['...', 'image/png', 'tai-lieu.png'],
    ['x'.repeat(300), 'application/pdf', `${'x'.repeat(120)}.pdf`],
  ] as const)('%j as %s is named %j', (given, type, name) => expect(documentName(given, type)).toBe(name));
});
