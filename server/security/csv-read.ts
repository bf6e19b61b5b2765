// Every CSV the product reads (the point registry, a point's roster) goes through
// readCsvTable: UTF-8 only (a BOM is fine), a header row naming the columns (in English,
// or by an alias such as the Vietnamese "Họ tên"), at most `maxRows` data rows. Reading
// never throws on bad content: every problem becomes an ImportIssue with its row, line
// and column, so an import can show them all and store nothing.
import { parse } from 'csv-parse/sync';
import type { ImportIssue } from '../contract/api';

export interface CsvTableSpec<C extends string> {
  /** Column names as written in exports and in issues. */
  columns: readonly C[];
  required: readonly C[];
  /** The field each column fills in a row's value. */
  fieldOf: Record<C, string>;
  /** Other header names (accents, case, spaces and dashes aside) for a column. */
  aliases?: Record<string, C>;
  maxRows?: number;
}

/** One data row, as raw values keyed by field, with where it came from. */
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

/** A header without accents: "Họ và tên" and "ho va ten" name the same column. */
const plainKey = (h: string) =>
  headerKey(h)
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd');

type Record_ = { info: { lines: number; empty_lines: number }; record: string[] };

function decode(data: Buffer | string): string | ImportIssue {
  if (typeof data === 'string') return data;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return {
      row: 0,
      line: null,
      column: '',
      issue: 'not_utf8',
      reason: 'the file is not UTF-8: save it as "CSV UTF-8" and retry',
    };
  }
}

const PARSE = { bom: true, relax_column_count: true, skip_empty_lines: true, info: true } as const;

/** The records, or those before a broken quote with the issue saying where it broke. */
function records(text: string, issues: ImportIssue[]): Record_[] {
  try {
    return parse(text, PARSE) as never;
  } catch (err) {
    const e = err as { lines?: number; message?: string; code?: string };
    issues.push({
      row: 0,
      line: e.lines ?? null,
      column: '',
      reason: `malformed CSV (${e.code ?? 'parse error'}): ${e.message ?? ''}; the rest of the file was not read`,
      issue: 'malformed_csv',
      params: { detail: e.message ?? e.code ?? '' },
    });
    // What came before the break is still checked.
    try {
      const before = text
        .split(/\r?\n/)
        .slice(0, Math.max(0, (e.lines ?? 1) - 1))
        .join('\n');
      return parse(before, PARSE) as never;
    } catch {
      return [];
    }
  }
}

export function readCsvTable<C extends string>(data: Buffer | string, spec: CsvTableSpec<C>): CsvReadResult {
  const decoded = decode(data);
  if (typeof decoded !== 'string') return { rows: [], issues: [decoded] };
  const issues: ImportIssue[] = [];
  const recs = records(decoded.normalize('NFC'), issues);
  if (recs.length === 0) {
    if (issues.length === 0)
      issues.push({ row: 0, line: 1, column: '', issue: 'empty_file', reason: 'the file is empty' });
    return { rows: [], issues };
  }

  const known = new Map<string, C>();
  for (const c of spec.columns) known.set(plainKey(c), c);
  for (const [alias, c] of Object.entries(spec.aliases ?? {}) as [string, C][]) known.set(plainKey(alias), c);
  const expected = spec.columns.join(', ');
  const header = recs[0]!.record;
  const columnIndex = new Map<C, number>();
  let headerUnusable = false;
  header.forEach((raw, i) => {
    const h = headerKey(raw);
    const col = known.get(plainKey(raw));
    if (col !== undefined) {
      if (columnIndex.has(col)) {
        issues.push({
          row: 0,
          line: 1,
          column: col,
          issue: 'column_twice',
          reason: 'this column appears twice in the header',
        });
        headerUnusable = true;
      } else {
        columnIndex.set(col, i);
      }
    } else if (h !== '') {
      issues.push({
        row: 0,
        line: 1,
        column: h,
        issue: 'unknown_column',
        params: { expected },
        reason: `unknown column; expected ${expected}`,
      });
    }
  });
  for (const c of spec.required) {
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
  if (spec.maxRows !== undefined && recs.length - 1 > spec.maxRows) {
    issues.push({
      row: 0,
      line: null,
      column: '',
      issue: 'too_many_rows',
      params: { max: spec.maxRows, found: recs.length - 1 },
      reason: `${recs.length - 1} rows: at most ${spec.maxRows}`,
    });
    return { rows: [], issues };
  }

  const rows: RawRow[] = [];
  let prevEnd = recs[0]!.info.lines;
  let prevEmpty = recs[0]!.info.empty_lines;
  for (let i = 1; i < recs.length; i++) {
    const { info, record } = recs[i]!;
    // info.lines is where the record ends; a quoted field may span lines.
    const line = prevEnd + 1 + (info.empty_lines - prevEmpty);
    prevEnd = info.lines;
    prevEmpty = info.empty_lines;
    if (record.length !== header.length) {
      issues.push({
        row: i,
        line,
        column: '',
        reason: `expected ${header.length} columns, found ${record.length} (a comma inside an unquoted name?)`,
        issue: 'column_count',
        params: { expected: header.length, found: record.length },
      });
      continue;
    }
    const value: Record<string, unknown> = {};
    for (const [col, idx] of columnIndex) value[spec.fieldOf[col]] = record[idx];
    rows.push({ row: i, line, value });
  }
  return { rows, issues };
}
