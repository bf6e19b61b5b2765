// The cluster's nodes on the monitor (several nodes, docs/cluster.md): role, region, load
// and the points each serves in the watched session. Polls GET /cluster/v1/nodes; a
// single server answers 204 (no cluster) and the panel stays hidden.
import type { NodeInfo } from '../../../server/contract/cluster';
import { el } from '../ui/shell';

const POLL_MS = 3000;

const ROLE_TEXT: Record<NodeInfo['role'], string> = {
  all: 'Tất cả · All-in-one',
  control: 'Điều khiển · Control',
  origin: 'Nguồn · Origin',
  edge: 'Biên · Edge',
};

export class NodesPanel {
  readonly node = el('section', { className: 'nodes hidden', attrs: { 'data-testid': 'cluster-nodes' } });
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly sessionId: () => string | undefined) {}

  start(): void {
    if (this.#timer === undefined) void this.#poll();
  }

  async #poll(): Promise<void> {
    try {
      const res = await fetch('/cluster/v1/nodes', { cache: 'no-store', credentials: 'same-origin' });
      if (res.status === 204) return; // one process: no cluster
      if (res.ok) this.render((await res.json()) as NodeInfo[]);
    } catch {
      /* the next poll retries */
    }
    this.#timer = setTimeout(() => void this.#poll(), POLL_MS);
  }

  render(nodes: NodeInfo[]): void {
    const sid = this.sessionId();
    const now = Date.now();
    const rows = nodes.map((n) => {
      const pts = sid ? (n.sessions[sid] ?? []) : [];
      const feed = sid ? n.feeds[sid] : undefined;
      return el(
        'tr',
        { attrs: { 'data-node': n.id } },
        el('td', { text: n.id, attrs: { title: n.url } }),
        el('td', { text: ROLE_TEXT[n.role] }),
        el('td', { text: n.region ?? '—' }),
        el('td', { text: String(n.load.points) }),
        el('td', { text: String(n.load.consumers) }),
        el('td', { text: `${n.load.cpuPct}% (${n.load.workers})` }),
        el('td', { text: feed ? `${feed.producers} / ${Math.round(feed.bytes / 1024)} KiB` : '—' }),
        el('td', { text: `${Math.max(0, Math.round((now - Date.parse(n.heartbeatAt)) / 100) / 10)} s` }),
        el('td', { text: pts.length ? `${pts.length}: ${pts.join(', ')}` : '—', className: 'points' }),
      );
    });
    const head = el(
      'tr',
      {},
      ...[
        'Máy · Node',
        'Vai trò · Role',
        'Vùng · Region',
        'Điểm cầu · Points',
        'Luồng ra · Consumers',
        'CPU (workers)',
        'Nguồn vào · Piped in',
        'Nhịp · Heartbeat',
        'Phục vụ · Serving',
      ].map((t) => el('th', { text: t })),
    );
    this.node.replaceChildren(
      el('h2', { text: 'Máy chủ · Nodes' }),
      el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows)),
    );
    this.node.classList.remove('hidden');
  }
}
