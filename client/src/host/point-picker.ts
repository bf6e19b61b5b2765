// The session editor's point picker: the registry as a tree of districts and their points,
// a search by name or code (accents ignored), tick boxes (a district's box ticks all its
// points and shows a partial state), and the count of points and delegates selected. It
// reads and writes the invitation's `points` form: `{ mode: 'points', pointIds }`.
import type { Page, Point } from '../../../server/contract/api';
import { call } from './api';
import { el } from './ui';

/** A group of the tree: a district (its own point first), or the province's points. */
interface Group {
  code: string;
  name: string;
  points: Point[];
  box: HTMLInputElement;
  node: HTMLDetailsElement;
  rows: Map<string, HTMLElement>;
}

const PROVINCE = '';

/** Lower case without Vietnamese accents, for a search that ignores them. */
export const fold = (s: string): string =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'd')
    .toLowerCase();

/** Every point of the registry, in its order (pages of 500). */
async function allPoints(): Promise<Point[]> {
  const out: Point[] = [];
  for (;;) {
    const page = await call<Page<Point>>('GET', `/points?limit=500&offset=${out.length}`);
    out.push(...page.items);
    if (page.items.length === 0 || out.length >= page.total) return out;
  }
}

export class PointPicker {
  readonly node = el('div', { className: 'point-picker', attrs: { 'data-testid': 'point-picker' } });
  readonly #selected: Set<string>;
  readonly #search = el('input', {
    attrs: {
      type: 'search',
      placeholder: 'Tìm theo tên hoặc mã · Search by name or code',
      'aria-label': 'Tìm điểm cầu · Search points',
      'data-testid': 'picker-search',
    },
  });
  readonly #count = el('p', { className: 'picker-count', attrs: { 'data-testid': 'picker-count', role: 'status' } });
  readonly #tree = el('div', { className: 'picker-tree' });
  #groups: Group[] = [];
  #byId = new Map<string, Point>();
  /** Resolves once the registry is shown. */
  readonly ready: Promise<void>;

  constructor(selected: readonly string[]) {
    document.head.append(el('link', { attrs: { rel: 'stylesheet', href: '/assets/point-picker.css' } }));
    this.#selected = new Set(selected);
    this.node.append(this.#search, this.#count, this.#tree);
    this.#search.addEventListener('input', () => this.#filter());
    this.#count.textContent = 'Đang tải danh sách điểm cầu… · Loading the points…';
    this.ready = allPoints().then((points) => this.#build(points));
  }

  /** The points ticked, in the registry's order. */
  pointIds(): string[] {
    if (this.#byId.size === 0) return [...this.#selected]; // not loaded yet: as it was
    return [...this.#byId.keys()].filter((id) => this.#selected.has(id));
  }

  #build(points: Point[]): void {
    this.#byId = new Map(points.map((p) => [p.id, p]));
    // Codes typed before (an old invitation) that the registry no longer has are dropped.
    for (const id of [...this.#selected]) if (!this.#byId.has(id)) this.#selected.delete(id);
    const groups = new Map<string, Point[]>();
    for (const p of points) {
      const g = p.district ?? PROVINCE;
      groups.set(g, [...(groups.get(g) ?? []), p]);
    }
    this.#groups = [...groups].map(([code, list]) => {
      const own = list.find((p) => p.id === code);
      const pts = own ? [own, ...list.filter((p) => p !== own)] : list;
      const name = code === PROVINCE ? 'Cấp tỉnh · Province' : (own?.name ?? code);
      return this.#group(code, name, pts);
    });
    this.#tree.replaceChildren(...this.#groups.map((g) => g.node));
    this.#refresh();
  }

  #group(code: string, name: string, points: Point[]): Group {
    const box = el('input', {
      attrs: { type: 'checkbox', 'data-testid': 'picker-district', 'data-district': code, 'aria-label': name },
    });
    const summary = el('summary', {}, box, ` ${name} `, el('span', { className: 'muted picker-n' }));
    const rows = new Map<string, HTMLElement>();
    const list = el('div', { className: 'picker-points' });
    for (const p of points) {
      const cb = el('input', { attrs: { type: 'checkbox', value: p.id, 'data-testid': 'picker-point' } });
      cb.checked = this.#selected.has(p.id);
      cb.addEventListener('change', () => {
        if (cb.checked) this.#selected.add(p.id);
        else this.#selected.delete(p.id);
        this.#refresh();
      });
      const row = el(
        'label',
        { className: 'picker-point' },
        cb,
        ` ${p.name} `,
        el('span', { className: 'muted', text: `${p.code} · ${p.expectedDelegates}` }),
      );
      rows.set(p.id, row);
      list.append(row);
    }
    const node = el('details', { className: 'picker-group' }, summary, list);
    const g: Group = { code, name, points, box, node, rows };
    // A click on the box ticks the district, without opening or closing it.
    box.addEventListener('click', (e) => e.stopPropagation());
    box.addEventListener('change', () => {
      for (const p of this.#visible(g)) {
        if (box.checked) this.#selected.add(p.id);
        else this.#selected.delete(p.id);
      }
      this.#refresh();
    });
    return g;
  }

  /** The group's points the search shows (all of them without a search). */
  #visible(g: Group): Point[] {
    const q = fold(this.#search.value.trim());
    if (!q) return g.points;
    return g.points.filter((p) => fold(p.name).includes(q) || fold(p.code).includes(q));
  }

  #filter(): void {
    const searching = this.#search.value.trim() !== '';
    for (const g of this.#groups) {
      const shown = new Set(this.#visible(g).map((p) => p.id));
      for (const [id, row] of g.rows) row.hidden = !shown.has(id);
      g.node.hidden = shown.size === 0;
      g.node.open = searching && shown.size > 0;
    }
  }

  /** Tick boxes, partial states and the count, from the selection. */
  #refresh(): void {
    let delegates = 0;
    for (const g of this.#groups) {
      let n = 0;
      for (const p of g.points) {
        const on = this.#selected.has(p.id);
        (g.rows.get(p.id)!.querySelector('input') as HTMLInputElement).checked = on;
        if (on) {
          n += 1;
          delegates += p.expectedDelegates;
        }
      }
      g.box.checked = n === g.points.length;
      g.box.indeterminate = n > 0 && n < g.points.length;
      (g.node.querySelector('.picker-n') as HTMLElement).textContent = `${n}/${g.points.length}`;
    }
    const pts = this.#selected.size;
    this.#count.textContent = `Đã chọn ${pts} điểm cầu, ${delegates} đại biểu · ${pts} points, ${delegates} delegates selected`;
    this.#count.dataset.points = String(pts);
    this.#count.dataset.delegates = String(delegates);
  }
}
