// A capacity curve as an SVG: one panel per figure against the number of points, the
// median of the repeats as a line and their spread (min to max) as a bar. Pure.

export interface CurvePoint {
  points: number;
  median: number;
  min: number;
  max: number;
}

export interface CurvePanel {
  title: string;
  unit: string;
  values: CurvePoint[];
}

const W = 520;
const H = 220;
const M = { left: 56, right: 16, top: 28, bottom: 36 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Number(x.toPrecision(3)).toString());

function panel(p: CurvePanel, y0: number): string {
  const xs = p.values.map((v) => v.points);
  const finite = p.values.flatMap((v) => [v.min, v.max, v.median]).filter(Number.isFinite);
  const xMax = Math.max(1, ...xs);
  const yMax = Math.max(1e-9, ...finite) * 1.1;
  const x = (v: number) => M.left + (v / xMax) * (W - M.left - M.right);
  const y = (v: number) => y0 + M.top + (1 - v / yMax) * (H - M.top - M.bottom);
  const out: string[] = [];
  out.push(
    `<text x="${M.left}" y="${y0 + 18}" font-size="13" font-weight="bold">${esc(p.title)} (${esc(p.unit)})</text>`,
  );
  // Axes and ticks.
  const yBase = y(0);
  out.push(`<line x1="${M.left}" y1="${yBase}" x2="${W - M.right}" y2="${yBase}" stroke="#444"/>`);
  out.push(`<line x1="${M.left}" y1="${y0 + M.top}" x2="${M.left}" y2="${yBase}" stroke="#444"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    out.push(`<text x="${M.left - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${num(v)}</text>`);
    out.push(`<line x1="${M.left}" y1="${y(v)}" x2="${W - M.right}" y2="${y(v)}" stroke="#ddd"/>`);
  }
  for (const v of xs) out.push(`<text x="${x(v)}" y="${yBase + 14}" font-size="10" text-anchor="middle">${v}</text>`);
  out.push(`<text x="${(W + M.left) / 2}" y="${yBase + 30}" font-size="11" text-anchor="middle">points</text>`);
  const ok = p.values.filter((v) => Number.isFinite(v.median));
  if (ok.length > 1)
    out.push(
      `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${ok.map((v) => `${x(v.points)},${y(v.median)}`).join(' ')}"/>`,
    );
  for (const v of ok) {
    if (Number.isFinite(v.min) && Number.isFinite(v.max))
      out.push(`<line x1="${x(v.points)}" y1="${y(v.min)}" x2="${x(v.points)}" y2="${y(v.max)}" stroke="#1f77b4"/>`);
    out.push(`<circle cx="${x(v.points)}" cy="${y(v.median)}" r="3" fill="#1f77b4"/>`);
  }
  return out.join('\n');
}

export function curveSvg(title: string, panels: CurvePanel[]): string {
  const height = 30 + panels.length * H;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${W / 2}" y="20" font-size="14" text-anchor="middle">${esc(title)}</text>`,
    ...panels.map((p, i) => panel(p, 30 + i * H)),
    '</svg>',
    '',
  ].join('\n');
}
