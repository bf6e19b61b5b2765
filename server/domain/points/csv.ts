// CSV in and out of the point registry. Reading never throws on bad content: every
// problem becomes an ImportIssue with its line and column, so a dry run can show them all.
import { parse } from 'csv-parse/sync';
import type { ImportIssue, Point } from '../../contract/api';
import { writeCsv } from '../../security/csv';

/** Column order of the shipped file and of exports (server/data/README.md). */
export const CSV_COLUMNS = [
  'code',
  'name',
  'level',
  'parent',
  'district',
  'expected_delegates',
  'contact_name',
  'contact_phone',
] as const;
type CsvColumn = (typeof CSV_COLUMNS)[number];

const FIELD_OF: Record<CsvColumn, string> = {
  code: 'code',
  name: 'name',
  level: 'level',
  parent: 'parent',
  district: 'district',
  expected_delegates: 'expectedDelegates',
  contact_name: 'contactName',
  contact_phone: 'contactPhone',
};
const REQUIRED: CsvColumn[] = ['code', 'name', 'level', 'expected_delegates'];

/** One data row, as PointInput-shaped raw values, with where it came from. */
export interface RawRow {
  row: number;
  line: number | null;
  value: Record<string, unknown>;
}

export interface CsvReadResult {
  rows: RawRow[];
  issues: ImportIssue[];
}

const headerKey = (h: string) =>
  h
    .trim()
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

/** Reads a registry CSV: UTF-8 (a BOM is fine), comma-separated, a header row naming the columns. */
export function readPointsCsv(data: Buffer | string): CsvReadResult {
  const issues: ImportIssue[] = [];
  let text: string;
  if (typeof data === 'string') {
    text = data;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch {
      return {
        rows: [],
        issues: [
          {
            row: 0,
            line: null,
            column: '',
            issue: 'not_utf8',
            reason: 'the file is not UTF-8: save it as "CSV UTF-8" and retry',
          },
        ],
      };
    }
  }
  text = text.normalize('NFC');

  let records: { info: { lines: number; empty_lines: number }; record: string[] }[] = [];
  try {
    records = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true, info: true }) as never;
  } catch (err) {
    const e = err as { lines?: number; message?: string; code?: string };
    // A broken quote stops the parser: what came before is still checked below.
    issues.push({
      row: 0,
      line: e.lines ?? null,
      column: '',
      reason: `malformed CSV (${e.code ?? 'parse error'}): ${e.message ?? ''}; the rest of the file was not read`,
      issue: 'malformed_csv',
      params: { detail: e.message ?? e.code ?? '' },
    });
    try {
      records = parse(
        text
          .split(/\r?\n/)
          .slice(0, Math.max(0, (e.lines ?? 1) - 1))
          .join('\n'),
        {
          bom: true,
          relax_column_count: true,
          skip_empty_lines: true,
          info: true,
        },
      ) as never;
    } catch {
      records = [];
    }
  }
  if (records.length === 0) {
    if (issues.length === 0)
      issues.push({ row: 0, line: 1, column: '', issue: 'empty_file', reason: 'the file is empty' });
    return { rows: [], issues };
  }

  const header = records[0]!.record.map(headerKey);
  const columnIndex = new Map<CsvColumn, number>();
  let headerUnusable = false;
  header.forEach((h, i) => {
    if ((CSV_COLUMNS as readonly string[]).includes(h)) {
      if (columnIndex.has(h as CsvColumn)) {
        issues.push({
          row: 0,
          line: 1,
          column: h,
          issue: 'column_twice',
          reason: 'this column appears twice in the header',
        });
        headerUnusable = true;
      } else {
        columnIndex.set(h as CsvColumn, i);
      }
    } else if (h !== '') {
      issues.push({
        row: 0,
        line: 1,
        column: h,
        issue: 'unknown_column',
        params: { expected: CSV_COLUMNS.join(', ') },
        reason: `unknown column; expected ${CSV_COLUMNS.join(', ')}`,
      });
    }
  });
  for (const c of REQUIRED) {
    if (!columnIndex.has(c)) {
      issues.push({
        row: 0,
        line: 1,
        column: c,
        issue: 'column_missing',
        reason: 'required column missing from the header',
      });
      headerUnusable = true;
    }
  }
  // Unknown columns are reported but the rows are still checked; a missing one makes them unreadable.
  if (headerUnusable) return { rows: [], issues };

  const rows: RawRow[] = [];
  let prevEnd = records[0]!.info.lines;
  let prevEmpty = records[0]!.info.empty_lines;
  for (let i = 1; i < records.length; i++) {
    const { info, record } = records[i]!;
    // info.lines is where the record ends; a quoted field may span lines.
    const line = prevEnd + 1 + (info.empty_lines - prevEmpty);
    prevEnd = info.lines;
    prevEmpty = info.empty_lines;
    const row = i;
    if (record.length !== header.length) {
      issues.push({
        row,
        line,
        column: '',
        reason: `expected ${header.length} columns, found ${record.length} (a comma inside an unquoted name?)`,
        issue: 'column_count',
        params: { expected: header.length, found: record.length },
      });
      continue;
    }
    const value: Record<string, unknown> = {};
    for (const [col, idx] of columnIndex) value[FIELD_OF[col]] = record[idx];
    rows.push({ row, line, value });
  }
  return { rows, issues };
}

/** Column name of a PointInput field, as the user sees it in the CSV. */
export function csvColumnOf(field: string): string {
  for (const [col, f] of Object.entries(FIELD_OF)) if (f === field) return col;
  return field;
}

/** The import format; every CSV the product writes escapes formulas the same way (server/security/csv.ts). */
export function writePointsCsv(points: Point[]): string {
  return writeCsv([
    [...CSV_COLUMNS],
    ...points.map((p) => [
      p.code,
      p.name,
      p.level,
      p.parent ?? '',
      p.district ?? '',
      String(p.expectedDelegates),
      p.contactName,
      p.contactPhone,
    ]),
  ]);
}
