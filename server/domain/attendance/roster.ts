// A point's roster of delegates (optional): imported per point from CSV or edited row by
// row on the host's console; a name a delegate types at check-in that matches an entry is
// taken as that entry (its spelling, position and unit). The names go to the desk only,
// never to a phone. An import replaces it as a whole, and only when every row is good.
//
// Keys: roster:<pointId>       hash    entry id → { name, position, unit } JSON
//       roster-seq:<pointId>   string  the last entry id given (ids are never reused, by an edit or a replace)
//       roster-ver:<pointId>   string  bumped by every write that can bring a name in: an add or a
//                                      rename checks the names it read and writes in one step only
//                                      if it is unchanged, so two concurrent adds of a name never both pass
import type { Redis } from 'ioredis';
import { ROSTER_MAX_ENTRIES, RosterRowSchema, type RosterEntry, type RosterRow } from '../../contract/attendance';
import type { ImportIssue } from '../../contract/api';
import { issuesOf } from '../../contract/errors';
import { conflict, notFound, why } from '../../errors';
import { writeCsv } from '../../security/csv';
import { readCsvTable, type RawRow } from '../../security/csv-read';
import { searchKey } from '../points/validate';

export const rosterKey = (pointId: string) => `roster:${pointId}`;
const seqKey = (pointId: string) => `roster-seq:${pointId}`;
const verKey = (pointId: string) => `roster-ver:${pointId}`;
/** How often an add or a rename reads the roster again when other writes keep changing it. */
const MAX_TRIES = 50;

/** The columns of a roster CSV, as exported; Vietnamese headers are read too. */
export const ROSTER_COLUMNS = ['name', 'position', 'unit'] as const;
const ROSTER_ALIASES: Record<string, (typeof ROSTER_COLUMNS)[number]> = {
  'họ tên': 'name',
  'họ và tên': 'name',
  'full name': 'name',
  'chức vụ': 'position',
  'chức danh': 'position',
  title: 'position',
  'đơn vị': 'unit',
  'cơ quan': 'unit',
  agency: 'unit',
};

/** The same delegate however the name is accented, cased or spaced. */
export const nameKey = (name: string) =>
  searchKey(name)
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();

// The last id given: roster-seq, or a higher id already in the roster (KEYS[1] roster, KEYS[2] seq).
const LAST_ID = `
local n = tonumber(redis.call('GET', KEYS[2]) or '0')
for _, k in ipairs(redis.call('HKEYS', KEYS[1])) do
  local v = tonumber(k)
  if v and v > n then n = v end
end
`;
// KEYS[3] version; ARGV[1] entry JSON, ARGV[2] max entries, ARGV[3] the version the names
// were checked at. Returns the new id, -1 when full, -2 when the roster changed meanwhile.
const APPEND = `
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[3] then return -2 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
redis.call('INCR', KEYS[3])
${LAST_ID}
n = n + 1
redis.call('SET', KEYS[2], n)
redis.call('HSET', KEYS[1], tostring(n), ARGV[1])
return n
`;
// KEYS[3] version; ARGV: the entries' JSON in order; they get the ids after the last one
// given. Returns the first.
const REPLACE = `
${LAST_ID}
redis.call('INCR', KEYS[3])
redis.call('DEL', KEYS[1])
for i = 1, #ARGV do redis.call('HSET', KEYS[1], tostring(n + i), ARGV[i]) end
redis.call('SET', KEYS[2], n + #ARGV)
return n + 1
`;
// KEYS[1] roster, KEYS[2] version; ARGV[1] id, ARGV[2] entry JSON, ARGV[3] the version the
// names were checked at ('' for no name change). 0 when the entry is gone, -2 when the roster changed.
const SET_IF_THERE = `
if ARGV[3] ~= '' and (redis.call('GET', KEYS[2]) or '0') ~= ARGV[3] then return -2 end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

const collapseSpaces = (name: string) => name.replace(/\s+/g, ' ');

const stored = (r: RosterRow) => JSON.stringify({ name: r.name, position: r.position, unit: r.unit });

/** A roster row as given: where it came from (CSV row and line, or JSON index + 1) and its fields. */
export type RawRosterRow = Omit<RawRow, 'value'> & { value: unknown };

/**
 * Checks roster rows however they came (CSV or JSON): each against the contract, runs of
 * whitespace in a name collapsed, and the same name twice (accents, case and spacing aside)
 * refused, since it would make a check-in ambiguous. The good rows, or every problem with
 * its row, line and code.
 */
export function checkRosterRows(raws: readonly RawRosterRow[]): { rows: RosterRow[]; issues: ImportIssue[] } {
  const issues: ImportIssue[] = [];
  const rows: RosterRow[] = [];
  const firstRowOf = new Map<string, number>();
  for (const raw of raws) {
    const parsed = RosterRowSchema.safeParse(raw.value);
    if (!parsed.success) {
      for (const shown of issuesOf(parsed.error.issues)) {
        issues.push({
          row: raw.row,
          line: raw.line,
          column: shown.path,
          reason: shown.message,
          issue: shown.issue,
          ...(shown.params ? { params: shown.params } : {}),
        });
      }
      continue;
    }
    const row = { ...parsed.data, name: collapseSpaces(parsed.data.name) };
    const key = nameKey(row.name);
    const first = firstRowOf.get(key);
    if (first !== undefined) {
      issues.push({
        row: raw.row,
        line: raw.line,
        column: 'name',
        reason: `the same name as row ${first}`,
        issue: 'duplicate_name',
        params: { row: first },
      });
      continue;
    }
    firstRowOf.set(key, raw.row);
    rows.push(row);
  }
  return { rows, issues };
}

/**
 * Reads a roster CSV (UTF-8, header `name,position,unit` or `Họ tên,Chức vụ,Đơn vị`):
 * the rows, or every problem with its row and line (see checkRosterRows).
 */
export function readRosterCsv(data: Buffer | string): { rows: RosterRow[]; issues: ImportIssue[] } {
  const read = readCsvTable(data, {
    columns: ROSTER_COLUMNS,
    required: ['name'],
    fieldOf: { name: 'name', position: 'position', unit: 'unit' },
    aliases: ROSTER_ALIASES,
    maxRows: ROSTER_MAX_ENTRIES,
  });
  const checked = checkRosterRows(read.rows);
  const issues = [...read.issues, ...checked.issues];
  issues.sort((a, b) => a.row - b.row || a.column.localeCompare(b.column));
  return { rows: checked.rows, issues };
}

/** The roster as CSV (the import's format, Vietnamese header aside), formulas escaped. */
export function writeRosterCsv(entries: RosterEntry[]): string {
  return writeCsv([[...ROSTER_COLUMNS], ...entries.map((e) => [e.name, e.position, e.unit])]);
}

export class RosterStore {
  constructor(private readonly redis: Redis) {}

  /**
   * Replaces the roster as a whole. The rows get new ids, after the last one given: an id
   * is never reused, so a check-in's rosterId never comes to name another delegate.
   */
  async replace(pointId: string, entries: RosterRow[]): Promise<RosterEntry[]> {
    const first = Number(
      await this.redis.eval(REPLACE, 3, rosterKey(pointId), seqKey(pointId), verKey(pointId), ...entries.map(stored)),
    );
    return entries.map((e, i) => ({ id: String(first + i), name: e.name, position: e.position, unit: e.unit }));
  }

  async list(pointId: string): Promise<RosterEntry[]> {
    const all = await this.redis.hgetall(rosterKey(pointId));
    return Object.entries(all)
      .map(([id, j]) => parseEntry(id, j))
      .sort((a, b) => Number(a.id) - Number(b.id));
  }

  async size(pointId: string): Promise<number> {
    return this.redis.hlen(rosterKey(pointId));
  }

  async get(pointId: string, id: string): Promise<RosterEntry | undefined> {
    const j = await this.redis.hget(rosterKey(pointId), id);
    return j ? parseEntry(id, j) : undefined;
  }

  /** Adds one delegate at the end; a name already there (accents and case aside) is refused. */
  async add(pointId: string, given: RosterRow): Promise<RosterEntry> {
    const row = { ...given, name: collapseSpaces(given.name) };
    const keys = [rosterKey(pointId), seqKey(pointId), verKey(pointId)];
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const version = await this.#refuseTwice(pointId, row.name, undefined);
      const id = Number(await this.redis.eval(APPEND, 3, ...keys, stored(row), ROSTER_MAX_ENTRIES, version));
      if (id === -2) continue;
      if (id < 0) {
        const max = ROSTER_MAX_ENTRIES;
        throw conflict(`a roster holds at most ${max} names`, undefined, why('roster_full', { max }));
      }
      return { id: String(id), ...row };
    }
    throw busy();
  }

  /** Changes one delegate's name, position or unit; the id (and check-ins made with it) stay. */
  async edit(pointId: string, id: string, change: Partial<RosterRow>): Promise<RosterEntry> {
    const cur = await this.get(pointId, id);
    if (!cur) throw notFound(`roster entry ${id} of point ${pointId}`);
    const next: RosterEntry = { ...cur, ...change, ...(change.name ? { name: collapseSpaces(change.name) } : {}) };
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const version = change.name !== undefined ? await this.#refuseTwice(pointId, next.name, id) : '';
      const done = Number(
        await this.redis.eval(SET_IF_THERE, 2, rosterKey(pointId), verKey(pointId), id, stored(next), version),
      );
      if (done === -2) continue;
      if (done === 0) throw notFound(`roster entry ${id} of point ${pointId}`);
      return next;
    }
    throw busy();
  }

  async remove(pointId: string, id: string): Promise<void> {
    if ((await this.redis.hdel(rosterKey(pointId), id)) === 0) throw notFound(`roster entry ${id} of point ${pointId}`);
  }

  /** Refuses a name already on the roster (but entry `except`); the version it checked at. */
  async #refuseTwice(pointId: string, name: string, except: string | undefined): Promise<string> {
    const key = nameKey(name);
    const read = await this.redis.multi().get(verKey(pointId)).hgetall(rosterKey(pointId)).exec();
    const version = (read?.[0]?.[1] as string | null) ?? '0';
    const all = (read?.[1]?.[1] ?? {}) as Record<string, string>;
    const other = Object.entries(all)
      .map(([i, j]) => parseEntry(i, j))
      .find((e) => e.id !== except && nameKey(e.name) === key);
    if (other) {
      throw conflict(
        `${other.name} is already on the roster`,
        undefined,
        why('roster_name_taken', { name: other.name }),
      );
    }
    return version;
  }
}

const busy = () => conflict('the roster kept changing; try again', undefined, why('changed_meanwhile'));

function parseEntry(id: string, j: string): RosterEntry {
  const v = JSON.parse(j) as { name: string; position: string; unit?: string };
  return { id, name: v.name, position: v.position, unit: v.unit ?? '' };
}
