// Totals by district and for the whole province: "412/420 points, 17,906/18,240 delegates".
// Points outside any district (the provincial hall, provincial agencies) form one group.
import type { HealthStatus, Rollup } from '../../contract/attendance';

export const PROVINCE_GROUP = { code: '_province', name: 'Cấp tỉnh · Provincial level' } as const;

export interface RollupItem {
  district: string | null;
  districtName: string;
  connected: boolean;
  headcount: number | null;
  expected: number;
  checkedIn: number;
  status: HealthStatus;
}

function empty(code: string, name: string): Rollup {
  return { code, name, invited: 0, connected: 0, delegates: 0, expected: 0, checkedIn: 0, byStatus: {} };
}

function add(r: Rollup, i: RollupItem): void {
  r.invited += 1;
  if (i.connected) r.connected += 1;
  r.delegates += i.headcount ?? 0;
  r.expected += i.expected;
  r.checkedIn += i.checkedIn;
  r.byStatus[i.status] = (r.byStatus[i.status] ?? 0) + 1;
}

export function rollup(items: Iterable<RollupItem>): { province: Rollup; districts: Rollup[] } {
  const province = empty('province', 'Toàn tỉnh · Whole province');
  const districts = new Map<string, Rollup>();
  for (const i of items) {
    add(province, i);
    const code = i.district ?? PROVINCE_GROUP.code;
    let d = districts.get(code);
    if (!d) {
      d = empty(code, i.district ? i.districtName : PROVINCE_GROUP.name);
      districts.set(code, d);
    }
    add(d, i);
  }
  return {
    province,
    districts: [...districts.values()].sort((a, b) =>
      a.code === PROVINCE_GROUP.code ? -1 : b.code === PROVINCE_GROUP.code ? 1 : a.name.localeCompare(b.name, 'vi'),
    ),
  };
}
