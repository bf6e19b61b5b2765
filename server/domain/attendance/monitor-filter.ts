// The monitor's filter by province and district: which tiles, alerts and totals a desk
// watching part of a national session gets. A filter has a key (`f:<province>/<district>`,
// either part empty; `f:/` is every point) that names its delta room and what a process
// announces it watches (server/realtime/monitor-namespace.ts).
import type { Alert, MonitorAreas, MonitorFilter, MonitorSnapshot, PointTile, Rollup } from '../../contract/attendance';
import { PROVINCE_GROUP, rollup } from './rollup';

/** The filter of every point. */
export const EVERY_POINT: MonitorFilter = {};

export const filterKey = (f: MonitorFilter): string => `f:${f.province ?? ''}/${f.district ?? ''}`;

/** The filter a key names; undefined for a key that is not a filter's. */
export function filterOfKey(key: string): MonitorFilter | undefined {
  const m = /^f:([^/]*)\/(.*)$/.exec(key);
  if (!m) return undefined;
  return { ...(m[1] ? { province: m[1] } : {}), ...(m[2] ? { district: m[2] } : {}) };
}

export const isEveryPoint = (f: MonitorFilter): boolean => !f.province && !f.district;

/** The district group a tile is counted in (`_province` for points outside any district). */
const districtOf = (t: Pick<PointTile, 'district'>) => t.district ?? PROVINCE_GROUP.code;

export function matches(f: MonitorFilter, t: Pick<PointTile, 'province' | 'district'>): boolean {
  if (f.province && t.province !== f.province) return false;
  if (f.district && districtOf(t) !== f.district) return false;
  return true;
}

/**
 * The alerts a filter shows: those of its points, and those of no point (the recorder's).
 * `tiles` are every tile of the session, by id.
 */
export function alertsFor(f: MonitorFilter, alerts: Alert[], tiles: ReadonlyMap<string, PointTile>): Alert[] {
  if (isEveryPoint(f)) return alerts;
  return alerts.filter((a) => {
    const t = tiles.get(a.pointId);
    return !t || matches(f, t);
  });
}

/** The filter's tiles and their totals. */
export function cut(
  f: MonitorFilter,
  tiles: PointTile[],
): { points: PointTile[]; province: Rollup; districts: Rollup[] } {
  const points = tiles.filter((t) => matches(f, t));
  return { points, ...rollup(points) };
}

/** Every province and district of the session's tiles, named, for the selectors. */
export function areasOf(tiles: PointTile[], provinceName: (code: string) => string): MonitorAreas {
  const provinces = new Map<string, string>();
  const districts = new Map<string, { code: string; name: string; province: string | null }>();
  for (const t of tiles) {
    if (t.province && !provinces.has(t.province)) provinces.set(t.province, provinceName(t.province));
    const d = districtOf(t);
    if (!districts.has(d))
      districts.set(d, {
        code: d,
        name: t.district ? t.districtName : PROVINCE_GROUP.name,
        // The points outside any district may be of several provinces (a national hall's).
        province: t.district ? t.province : null,
      });
  }
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name, 'vi');
  return {
    provinces: [...provinces].map(([code, name]) => ({ code, name })).sort(byName),
    districts: [...districts.values()].sort(byName),
  };
}

/** The most alerts a snapshot carries: the filter's newest. */
export const SNAPSHOT_ALERTS = 500;

/**
 * A snapshot of every point cut to a filter (the areas stay whole). The alerts are cut
 * first and then kept to the newest 500, so a district's desk sees its own newest 500,
 * not what is left of the country's newest 500.
 */
export function cutSnapshot(s: MonitorSnapshot, f: MonitorFilter): MonitorSnapshot {
  if (isEveryPoint(f)) return { ...s, alerts: s.alerts.slice(0, SNAPSHOT_ALERTS), filter: {} };
  const { points, province, districts } = cut(f, s.points);
  const byId = new Map(s.points.map((t) => [t.id, t]));
  const alerts = alertsFor(f, s.alerts, byId).slice(0, SNAPSHOT_ALERTS);
  return { ...s, points, province, districts, alerts, filter: f };
}
