import fc from 'fast-check';
import { parse } from 'csv-parse/sync';
import { csvCell, writeCsv } from '../../server/security/csv';

/** What Excel, LibreOffice and Google Sheets start a formula (or DDE call) with. */
const RUNS_AS_FORMULA = /^\s*[=+\-@]|^[\t\r\n]/;

describe('CSV cells never run as formulas', () => {
  test.each([
    ['=HYPERLINK("http://evil.example","bấm vào đây")', `'=HYPERLINK("http://evil.example","bấm vào đây")`],
    ["=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"],
    ['@SUM(1+1)', "'@SUM(1+1)"],
    ['+cmd', "'+cmd"],
    ['-2+3', "'-2+3"],
    ['  =1+1', "'  =1+1"],
    ['\t=1', "'\t=1"],
    ['Xã Cẩm Bình', 'Xã Cẩm Bình'],
    ['+84 912 345 678', '+84 912 345 678'],
    ['-5', '-5'],
    ['', ''],
  ])('%j → %j', (input, out) => expect(csvCell(input)).toBe(out));

  test('numbers, null and undefined', () => {
    expect([csvCell(42), csvCell(-7), csvCell(null), csvCell(undefined)]).toEqual(['42', '-7', '', '']);
  });

  test('any text: either left alone and harmless, or quoted by an apostrophe; read back as written', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.string({ unit: 'grapheme', maxLength: 30 }), { minLength: 1, maxLength: 4 })),
        (rows) => {
          const csv = writeCsv([['a', 'b', 'c', 'd'].slice(0, Math.max(1, ...rows.map((r) => r.length))), ...rows]);
          expect(csv.startsWith('\uFEFF')).toBe(true);
          for (const row of rows) {
            for (const cell of row) {
              const out = csvCell(cell);
              if (out !== cell) expect(out).toBe(`'${cell}`);
              else expect(RUNS_AS_FORMULA.test(cell) && !/^[+-][0-9 .]*$/.test(cell)).toBe(false);
            }
          }
          const back = parse(csv.slice(1), { relax_column_count: true }) as string[][];
          expect(back.slice(1)).toEqual(rows.map((r) => r.map(csvCell)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
