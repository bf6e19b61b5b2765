// The connection point registry, in Redis.
//
// Keys:
//   points:byId            hash   point id (= code) → Point JSON
//   points:rev             string revision, incremented by every change; writes are
//                                 compare-and-set on it (Lua), so a concurrent edit or
//                                 import is refused instead of half-applied
//   points:staging:<uuid>  hash   a replace import being written; RENAMEd over points:byId
//                                 in one step, so readers see the old or the new registry
//   points:seeded          string set once the shipped registry was loaded on first start
//
// Reads go through an in-process copy checked against points:rev on every call (one GET),
// so a few thousand points are filtered in memory and other processes' writes are seen.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  PointInputSchema,
  type ImportIssue,
  type ImportReport,
  type Page,
  type Point,
  type PointInput,
  type PointListQuery,
  type PointSummary,
  type PointUpdate,
} from '../../contract/api';
import { AppError, badRequest, conflict, notFound, why } from '../../errors';
import { readPointsCsv, writePointsCsv, type RawRow } from './csv';
import { searchKey, validatePoints } from './validate';

export const POINT_KEYS = {
  byId: 'points:byId',
  rev: 'points:rev',
  seeded: 'points:seeded',
  staging: (id: string) => `points:staging:${id}`,
} as const;

// KEYS[1] rev, KEYS[2] byId; ARGV[1] expected rev; ARGV[2] 'set'|'del'; ARGV[3..] fields (and values).
const CAS_WRITE = `
local cur = redis.call('GET', KEYS[1]) or '0'
if cur ~= ARGV[1] then return 0 end
if ARGV[2] == 'set' then
  for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
else
  for i = 3, #ARGV do redis.call('HDEL', KEYS[2], ARGV[i]) end
end
return redis.call('INCR', KEYS[1])
`;
// KEYS[1] rev, KEYS[2] staging, KEYS[3] byId; ARGV[1] expected rev.
const CAS_REPLACE = `
local cur = redis.call('GET', KEYS[1]) or '0'
if cur ~= ARGV[1] then redis.call('DEL', KEYS[2]) return 0 end
redis.call('PERSIST', KEYS[2])
redis.call('RENAME', KEYS[2], KEYS[3])
return redis.call('INCR', KEYS[1])
`;

export type ImportMode = 'replace' | 'merge';
export interface ImportOptions {
  mode: ImportMode;
  dryRun: boolean;
}

interface Snapshot {
  rev: string;
  points: Map<string, Point>;
  /** In registry order: level, then code. */
  sorted: Point[];
}

/** In the registry's own order (as imported), which puts parents before their children. */
function sortPoints(points: Iterable<Point>): Point[] {
  return [...points].sort((a, b) => a.position - b.position || a.code.localeCompare(b.code, 'en'));
}

const nextPosition = (snap: Snapshot) => (snap.sorted.at(-1)?.position ?? 0) + 1;

export class PointRegistry {
  #snapshot: Snapshot | undefined;
  #log: Logger;

  constructor(
    private readonly redis: Redis,
    logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.#log = logger.child({ component: 'points' });
  }

  // ── reads ──────────────────────────────────────────────────────────────────────────

  async snapshot(): Promise<Snapshot> {
    const rev = (await this.redis.get(POINT_KEYS.rev)) ?? '0';
    if (this.#snapshot?.rev === rev) return this.#snapshot;
    const [[, raw], [, rev2]] = (await this.redis.multi().hgetall(POINT_KEYS.byId).get(POINT_KEYS.rev).exec()) as [
      [null, Record<string, string>],
      [null, string | null],
    ];
    const points = new Map<string, Point>();
    for (const [id, json] of Object.entries(raw)) points.set(id, JSON.parse(json) as Point);
    this.#snapshot = { rev: rev2 ?? '0', points, sorted: sortPoints(points.values()) };
    return this.#snapshot;
  }

  async all(): Promise<Point[]> {
    return (await this.snapshot()).sorted;
  }

  async get(id: string): Promise<Point | undefined> {
    return (await this.snapshot()).points.get(id);
  }

  async require(id: string): Promise<Point> {
    const p = await this.get(id);
    if (!p) throw notFound(`point ${id}`);
    return p;
  }

  async list(query: PointListQuery): Promise<Page<Point>> {
    const { sorted } = await this.snapshot();
    const q = query.q ? searchKey(query.q) : undefined;
    const items = sorted.filter(
      (p) =>
        (!query.district || p.district === query.district) &&
        (!query.level || p.level === query.level) &&
        (!q || searchKey(`${p.code} ${p.name} ${p.contactName} ${p.contactPhone}`).includes(q)),
    );
    const { offset, limit } = query;
    return { items: items.slice(offset, offset + limit), total: items.length, limit, offset };
  }

  async summary(): Promise<PointSummary> {
    const { sorted, points } = await this.snapshot();
    const byLevel = new Map<Point['level'], { points: number; expectedDelegates: number }>();
    const byDistrict = new Map<string, { points: number; expectedDelegates: number }>();
    let delegates = 0;
    for (const p of sorted) {
      delegates += p.expectedDelegates;
      const l = byLevel.get(p.level) ?? { points: 0, expectedDelegates: 0 };
      l.points++;
      l.expectedDelegates += p.expectedDelegates;
      byLevel.set(p.level, l);
      if (p.district) {
        const d = byDistrict.get(p.district) ?? { points: 0, expectedDelegates: 0 };
        d.points++;
        d.expectedDelegates += p.expectedDelegates;
        byDistrict.set(p.district, d);
      }
    }
    return {
      points: sorted.length,
      expectedDelegates: delegates,
      byLevel: [...byLevel].map(([level, v]) => ({ level, ...v })),
      districts: [...byDistrict]
        .map(([code, v]) => ({ code, name: points.get(code)?.name ?? code, ...v }))
        .sort((a, b) => a.code.localeCompare(b.code, 'en')),
    };
  }

  async exportCsv(): Promise<string> {
    return writePointsCsv(await this.all());
  }

  // ── writes ─────────────────────────────────────────────────────────────────────────

  async create(input: PointInput): Promise<Point> {
    return this.#retry(async (snap) => {
      const code = String(input.code).trim();
      if (snap.points.has(code))
        throw conflict(`a point with code ${code} already exists`, undefined, why('code_taken', { code }));
      const point = { ...this.#validateOne(input, snap), position: nextPosition(snap) };
      return { write: [point], result: point };
    });
  }

  async update(id: string, patch: PointUpdate): Promise<Point> {
    return this.#retry(async (snap) => {
      const cur = snap.points.get(id);
      if (!cur) throw notFound(`point ${id}`);
      const merged: Record<string, unknown> = { ...cur, ...patch, code: cur.code };
      delete merged.id;
      delete merged.updatedAt;
      delete merged.position;
      const point = { ...this.#validateOne(merged, snap), position: cur.position };
      // Children must still fit under the point with its new level.
      const children = [...snap.points.values()].filter((p) => p.parent === id);
      if (point.level !== cur.level && children.length > 0) {
        throw conflict(
          `${id} has ${children.length} child point(s); move them before changing its level`,
          undefined,
          why('has_children', { count: children.length }),
        );
      }
      return { write: [point], result: point };
    });
  }

  async remove(id: string): Promise<void> {
    await this.#retry(async (snap) => {
      if (!snap.points.has(id)) throw notFound(`point ${id}`);
      const children = [...snap.points.values()].filter((p) => p.parent === id || p.district === id);
      if (children.length > 0) {
        throw conflict(
          `${id} has ${children.length} point(s) under it; remove or move them first`,
          { children: children.slice(0, 20).map((c) => c.id) },
          why('has_children', { count: children.length }),
        );
      }
      return { remove: [id], result: undefined };
    });
  }

  importCsv(data: Buffer | string, opts: ImportOptions): Promise<ImportReport> {
    const { rows, issues } = readPointsCsv(data);
    return this.#import(rows, issues, 'csv', opts);
  }

  importJson(items: unknown[], opts: ImportOptions): Promise<ImportReport> {
    const rows: RawRow[] = [];
    const issues: ImportIssue[] = [];
    items.forEach((value, i) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        issues.push({ row: i + 1, line: null, column: '', issue: 'not_object', reason: 'each item must be an object' });
      } else {
        rows.push({ row: i + 1, line: null, value: value as Record<string, unknown> });
      }
    });
    return this.#import(rows, issues, 'json', opts);
  }

  /** Loads the shipped registry when the store has never held one (first start). */
  async seedIfEmpty(csvPath: string): Promise<ImportReport | undefined> {
    const [count, seeded] = await Promise.all([this.redis.hlen(POINT_KEYS.byId), this.redis.get(POINT_KEYS.seeded)]);
    if (count > 0 || seeded) return undefined;
    try {
      const report = await this.importCsv(fs.readFileSync(csvPath), { mode: 'replace', dryRun: false });
      if (!report.imported) {
        this.#log.error({ issues: report.issues.slice(0, 20) }, 'the shipped registry has errors; not loaded');
        return report;
      }
      await this.redis.set(POINT_KEYS.seeded, this.now().toISOString());
      this.#log.info(
        { points: report.rows, expectedDelegates: report.expectedDelegates, file: csvPath },
        'loaded the shipped point registry',
      );
      return report;
    } catch (err) {
      // Another process seeding at the same moment wins the compare-and-set.
      if (err instanceof AppError && err.code === 'conflict') return undefined;
      throw err;
    }
  }

  async #import(
    rows: RawRow[],
    readIssues: ImportIssue[],
    columns: 'csv' | 'json',
    opts: ImportOptions,
  ): Promise<ImportReport> {
    const snap = await this.snapshot();
    const base = opts.mode === 'merge' ? snap.points : new Map<string, Point>();
    const validated = validatePoints(rows, { base, columns, now: this.now() });
    const { issues } = validated;
    // Merge: updated points keep their place, new ones go last in file order.
    const after = nextPosition(snap);
    const points =
      opts.mode === 'merge'
        ? validated.points.map((p) => ({ ...p, position: snap.points.get(p.id)?.position ?? after + p.position }))
        : validated.points;
    const all = [...readIssues, ...issues].sort((a, b) => a.row - b.row);
    if (rows.length === 0 && all.length === 0) {
      all.push({ row: 0, line: null, column: '', issue: 'no_points', reason: 'no points in the file' });
    }
    const created = points.filter((p) => !snap.points.has(p.id)).length;
    const ids = new Set(points.map((p) => p.id));
    const removed = opts.mode === 'replace' ? [...snap.points.keys()].filter((id) => !ids.has(id)).length : 0;
    const report: ImportReport = {
      dryRun: opts.dryRun,
      mode: opts.mode,
      imported: false,
      rows: rows.length + readIssues.filter((i) => i.row > 0).length,
      created,
      updated: points.length - created,
      removed,
      expectedDelegates: points.reduce((n, p) => n + p.expectedDelegates, 0),
      issues: all,
    };
    if (all.length > 0 || opts.dryRun) return report;

    if (opts.mode === 'merge') {
      await this.#casWrite(snap.rev, points, []);
    } else {
      const staging = POINT_KEYS.staging(randomUUID());
      const pipe = this.redis.pipeline().del(staging);
      for (let i = 0; i < points.length; i += 500) {
        pipe.hset(staging, ...points.slice(i, i + 500).flatMap((p) => [p.id, JSON.stringify(p)]));
      }
      // A crash between here and the rename leaves nothing behind for long.
      await pipe.expire(staging, 600).exec();
      const ok = (await this.redis.eval(CAS_REPLACE, 3, POINT_KEYS.rev, staging, POINT_KEYS.byId, snap.rev)) as number;
      if (!ok) {
        throw conflict(
          'the registry changed during the import; nothing was imported, retry',
          undefined,
          why('changed_meanwhile'),
        );
      }
    }
    this.#snapshot = undefined;
    this.#log.info(
      { mode: opts.mode, rows: points.length, created, removed, expectedDelegates: report.expectedDelegates },
      'point registry imported',
    );
    return { ...report, imported: true };
  }

  #validateOne(input: unknown, snap: Snapshot): Point {
    const shaped = PointInputSchema.safeParse(input);
    if (!shaped.success) throw shaped.error;
    const { points, issues } = validatePoints([{ row: 1, line: null, value: input as Record<string, unknown> }], {
      base: snap.points,
      columns: 'json',
      now: this.now(),
    });
    if (issues.length > 0 || !points[0]) {
      throw badRequest(
        issues.map((i) => i.reason).join('; '),
        issues.map((i) => ({
          path: i.column,
          issue: i.issue,
          ...(i.params ? { params: i.params } : {}),
          message: i.reason,
        })),
      );
    }
    return points[0];
  }

  async #casWrite(rev: string, write: Point[], remove: string[]): Promise<void> {
    const args = write.length > 0 ? ['set', ...write.flatMap((p) => [p.id, JSON.stringify(p)])] : ['del', ...remove];
    const ok = (await this.redis.eval(CAS_WRITE, 2, POINT_KEYS.rev, POINT_KEYS.byId, rev, ...args)) as number;
    if (!ok) throw new AppError('conflict', 'the registry changed meanwhile; retry');
    this.#snapshot = undefined;
  }

  /** Read, decide, compare-and-set; a few retries absorb concurrent edits of other points. */
  async #retry<T>(fn: (snap: Snapshot) => Promise<{ write?: Point[]; remove?: string[]; result: T }>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const snap = await this.snapshot();
      const { write = [], remove = [], result } = await fn(snap);
      try {
        await this.#casWrite(snap.rev, write, remove);
        return result;
      } catch (err) {
        if (attempt >= 3 || !(err instanceof AppError) || err.code !== 'conflict') throw err;
        this.#snapshot = undefined;
      }
    }
  }
}
