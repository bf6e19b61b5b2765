// A small hand-written SVG line chart: a few hundred points, redrawn in place when a
// sample arrives (one polyline's `points` attribute), no library needed.
const NS = 'http://www.w3.org/2000/svg';

export interface Sparkline {
  node: HTMLElement;
  set(values: (number | null)[]): void;
  push(value: number | null): void;
}

export function sparkline(label: string, unit: string, opts: { max?: number; width?: number; height?: number } = {}) {
  const width = opts.width ?? 320;
  const height = opts.height ?? 60;
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  const line = document.createElementNS(NS, 'polyline');
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke-width', '1.5');
  svg.append(line);
  const title = document.createElement('div');
  title.className = 'spark-title';
  const caption = document.createElement('span');
  caption.textContent = label;
  const now = document.createElement('strong');
  title.append(caption, now);
  const node = document.createElement('div');
  node.className = 'spark-box';
  node.append(title, svg);
  let values: (number | null)[] = [];
  const LIMIT = 1800;

  const draw = () => {
    const shown = values.slice(-LIMIT);
    const nums = shown.filter((v): v is number => v !== null);
    const max = Math.max(opts.max ?? 0, ...nums, 1);
    const step = shown.length > 1 ? width / (shown.length - 1) : width;
    const pts: string[] = [];
    shown.forEach((v, i) => {
      if (v === null) return;
      pts.push(`${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`);
    });
    line.setAttribute('points', pts.join(' '));
    const last = [...shown].reverse().find((v) => v !== null);
    now.textContent = last === undefined || last === null ? '—' : `${Math.round(last * 10) / 10} ${unit}`;
  };
  return {
    node,
    set(v: (number | null)[]) {
      values = v.slice(-LIMIT);
      draw();
    },
    push(v: number | null) {
      values.push(v);
      if (values.length > LIMIT) values.shift();
      draw();
    },
  } satisfies Sparkline;
}
