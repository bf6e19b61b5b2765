import fs from 'node:fs';
import path from 'node:path';
import { readPointsCsv, writePointsCsv } from '../../server/domain/points/csv';
import { searchKey, validatePoints } from '../../server/domain/points/validate';
import type { Point } from '../../server/contract/api';

const SHIPPED = path.join(__dirname, '..', '..', 'server', 'data', 'hatinh-points.csv');
const HEADER = 'code,name,level,parent,district,expected_delegates,contact_name,contact_phone';
const now = new Date('2026-11-28T00:00:00Z');

function check(csv: string, base: Map<string, Point> = new Map()) {
  const read = readPointsCsv(Buffer.from(csv, 'utf8'));
  const v = validatePoints(read.rows, { base, columns: 'csv', now });
  return { points: v.points, issues: [...read.issues, ...v.issues] };
}

describe('the shipped registry', () => {
  test('reads and validates to 420 points and 18,240 delegates, no issue', () => {
    const { points, issues } = check(fs.readFileSync(SHIPPED, 'utf8'));
    expect(issues).toEqual([]);
    expect(points).toHaveLength(420);
    expect(points.reduce((n, p) => n + p.expectedDelegates, 0)).toBe(18_240);
    const byLevel = (l: string) => points.filter((p) => p.level === l).length;
    expect([byLevel('province'), byLevel('district'), byLevel('commune'), byLevel('agency')]).toEqual([1, 13, 378, 28]);
    expect(points.find((p) => p.code === 'HT-DT')?.name).toBe('Huyện ủy Đức Thọ');
  });

  test('export then import gives the same points back', () => {
    const { points } = check(fs.readFileSync(SHIPPED, 'utf8'));
    const again = check(writePointsCsv(points));
    expect(again.issues).toEqual([]);
    expect(again.points).toEqual(points);
  });
});

describe('bad input is reported row by row, with line and column', () => {
  const good = ['HT,Tỉnh,province,,,100,A,0900000001', 'HT-CX,Huyện ủy Cẩm Xuyên,district,HT,HT-CX,50,B,0900000002'];

  test('every bad row, not just the first', () => {
    const { issues } = check(
      [
        HEADER,
        ...good,
        'HT-CX-001,Xã Một,commune,HT-CX,HT-CX,abc,C,0390000001', // line 4: wrong type
        'HT-CX-002,Xã Hai,village,HT-CX,HT-CX,10,D,0390000002', // line 5: unknown level
        'HT-CX-003,Xã Ba,commune,HT-ZZ,HT-CX,10,E,0390000003', // line 6: unknown parent
        'HT-CX,Trùng mã,district,HT,HT-CX,10,F,0900000009', // line 7: duplicate code
        'HT-CX-004,,commune,HT-CX,HT-CX,-3,G,0390000004', // line 8: empty name, negative count
      ].join('\n'),
    );
    const at = issues.map((i) => [i.line, i.column]);
    expect(at).toEqual([
      [4, 'expected_delegates'],
      [5, 'level'],
      [6, 'parent'],
      [7, 'code'],
      [8, 'expected_delegates'],
      [8, 'name'],
    ]);
    expect(issues.find((i) => i.line === 6)!.reason).toMatch(/unknown parent HT-ZZ/);
    expect(issues.find((i) => i.line === 7)!.reason).toMatch(/duplicate code HT-CX: already on row 2/);
  });

  test('a wrong number of columns and a quoted name over two lines keep the line numbers right', () => {
    const { issues, points } = check(
      [
        HEADER,
        ...good,
        'HT-CX-001,"Xã Một,\nvới dấu phẩy",commune,HT-CX,HT-CX,10,C,0390000001', // lines 4-5: fine
        'HT-CX-002,Xã Hai, có dấu phẩy,commune,HT-CX,HT-CX,10,D,0390000002', // line 6: 9 columns
      ].join('\n'),
    );
    expect(points.map((p) => p.code)).toContain('HT-CX-001');
    expect(issues).toEqual([expect.objectContaining({ line: 6, column: '', reason: expect.stringMatching(/9/) })]);
  });

  test('an unclosed quote is reported where the parser stopped, after the rows before it are checked', () => {
    const { issues } = check([HEADER, good[0], 'HT-X,Tên,district,HT-NO,HT-X,5,A,1', 'HT-Y,"open,district'].join('\n'));
    expect(issues.map((i) => i.reason).join(' ')).toMatch(/malformed CSV/);
    expect(issues.some((i) => i.line === 3 && i.column === 'parent')).toBe(true);
  });

  test('header problems: a missing required column stops, an unknown one is reported', () => {
    expect(check('code,name,level\nHT,Tỉnh,province\n').issues).toEqual([
      expect.objectContaining({ line: 1, column: 'expected_delegates' }),
    ]);
    const unknown = check(`${HEADER},notes\n${good[0]},x\n`);
    expect(unknown.issues).toEqual([expect.objectContaining({ line: 1, column: 'notes' })]);
  });

  test('not UTF-8, empty file', () => {
    const latin1 = Buffer.from(`${HEADER}\nHT,T\xecnh,province,,,1,,\n`, 'latin1');
    expect(readPointsCsv(latin1).issues[0]!.reason).toMatch(/not UTF-8/);
    expect(readPointsCsv(Buffer.alloc(0)).issues[0]!.reason).toMatch(/empty/);
  });

  test('a BOM and decomposed (NFD) Vietnamese are accepted and normalised', () => {
    const { points, issues } = check('\uFEFF' + [HEADER, `HT,${'Hà Tĩnh'.normalize('NFD')},province,,,1,,`].join('\n'));
    expect(issues).toEqual([]);
    expect(points[0]!.name).toBe('Hà Tĩnh'.normalize('NFC'));
  });

  test('hierarchy rules: commune under a district, no cycles, district must be a district', () => {
    const { issues } = check(
      [
        HEADER,
        ...good,
        'HT-AG-01,Sở,agency,HT,,5,,',
        'HT-CX-001,Xã,commune,HT-AG-01,HT-CX,5,,', // line 5: commune under an agency
        'HT-CX-002,Xã,commune,HT-CX,HT-AG-01,5,,', // line 6: district is an agency
        'HT-CX-003,Xã,commune,HT-CX,,5,,', // line 7: commune without district
        'HT-CX-004,Xã,commune,HT-CX-004,HT-CX,5,,', // line 8: own parent
        'P1,Một,province,P2,,5,,', // line 9: P1 under P2 under P1
        'P2,Hai,province,P1,,5,,', // line 10
      ].join('\n'),
    );
    expect(issues.map((i) => [i.line, i.column])).toEqual([
      [5, 'parent'],
      [6, 'district'],
      [7, 'district'],
      [8, 'parent'],
      [9, 'parent'],
      [10, 'parent'],
    ]);
    expect(issues.find((i) => i.line === 9)!.reason).toMatch(/cycle/);
  });

  test("a room system's SIP address is optional, read strictly and written back in one form", () => {
    const { points, issues } = check(
      [
        `${HEADER},sip_address`,
        'HT,Tỉnh,province,,,100,A,0900000001,',
        'HT-CX,Huyện ủy Cẩm Xuyên,district,HT,HT-CX,50,B,0900000002, SIP:Room@Room.Example:5070',
        'HT-HK,Huyện ủy Hương Khê,district,HT,HT-HK,50,C,0900000003,tel:+84900000003',
      ].join('\n'),
    );
    expect(points.find((p) => p.code === 'HT')?.sipAddress).toBeUndefined();
    expect(points.find((p) => p.code === 'HT-CX')?.sipAddress).toBe('sip:Room@room.example:5070');
    expect(issues).toEqual([expect.objectContaining({ line: 4, column: 'sip_address', issue: 'sip_address_invalid' })]);
    // Exported and read back, the same points.
    expect(check(writePointsCsv(points)).points).toEqual(points);
  });

  test('merge validates against the existing registry (a parent may already be there)', () => {
    const base = new Map(check([HEADER, ...good].join('\n')).points.map((p) => [p.id, p]));
    expect(check([HEADER, 'HT-CX-009,Xã,commune,HT-CX,HT-CX,5,,'].join('\n'), base).issues).toEqual([]);
    const alone = check([HEADER, 'HT-CX-009,Xã,commune,HT-CX,HT-CX,5,,'].join('\n')).issues;
    expect(alone.map((i) => i.reason)).toContain('unknown parent HT-CX');
  });
});

test('CSV export neutralises spreadsheet formulas but keeps phone numbers', () => {
  const p: Point = {
    id: 'X',
    code: 'X',
    name: '=HYPERLINK("http://evil")',
    level: 'province',
    parent: null,
    district: null,
    expectedDelegates: 1,
    contactName: '@cmd',
    contactPhone: '+84 900 000 001',
    position: 1,
    updatedAt: now.toISOString(),
  };
  const csv = writePointsCsv([p]);
  expect(csv.startsWith('\uFEFF')).toBe(true);
  expect(csv).toContain(`"'=HYPERLINK(""http://evil"")"`);
  expect(csv).toContain("'@cmd");
  expect(csv).toContain(',+84 900 000 001');
});

test('search ignores Vietnamese accents and đ', () => {
  expect(searchKey('Đức Thọ')).toBe('duc tho');
  expect(searchKey('Huyện ủy Hương Khê')).toContain('huong khe');
});
