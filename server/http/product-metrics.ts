// Product metrics on /metrics: what the briefing looks like to the desk, per session and
// node. Labels are bounded: the session id and the node id only (never a point id), so a
// province of 420 points is a handful of series per session.
//
// Session-wide figures (points by status, alerts, check-ins) are read from the store and
// are the same on every node; media figures (consumers, bitrates) are this process's
// rooms and add up across nodes.
import client from 'prom-client';
import type { Alert, AlertKind, HealthStatus, PointTile } from '../contract/attendance';
import { ALERT_KINDS, HEALTH_STATUSES } from '../contract/attendance';

export interface SessionFigures {
  tiles: Pick<PointTile, 'status' | 'connected' | 'checkedIn'>[];
  alerts: Pick<Alert, 'kind' | 'state'>[];
}

export interface MediaFigures {
  consumers: number;
  /** Bits per second the SFU receives from, and sends to, this session's pages. */
  bitrateIn: number;
  bitrateOut: number;
}

export interface ProductSources {
  nodeId: string;
  /** The sessions from the lobby to the end. */
  activeSessions(): Promise<string[]>;
  session(id: string): Promise<SessionFigures>;
  /** This process's room of the session, if it has one. */
  media(id: string): Promise<MediaFigures | null>;
}

interface Snapshot {
  sessions: { id: string; figures: SessionFigures | null; media: MediaFigures | null }[];
}

/** Reads every figure once per scrape (prom-client collects the gauges concurrently). */
class ScrapeReader {
  #pending: Promise<Snapshot> | undefined;

  constructor(private readonly sources: ProductSources) {}

  read(): Promise<Snapshot> {
    this.#pending ??= this.#read().finally(() => setImmediate(() => (this.#pending = undefined)));
    return this.#pending;
  }

  async #read(): Promise<Snapshot> {
    const ids = await this.sources.activeSessions();
    const sessions = await Promise.all(
      ids.map(async (id) => ({
        id,
        figures: await this.sources.session(id).catch(() => null),
        media: await this.sources.media(id).catch(() => null),
      })),
    );
    return { sessions };
  }
}

export function registerProductMetrics(registry: client.Registry, sources: ProductSources): void {
  const reader = new ScrapeReader(sources);
  const node = sources.nodeId;
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (g: client.Gauge, s: Snapshot['sessions'][number]) => void,
  ) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['session', 'node', ...labelNames],
      registers: [registry],
      async collect() {
        const snap = await reader.read();
        this.reset();
        for (const s of snap.sessions) fill(this, s);
      },
    });

  gauge('briefing_points', 'invited points by connection health status', ['status'], (g, s) => {
    if (!s.figures) return;
    const by = new Map<HealthStatus, number>(HEALTH_STATUSES.map((st) => [st, 0]));
    for (const t of s.figures.tiles) by.set(t.status, (by.get(t.status) ?? 0) + 1);
    for (const [status, n] of by) g.set({ session: s.id, node, status }, n);
  });
  gauge('briefing_points_connected', 'invited points with a page connected', [], (g, s) => {
    if (s.figures) g.set({ session: s.id, node }, s.figures.tiles.filter((t) => t.connected).length);
  });
  gauge('briefing_alerts_open', 'alerts not yet resolved (open or acknowledged), by kind', ['kind'], (g, s) => {
    if (!s.figures) return;
    const by = new Map<AlertKind, number>(ALERT_KINDS.map((k) => [k, 0]));
    for (const a of s.figures.alerts) if (a.state !== 'cleared') by.set(a.kind, (by.get(a.kind) ?? 0) + 1);
    for (const [kind, n] of by) g.set({ session: s.id, node, kind }, n);
  });
  gauge('briefing_checkins', 'delegates checked in (voided check-ins not counted)', [], (g, s) => {
    if (s.figures)
      g.set(
        { session: s.id, node },
        s.figures.tiles.reduce((n, t) => n + t.checkedIn, 0),
      );
  });
  gauge('briefing_consumers', "mediasoup consumers of this node's room", [], (g, s) => {
    g.set({ session: s.id, node }, s.media?.consumers ?? 0);
  });
  gauge('briefing_bitrate_in_bits_per_second', "what this node's room receives from the pages", [], (g, s) => {
    g.set({ session: s.id, node }, s.media?.bitrateIn ?? 0);
  });
  gauge('briefing_bitrate_out_bits_per_second', "what this node's room sends to the pages", [], (g, s) => {
    g.set({ session: s.id, node }, s.media?.bitrateOut ?? 0);
  });
}
