import type { Alert, MonitorSnapshot, PointTile } from '../../server/contract/attendance';
import { MonitorFilterSchema } from '../../server/contract/attendance';
import {
  alertsFor,
  areasOf,
  cutSnapshot,
  filterKey,
  filterOfKey,
  matches,
} from '../../server/domain/attendance/monitor-filter';

const tile = (id: string, province: string | null, district: string | null, headcount = 1): PointTile => ({
  id,
  name: id,
  level: district ? 'commune' : 'province',
  province,
  district,
  districtName: district ? `Huyện ${district}` : '',
  status: 'good',
  statusSince: null,
  quality: null,
  rttMs: null,
  lossPct: null,
  bitrateKbps: null,
  connected: true,
  disconnects: 0,
  headcount,
  expected: 10,
  checkedIn: 0,
  openAlerts: 0,
});

const alert = (id: string, pointId: string) => ({ id, pointId }) as Alert;

// A national hall, two provinces, a district in each, two communes in P01-D01.
const tiles = [
  tile('VN', 'VN', null),
  tile('P01', 'P01', null),
  tile('P02', 'P02', null),
  tile('P01-D01-C001', 'P01', 'P01-D01', 5),
  tile('P01-D01-C002', 'P01', 'P01-D01', 7),
  tile('P02-D01-C001', 'P02', 'P02-D01', 11),
];

describe('the monitor filter by province and district', () => {
  test('keys name the filter and back; other keys are no filter', () => {
    for (const f of [{}, { province: 'P01' }, { district: 'P01-D01' }, { province: 'P01', district: 'P01-D01' }])
      expect(filterOfKey(filterKey(f))).toEqual(f);
    expect(filterKey({})).toBe('f:/');
    expect(filterOfKey('p:P01')).toBeUndefined();
  });

  test('a province matches its points at any depth, a district its own, `_province` those outside any', () => {
    const ids = (f: object) => tiles.filter((t) => matches(f, t)).map((t) => t.id);
    expect(ids({})).toHaveLength(6);
    expect(ids({ province: 'P01' })).toEqual(['P01', 'P01-D01-C001', 'P01-D01-C002']);
    expect(ids({ district: 'P02-D01' })).toEqual(['P02-D01-C001']);
    expect(ids({ province: 'P02', district: 'P01-D01' })).toEqual([]);
    expect(ids({ district: '_province' })).toEqual(['VN', 'P01', 'P02']);
    expect(ids({ province: 'P01', district: '_province' })).toEqual(['P01']);
  });

  test("a cut snapshot has the area's tiles, alerts and totals, and every area to choose from", () => {
    const snap: MonitorSnapshot = {
      session: { id: 's', title: 't', state: 'live', scheduledStart: '', plannedEnd: '' },
      points: tiles,
      province: {} as never,
      districts: [],
      alerts: [alert('a1', 'P01-D01-C001'), alert('a2', 'P02-D01-C001'), alert('a3', '_recorder')],
      serverTime: '',
      areas: areasOf(tiles, (code) => `Tỉnh ${code}`),
      filter: {},
    };
    const cut = cutSnapshot(snap, { district: 'P01-D01' });
    expect(cut.filter).toEqual({ district: 'P01-D01' });
    expect(cut.points.map((t) => t.id)).toEqual(['P01-D01-C001', 'P01-D01-C002']);
    expect(cut.province.invited).toBe(2);
    expect(cut.province.delegates).toBe(12);
    expect(cut.districts.map((d) => d.code)).toEqual(['P01-D01']);
    expect(cut.alerts.map((a) => a.id)).toEqual(['a1', 'a3']);
    expect(cut.areas.provinces.map((p) => p.code)).toEqual(['P01', 'P02', 'VN']);
    expect(cut.areas.districts.map((d) => [d.code, d.province])).toEqual([
      ['_province', null],
      ['P01-D01', 'P01'],
      ['P02-D01', 'P02'],
    ]);
    expect(alertsFor({}, snap.alerts, new Map())).toHaveLength(3);
  });

  test("a district's snapshot keeps its own newest 500 alerts, however many the country has", () => {
    // 600 newer alerts elsewhere, then 3 of the district: newest first, as stored.
    const alerts = [
      ...Array.from({ length: 600 }, (_, i) => alert(`n${i}`, 'P02-D01-C001')),
      ...['d1', 'd2', 'd3'].map((id) => alert(id, 'P01-D01-C002')),
    ];
    const snap = { points: tiles, alerts, filter: {} } as unknown as MonitorSnapshot;
    expect(cutSnapshot(snap, { district: 'P01-D01' }).alerts.map((a) => a.id)).toEqual(['d1', 'd2', 'd3']);
    const all = cutSnapshot(snap, {}).alerts;
    expect(all).toHaveLength(500);
    expect(all[0]?.id).toBe('n0');
  });

  test('the filter takes codes only', () => {
    expect(MonitorFilterSchema.safeParse({ province: 'P01', district: 'P01-D01' }).success).toBe(true);
    for (const bad of [{ district: 'a b' }, { province: '' }, { province: 'x'.repeat(41) }, { area: 'P01' }])
      expect(MonitorFilterSchema.safeParse(bad).success).toBe(false);
  });
});
