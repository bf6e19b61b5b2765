// Every CSV the product writes (the point registry, join links, the attendance report)
// goes through writeCsv: a spreadsheet must never run a cell as a formula (CSV
// injection: a point named `=HYPERLINK(...)` or `=cmd|' /C calc'!A0`). A cell that a
// spreadsheet would read as one gets a leading apostrophe, shown as text. Phone numbers
// and signed numbers ("+84 912 345 678", "-5") are left alone: only a + or - followed by
// something other than digits, spaces and dots counts.
import { stringify } from 'csv-stringify/sync';

const FORMULA = /^(?:[\t\r\n]|\s*[=@]|\s*[+-](?![0-9 .]*$))/;

/** A value as a CSV cell that no spreadsheet evaluates. */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return FORMULA.test(s) ? `'${s}` : s;
}

/**
 * Rows (the first being the header, if any) as CSV: UTF-8 with a BOM so that Excel shows
 * the Vietnamese names, `\n` line ends, every cell through csvCell.
 */
export function writeCsv(rows: readonly (readonly unknown[])[]): string {
  return (
    '\uFEFF' +
    stringify(
      rows.map((r) => r.map(csvCell)),
      { record_delimiter: '\n' },
    )
  );
}
