// CSV in and out of the point registry. Reading never throws on bad content: every
// problem becomes an ImportIssue with its line and column, so a dry run can show them all.
import type { Point } from '../../contract/api';
import { writeCsv } from '../../security/csv';
import { readCsvTable, type CsvReadResult, type RawRow } from '../../security/csv-read';

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
  'sip_address',
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
  sip_address: 'sipAddress',
};
const REQUIRED: CsvColumn[] = ['code', 'name', 'level', 'expected_delegates'];

export type { RawRow };

/** Reads a registry CSV: UTF-8 (a BOM is fine), comma-separated, a header row naming the columns. */
export function readPointsCsv(data: Buffer | string): CsvReadResult {
  return readCsvTable(data, { columns: CSV_COLUMNS, required: REQUIRED, fieldOf: FIELD_OF });
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
      p.sipAddress ?? '',
    ]),
  ]);
}
