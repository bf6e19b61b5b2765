// A synthetic national registry for the control-plane benchmark (scripts/bench-national.ts):
// a national hall, 63 provinces, their districts and communes, `total` points in all, with
// valid codes, parents and districts. It goes in through the product's validated import
// (POST /api/v1/points/import, JSON, replace), as an administrator would load a country's
// list; nothing here writes to Redis directly.
import type { PointInput } from '../../server/contract/api';
import { httpJson, must } from './http';

export const PROVINCES = 63;

export interface NationalShape {
  provinces: number;
  /** Districts per province. */
  districts: number;
  /** Communes (the rest of `total`), spread evenly over the districts. */
  communes: number;
}

/** 63 provinces, districts per province chosen so that a district has about 13 communes. */
export function nationalShape(total: number, provinces = PROVINCES): NationalShape {
  if (!Number.isInteger(total) || total < 1 + provinces * 2)
    throw new Error(`a national registry needs at least ${1 + provinces * 2} points, got ${total}`);
  const rest = total - 1 - provinces;
  // d districts per province and c communes each: provinces·d·(1 + c) ≈ rest with c ≈ 13.
  const districts = Math.max(1, Math.min(Math.floor(rest / provinces / 14), Math.floor(rest / provinces / 2)));
  return { provinces, districts, communes: rest - provinces * districts };
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

/**
 * The rows, parents before children: VN (the national hall), Pnn (province), Pnn-Dnn
 * (district, its own district), Pnn-Dnn-Cnnn (commune, district its parent).
 */
export function nationalRegistry(total: number): PointInput[] {
  const s = nationalShape(total);
  const rows: PointInput[] = [
    {
      code: 'VN',
      name: 'Điểm cầu Trung ương',
      level: 'province',
      parent: null,
      district: null,
      expectedDelegates: 200,
    },
  ];
  const districtCodes: string[] = [];
  for (let p = 1; p <= s.provinces; p++) {
    const pc = `P${pad(p, 2)}`;
    rows.push({
      code: pc,
      name: `Tỉnh ${pad(p, 2)}`,
      level: 'province',
      parent: 'VN',
      district: null,
      expectedDelegates: 120,
    });
    for (let d = 1; d <= s.districts; d++) {
      const dc = `${pc}-D${pad(d, 2)}`;
      districtCodes.push(dc);
      rows.push({
        code: dc,
        name: `Huyện ${pad(d, 2)} tỉnh ${pad(p, 2)}`,
        level: 'district',
        parent: pc,
        district: dc,
        expectedDelegates: 80,
      });
    }
  }
  for (let i = 0; i < s.communes; i++) {
    const dc = districtCodes[i % districtCodes.length]!;
    const k = Math.floor(i / districtCodes.length) + 1;
    rows.push({
      code: `${dc}-C${pad(k, 3)}`,
      name: `Xã ${pad(k, 3)} ${dc}`,
      level: 'commune',
      parent: dc,
      district: dc,
      expectedDelegates: 30 + (i % 21),
    });
  }
  return rows;
}

/** The province code of a point code (VN for the national hall). */
export const provinceOf = (code: string): string => code.slice(0, 3);

/** Replaces the registry with the national one through the import API; answers the number of points. */
export async function seedNationalRegistry(base: string, cookie: string, total: number): Promise<number> {
  const points = nationalRegistry(total);
  const r = await must(
    httpJson<{ imported: boolean; rows: number; issues: unknown[] }>(
      `${base}/api/v1/points/import?format=json&mode=replace`,
      { method: 'POST', cookie, body: { points }, timeoutMs: 120_000 },
    ),
    'import the national registry',
  );
  if (!r.body.imported)
    throw new Error(`national registry not imported: ${JSON.stringify(r.body.issues).slice(0, 300)}`);
  return r.body.rows;
}
