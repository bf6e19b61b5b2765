// The wall of tiles: every invited point, grouped by district (or worst first), coloured
// by status. Built once from the snapshot; a delta touches only the tiles it carries
// (class and three text nodes), and those are painted over the next animation frames a
// slice at a time (./frame-batch.ts), so a delta of 200 tiles does not block the page.
// Filters toggle visibility; worst-first re-orders at most every two seconds.
import type { MediaPath, PointTile, Rollup } from '../../../server/contract/attendance';
import { plain } from '../ui/i18n';
import { el } from '../ui/shell';
import { browserFrameClock, FrameBatch, type FrameClock } from './frame-batch';
import { fmtNum, STATUS_TEXT } from './labels';
import { PREFLIGHT_MARK, PREFLIGHT_TEXT, TONE_TEXT, verdictOf, type PreflightVerdict } from './preflight-board';

export interface GridFilter {
  district: string;
  level: string;
  status: string;
  /** A pre-flight verdict, or `none` for not run. */
  preflight: string;
  q: string;
  worstFirst: boolean;
}

const SEVERITY: Record<string, number> = { lost: 5, poor: 4, degraded: 3, connecting: 2, offline: 1, good: 0 };
const PROVINCE_GROUP = '_province';
/** A tile's media path, short: `?` where the page could not tell which path it is. */
const PATH_LABEL: Record<MediaPath, string> = { udp: 'UDP', tcp: 'TCP', relay: 'relay', unknown: '?' };

export const searchKey = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase();

interface TileView {
  tile: PointTile;
  node: HTMLElement;
  hc: HTMLElement;
  q: HTMLElement;
  path: HTMLElement;
  pf: HTMLElement;
  key: string;
}

interface GroupView {
  node: HTMLElement;
  count: HTMLElement;
  body: HTMLElement;
}

export class TileGrid {
  readonly node = el('div', { className: 'grid', attrs: { 'data-testid': 'tile-grid' } });
  readonly #grouped = el('div', { className: 'groups' });
  readonly #flat = el('div', { className: 'tiles flat hidden' });
  readonly #views = new Map<string, TileView>();
  readonly #groups = new Map<string, GroupView>();
  #filter: GridFilter = { district: '', level: '', status: '', preflight: '', q: '', worstFirst: false };
  #resortTimer: ReturnType<typeof setTimeout> | undefined;
  #reorder = false;
  /** Tile updates not painted yet, with the server time of the delta that brought them. */
  readonly #batch: FrameBatch<string, { tile: PointTile; at: string }>;
  selected: string | undefined;
  readonly #onPainted: () => void;

  constructor(
    private readonly onSelect: (id: string) => void,
    o: {
      clock?: FrameClock;
      startPerFrame?: number;
      maxPerFrame?: number;
      frameTargetMs?: number;
      /** After tiles were painted (a snapshot, a slice of a delta). */
      onPainted?: () => void;
    } = {},
  ) {
    this.#onPainted = o.onPainted ?? (() => undefined);
    this.#batch = new FrameBatch({
      clock: o.clock ?? browserFrameClock(),
      apply: (_id, u) => this.#applyTile(u.tile),
      afterSlice: () => {
        this.#planResort();
        this.#onPainted();
      },
      // ~8 ms of script per frame; the tiles' style, layout and paint come after it, so
      // the count per frame follows the frames seen: halved after a frame that missed a
      // 60 Hz vsync. At the floor of 10, a delta of 210 tiles takes 21 frames (~350 ms),
      // well inside the 1 s between deltas.
      budgetMs: 8,
      startPerFrame: o.startPerFrame ?? 30,
      minPerFrame: 10,
      maxPerFrame: o.maxPerFrame ?? 120,
      frameTargetMs: o.frameTargetMs ?? 25,
    });
    this.node.append(this.#grouped, this.#flat);
    this.node.addEventListener('click', (e) => {
      const t = (e.target as HTMLElement).closest<HTMLElement>('.tile');
      if (t?.dataset.id) this.onSelect(t.dataset.id);
    });
  }

  /**
   * From a snapshot taken at `at` (server time): builds everything once. Updates still
   * waiting from deltas at or after it are newer than the snapshot and stay queued.
   */
  setAll(tiles: PointTile[], districts: Rollup[], at = ''): void {
    this.#batch.retain((_id, u) => u.at >= at);
    this.#views.clear();
    this.#groups.clear();
    this.#grouped.replaceChildren();
    this.#flat.replaceChildren();
    for (const d of districts) this.#group(d.code, d.name);
    for (const t of tiles) {
      const hc = el('span', { className: 'hc' });
      const q = el('span', { className: 'q' });
      const path = el('span', { className: 'path', attrs: { 'data-testid': `path-${t.id}` } });
      const pf = el('span', { className: 'pf', attrs: { 'data-testid': `pf-${t.id}` } });
      const node = el(
        'div',
        { className: 'tile', attrs: { 'data-id': t.id, 'data-testid': `tile-${t.id}`, tabindex: '0', role: 'button' } },
        el('span', { className: 'name', text: t.name, attrs: { title: t.name } }),
        el('span', { className: 'nums' }, hc, pf, path, q),
      );
      const view: TileView = { tile: t, node, hc, q, path, pf, key: searchKey(`${t.id} ${t.name}`) };
      this.#views.set(t.id, view);
      this.#paint(view);
      this.#group(t.district ?? PROVINCE_GROUP, t.districtName).body.append(node);
    }
    this.setRollups(districts);
    this.applyFilter(this.#filter);
    this.#onPainted();
  }

  /** How many tiles have each pre-flight verdict. */
  preflightCounts(): Record<PreflightVerdict, number> {
    const c = { pass: 0, warn: 0, fail: 0, none: 0 };
    for (const v of this.#views.values()) c[verdictOf(v.tile)]++;
    return c;
  }

  /** How many points answered that they did not hear the pre-flight tone. */
  toneNotHeard(): number {
    let n = 0;
    for (const v of this.#views.values()) if (v.tile.tone === 'not-heard') n++;
    return n;
  }

  #group(code: string, name: string): GroupView {
    let g = this.#groups.get(code);
    if (!g) {
      const count = el('span', { className: 'group-count' });
      const body = el('div', { className: 'tiles' });
      const node = el(
        'section',
        { className: 'group', attrs: { 'data-district': code } },
        el('h3', {}, el('span', { text: name }), count),
        body,
      );
      g = { node, count, body };
      this.#groups.set(code, g);
      this.#grouped.append(node);
    }
    return g;
  }

  #paint(v: TileView): void {
    const t = v.tile;
    v.node.className = `tile st-${t.status}${t.openAlerts > 0 ? ' alerting' : ''}${
      this.selected === t.id ? ' selected' : ''
    }`;
    v.node.dataset.status = t.status;
    v.hc.textContent = `${t.headcount ?? '–'}/${t.expected}`;
    v.q.textContent = t.quality === null ? '' : `${t.quality}`;
    // The media path: UDP, TCP (ICE-TCP), relay (TURN) or ? (the page could not tell),
    // shown while connected.
    v.path.textContent = t.connected && t.mediaPath ? PATH_LABEL[t.mediaPath] : '';
    v.path.dataset.path = t.connected ? (t.mediaPath ?? '') : '';
    const pf = verdictOf(t);
    v.node.dataset.preflight = pf;
    v.node.dataset.tone = t.tone ?? '';
    // The speaker check's tone not heard: the room may have no sound.
    v.pf.textContent = `${PREFLIGHT_MARK[pf]}${t.tone === 'not-heard' ? ' 🔇' : ''}`;
    v.pf.title = `${plain(PREFLIGHT_TEXT[pf])}${t.tone ? `\n${plain(TONE_TEXT[t.tone])}` : ''}`;
    v.node.title = `${t.name}\n${plain(STATUS_TEXT[t.status])}${
      t.rttMs !== null ? `\nRTT ${Math.round(t.rttMs)} ms` : ''
    }${t.lossPct !== null ? ` · loss ${t.lossPct.toFixed(1)} %` : ''}${
      t.bitrateKbps !== null ? ` · ${t.bitrateKbps} kbit/s` : ''
    }\nĐiểm danh · checked in: ${t.checkedIn}`;
  }

  /**
   * A delta at `at` (server time): only these tiles change, painted over the next frames.
   * Queued even before the snapshot has built their tile (it may answer after a newer
   * delta); an id still unknown when its turn comes is skipped.
   */
  update(tiles: PointTile[], at = ''): void {
    for (const t of tiles) this.#batch.push(t.id, { tile: t, at });
  }

  /** Tile updates not painted yet. */
  get pendingUpdates(): number {
    return this.#batch.size;
  }

  /** Paints every waiting update now. */
  flush(): void {
    this.#batch.flush();
  }

  /** Forgets waiting updates (before watching another session: same point ids, other data). */
  discardPending(): void {
    this.#batch.clear();
  }

  #applyTile(t: PointTile): void {
    const v = this.#views.get(t.id);
    if (!v) return;
    if (v.tile.status !== t.status || v.tile.quality !== t.quality) this.#reorder = true;
    v.tile = t;
    this.#paint(v);
    this.#visible(v);
  }

  #planResort(): void {
    // A timer already set sorts whatever has been painted by the time it fires.
    const due = this.#reorder && this.#filter.worstFirst;
    this.#reorder = false;
    if (!due || this.#resortTimer) return;
    this.#resortTimer = setTimeout(() => {
      this.#resortTimer = undefined;
      this.#sortFlat();
    }, 2000);
  }

  setRollups(districts: Rollup[]): void {
    for (const d of districts) {
      const g = this.#groups.get(d.code);
      if (!g) continue;
      g.count.textContent = ` ${d.connected}/${d.invited} · ${fmtNum(d.delegates)}/${fmtNum(d.expected)}`;
    }
  }

  select(id: string | undefined): void {
    const before = this.selected;
    this.selected = id;
    for (const x of [before, id]) {
      const v = x ? this.#views.get(x) : undefined;
      if (v) this.#paint(v);
    }
  }

  /** Marks a tile with the messages from its point the desk has not read (0: none). */
  setUnread(id: string, count: number): void {
    const node = this.#views.get(id)?.node;
    if (!node) return;
    if (count > 0) node.dataset.unread = String(count);
    else delete node.dataset.unread;
  }

  unread(id: string): number {
    return Number(this.#views.get(id)?.node.dataset.unread ?? 0);
  }

  tile(id: string): PointTile | undefined {
    return this.#views.get(id)?.tile;
  }

  #matches(t: PointTile, key: string): boolean {
    const f = this.#filter;
    return (
      (!f.district || (t.district ?? PROVINCE_GROUP) === f.district) &&
      (!f.level || t.level === f.level) &&
      (!f.status || t.status === f.status) &&
      (!f.preflight || verdictOf(t) === f.preflight) &&
      (!f.q || key.includes(searchKey(f.q.trim())))
    );
  }

  #visible(v: TileView): void {
    v.node.classList.toggle('hidden', !this.#matches(v.tile, v.key));
  }

  applyFilter(f: GridFilter): void {
    const modeChanged = f.worstFirst !== this.#filter.worstFirst;
    this.#filter = { ...f };
    for (const v of this.#views.values()) this.#visible(v);
    for (const [code, g] of this.#groups) {
      g.node.classList.toggle('hidden', !!f.district && f.district !== code);
    }
    if (modeChanged || f.worstFirst) {
      this.#grouped.classList.toggle('hidden', f.worstFirst);
      this.#flat.classList.toggle('hidden', !f.worstFirst);
      if (f.worstFirst) this.#sortFlat();
      else
        for (const v of this.#views.values()) this.#groups.get(v.tile.district ?? PROVINCE_GROUP)?.body.append(v.node);
    }
  }

  #sortFlat(): void {
    const sorted = [...this.#views.values()].sort(
      (a, b) =>
        (SEVERITY[b.tile.status] ?? 0) - (SEVERITY[a.tile.status] ?? 0) ||
        (a.tile.quality ?? 101) - (b.tile.quality ?? 101) ||
        a.tile.name.localeCompare(b.tile.name, 'vi'),
    );
    // append() moves existing nodes; nothing is rebuilt.
    this.#flat.append(...sorted.map((v) => v.node));
  }
}
