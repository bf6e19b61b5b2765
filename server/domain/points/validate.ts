// Pure checks of a batch of points against the registry they would produce: each row on
// its own (zod), then the rows together (duplicate codes, parents, districts, cycles).
// Every problem is reported; nothing here touches Redis.
import { PointInputSchema, type ImportIssue, type Point, type PointLevel } from '../../contract/api';
import { issuesOf, type ErrorParams } from '../../contract/errors';
import { toAppError } from '../../errors';
import { parseSipTarget } from './sip-address';
import { csvColumnOf, type RawRow } from './csv';

/** A zod issue's parameters, as the pages render them. */
function issueParams(i: Parameters<typeof issuesOf>[0][number]): { params?: ErrorParams } {
  const [shown] = issuesOf([i]);
  return shown?.params ? { params: shown.params } : {};
}

/** Which levels a point of each level may hang under. */
const PARENT_LEVELS: Record<PointLevel, (PointLevel | null)[]> = {
  province: [null, 'province'],
  district: ['province'],
  commune: ['district'],
  agency: ['province', 'district'],
};

export interface ValidationResult {
  points: Point[];
  issues: ImportIssue[];
}

export interface ValidateOptions {
  /** Points that stay in the registry beside the batch (merge, single edits); empty for a replace. */
  base: ReadonlyMap<string, Point>;
  /** Column names in issues: CSV headers or JSON field names. */
  columns: 'csv' | 'json';
  now: Date;
}

export function validatePoints(rows: RawRow[], opts: ValidateOptions): ValidationResult {
  const issues: ImportIssue[] = [];
  const col = (field: string) => (opts.columns === 'csv' ? csvColumnOf(field) : field);
  const accepted: { raw: RawRow; point: Point }[] = [];
  const firstRowOf = new Map<string, number>();
  const updatedAt = opts.now.toISOString();

  for (const raw of rows) {
    const parsed = PointInputSchema.safeParse(raw.value);
    if (!parsed.success) {
      for (const i of parsed.error.issues) {
        issues.push({
          row: raw.row,
          line: raw.line,
          column: i.code === 'unrecognized_keys' ? i.keys.join(', ') : col(String(i.path[0] ?? '')),
          reason: i.message,
          issue: i.code,
          ...issueParams(i),
        });
      }
      continue;
    }
    const p = parsed.data;
    let sipAddress: string | undefined;
    if (p.sipAddress) {
      try {
        sipAddress = parseSipTarget(p.sipAddress).uri;
      } catch (err) {
        const e = toAppError(err);
        issues.push({
          row: raw.row,
          line: raw.line,
          column: col('sipAddress'),
          reason: e.message,
          issue: 'sip_address_invalid',
          params: { detail: String(e.params?.detail ?? e.message) },
        });
        continue;
      }
    }
    const first = firstRowOf.get(p.code.toUpperCase());
    if (first !== undefined) {
      issues.push({
        row: raw.row,
        line: raw.line,
        column: col('code'),
        reason: `duplicate code ${p.code}: already on row ${first}`,
        issue: 'duplicate_code',
        params: { code: p.code, row: first },
      });
      continue;
    }
    firstRowOf.set(p.code.toUpperCase(), raw.row);
    accepted.push({
      raw,
      point: {
        id: p.code,
        code: p.code,
        name: p.name.normalize('NFC'),
        level: p.level,
        // A district point is its own district.
        parent: p.parent,
        district: p.level === 'district' ? (p.district ?? p.code) : p.district,
        expectedDelegates: p.expectedDelegates,
        contactName: p.contactName.normalize('NFC'),
        contactPhone: p.contactPhone,
        ...(sipAddress ? { sipAddress } : {}),
        position: raw.row,
        updatedAt,
      },
    });
  }

  // The registry as it would be: the base, overlaid with the batch.
  const result = new Map(opts.base);
  for (const { point } of accepted) result.set(point.id, point);
  // Codes differing only in case would be one point to a person reading a list.
  const byUpper = new Map<string, string>();
  for (const id of result.keys()) byUpper.set(id.toUpperCase(), id);

  for (const { raw, point } of accepted) {
    const at = (field: string, issue: string, params: ErrorParams, reason: string) =>
      issues.push({ row: raw.row, line: raw.line, column: col(field), reason, issue, params });
    const clash = byUpper.get(point.code.toUpperCase());
    if (clash !== undefined && clash !== point.code) {
      at(
        'code',
        'code_case_clash',
        { code: point.code, other: clash },
        `code ${point.code} differs only in letter case from the existing point ${clash}`,
      );
    }
    if (point.parent === null) {
      if (!PARENT_LEVELS[point.level].includes(null)) {
        at('parent', 'parent_missing', { level: point.level }, `a ${point.level} point needs a parent`);
      }
    } else if (point.parent === point.code) {
      at('parent', 'own_parent', {}, 'a point cannot be its own parent');
    } else {
      const parent = result.get(point.parent);
      if (!parent) at('parent', 'unknown_parent', { code: point.parent }, `unknown parent ${point.parent}`);
      else if (!PARENT_LEVELS[point.level].includes(parent.level)) {
        at(
          'parent',
          'parent_level',
          { level: point.level, parentLevel: parent.level, code: parent.code },
          `a ${point.level} point cannot hang under the ${parent.level} point ${parent.code}`,
        );
      }
    }
    if (point.level === 'district') {
      if (point.district !== point.code) {
        at('district', 'district_not_own', {}, `a district point's district must be its own code`);
      }
    } else if (point.district !== null) {
      const d = result.get(point.district);
      if (!d) at('district', 'unknown_district', { code: point.district }, `unknown district ${point.district}`);
      else if (d.level !== 'district') {
        at(
          'district',
          'not_a_district',
          { code: point.district, level: d.level },
          `${point.district} is a ${d.level} point, not a district`,
        );
      } else if (
        point.level === 'commune' &&
        point.parent !== null &&
        result.get(point.parent)?.level === 'district' &&
        point.parent !== point.district
      ) {
        at(
          'district',
          'district_not_parent',
          { parent: point.parent },
          `a commune's district must be its parent (${point.parent})`,
        );
      }
    } else if (point.level === 'commune') {
      at('district', 'district_missing', {}, 'a commune point needs its district');
    }
  }

  // A cycle (A under B under A) can only involve points of the batch.
  for (const { raw, point } of accepted) {
    const seen = new Set<string>([point.id]);
    // A point that is its own parent was reported above.
    let cur = point.parent && point.parent !== point.id ? result.get(point.parent) : undefined;
    while (cur) {
      if (seen.has(cur.id)) {
        issues.push({
          row: raw.row,
          line: raw.line,
          column: col('parent'),
          reason: `parents form a cycle through ${cur.code}`,
          issue: 'parent_cycle',
          params: { code: cur.code },
        });
        break;
      }
      seen.add(cur.id);
      cur = cur.parent ? result.get(cur.parent) : undefined;
    }
  }

  issues.sort((a, b) => a.row - b.row || a.column.localeCompare(b.column));
  return { points: accepted.map((a) => a.point), issues };
}

/** Lower-case, accents and đ removed: how search matches Vietnamese typed without marks. */
export function searchKey(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase();
}
