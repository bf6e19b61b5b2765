// What the monitor reads: the sessions to watch, every invited point's tile with the
// province and district totals, a point's detail (with its check-ins), and the alerts the
// desk works on.
import type { Alert, MonitorSession, MonitorSnapshot, PointDetail, PointTile, Rollup } from '../../contract/attendance';
import { notFound } from '../../errors';
import type { CheckinLedger } from './checkin-ledger';
import { connectedMs } from './ledger';
import { areasOf } from './monitor-filter';
import { rollup } from './rollup';
import type { AttendanceCore } from './runtime';

export class MonitorView {
  constructor(
    private readonly core: AttendanceCore,
    private readonly checkins: CheckinLedger,
  ) {}

  async monitorSessions(): Promise<MonitorSession[]> {
    const page = await this.core.sessions.list({ limit: 100, offset: 0 });
    const order: Record<string, number> = { live: 0, lobby: 1, scheduled: 2, ended: 3, draft: 4, cancelled: 5 };
    return page.items
      .filter((s) => s.state !== 'draft')
      .sort((a, b) => (order[a.state] ?? 9) - (order[b.state] ?? 9))
      .map((s) => ({
        id: s.id,
        title: s.title,
        state: s.state,
        scheduledStart: s.scheduledStart,
        plannedEnd: s.plannedEnd,
      }));
  }

  /** Every invited point's tile and the totals, read from Redis in a few round trips. */
  async tiles(sessionId: string): Promise<{
    session: MonitorSession;
    tiles: PointTile[];
    province: Rollup;
    districts: Rollup[];
  }> {
    const { core } = this;
    const s = await core.session(sessionId, true);
    const ids = s.invitedPointIds;
    const [presence, present, headcounts, checkins, health, openIdx, preflights] = await Promise.all([
      core.ledger.presenceMany(sessionId, ids),
      core.ledger.presentPoints(sessionId),
      core.ledger.headcounts(sessionId),
      core.ledger.checkinCounts(sessionId),
      core.health.all(sessionId),
      this.alertsOpenCount(sessionId),
      core.ledger.preflightVerdicts(sessionId),
    ]);
    const ended = s.state === 'ended' || s.state === 'cancelled';
    const provinceOf = this.#provinces();
    const tiles: PointTile[] = [];
    for (const id of ids) {
      const p = await core.points.get(id);
      const d = p?.district ? await core.points.get(p.district) : undefined;
      const province = await provinceOf(id);
      const h = health.get(id);
      const pr = presence.get(id);
      tiles.push({
        id,
        name: p?.name ?? id,
        level: p?.level ?? 'commune',
        province,
        district: p?.district ?? null,
        districtName: d?.name ?? p?.district ?? '',
        status: ended ? 'offline' : (h?.state.status ?? 'offline'),
        statusSince: h?.state.since ? new Date(h.state.since).toISOString() : null,
        quality: h?.last?.quality ?? null,
        rttMs: h?.last?.rttMs ?? null,
        lossPct: h?.last?.lossPct ?? null,
        bitrateKbps: h?.last?.bitrateKbps ?? null,
        connected: present.has(id),
        disconnects: pr?.disconnects ?? 0,
        headcount: headcounts.get(id)?.count ?? null,
        expected: p?.expectedDelegates ?? 0,
        checkedIn: checkins.get(id) ?? 0,
        openAlerts: openIdx.get(id) ?? 0,
        mediaPath: (h?.last?.protocol as PointTile['mediaPath']) ?? null,
        preflight: preflights.get(id)?.result ?? null,
        tone: preflights.get(id)?.tone ?? null,
      });
    }
    const totals = rollup(tiles);
    return {
      session: {
        id: s.id,
        title: s.title,
        state: s.state,
        scheduledStart: s.scheduledStart,
        plannedEnd: s.plannedEnd,
      },
      tiles,
      ...totals,
    };
  }

  /**
   * A point's province: itself or its nearest ancestor of level `province` (null when none).
   * One per read of the tiles: each ancestor is looked up once, not once per point under it.
   */
  #provinces(): (id: string) => Promise<string | null> {
    const known = new Map<string, string | null>();
    const of = async (id: string, depth: number): Promise<string | null> => {
      const hit = known.get(id);
      if (hit !== undefined) return hit;
      const p = await this.core.points.get(id);
      // The registry refuses cycles; the depth bounds a corrupt one all the same.
      const province =
        !p || depth > 16 ? null : p.level === 'province' ? p.id : p.parent ? await of(p.parent, depth + 1) : null;
      known.set(id, province);
      return province;
    };
    return (id) => of(id, 0);
  }

  async alertsOpenCount(sessionId: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const a of await this.core.alerts.list(sessionId)) {
      if (a.state !== 'cleared') out.set(a.pointId, (out.get(a.pointId) ?? 0) + 1);
    }
    return out;
  }

  /** Every invited point's snapshot (the namespace cuts it to a desk's filter). */
  async snapshot(sessionId: string): Promise<MonitorSnapshot> {
    const [t, alerts] = await Promise.all([this.tiles(sessionId), this.core.alerts.list(sessionId)]);
    const names = new Map<string, string>();
    for (const code of new Set(t.tiles.map((x) => x.province))) {
      if (code) names.set(code, (await this.core.points.get(code))?.name ?? code);
    }
    return {
      session: t.session,
      points: t.tiles,
      province: t.province,
      districts: t.districts,
      // Every alert: a desk's filter cuts them first, then keeps its newest 500.
      alerts,
      serverTime: new Date(this.core.now()).toISOString(),
      areas: areasOf(t.tiles, (code) => names.get(code) ?? code),
      filter: {},
    };
  }

  /** Throws not_found unless the point is invited to the session. */
  async requireInvited(sessionId: string, pointId: string): Promise<void> {
    const s = await this.core.session(sessionId);
    if (!s.invitedPointIds.includes(pointId)) throw notFound(`point ${pointId} in this session`);
  }

  async detail(sessionId: string, pointId: string): Promise<PointDetail> {
    const { core } = this;
    await this.requireInvited(sessionId, pointId);
    const [t, presence, headcount, history, events, preflight, alerts, checkins] = await Promise.all([
      this.tiles(sessionId),
      core.ledger.presence(sessionId, pointId),
      core.ledger.headcount(sessionId, pointId),
      core.health.history(sessionId, pointId),
      core.ledger.events(sessionId, pointId),
      core.ledger.preflight(sessionId, pointId),
      core.alerts.list(sessionId),
      this.checkins.list(sessionId, pointId),
    ]);
    const point = await core.points.get(pointId);
    const tile = t.tiles.find((x) => x.id === pointId)!;
    return {
      tile,
      contactName: point?.contactName ?? '',
      contactPhone: point?.contactPhone ?? '',
      ...(point?.sipAddress ? { sipAddress: point.sipAddress } : {}),
      presence: {
        firstJoin: presence.firstJoin ? new Date(presence.firstJoin).toISOString() : null,
        lastLeave: presence.lastLeave ? new Date(presence.lastLeave).toISOString() : null,
        connectedSeconds: Math.round(connectedMs(presence, core.now()) / 1000),
        disconnects: presence.disconnects,
      },
      headcount,
      history,
      events,
      preflight,
      alerts: alerts.filter((a) => a.pointId === pointId),
      checkins: checkins.slice(0, 500),
    };
  }

  async acknowledgeAlert(sessionId: string, alertId: string, by: string): Promise<Alert> {
    const a = await this.core.alerts.acknowledge(sessionId, alertId, by, new Date(this.core.now()));
    this.core.changed({ sessionId, pointId: a.pointId });
    return a;
  }

  async assignAlert(sessionId: string, alertId: string, assignee: string, by: string): Promise<Alert> {
    const a = await this.core.alerts.assign(sessionId, alertId, assignee, by, new Date(this.core.now()));
    this.core.changed({ sessionId, pointId: a.pointId });
    return a;
  }

  async clearAlert(sessionId: string, alertId: string, by: string): Promise<Alert> {
    const a = await this.core.alerts.clear(sessionId, alertId, by, new Date(this.core.now()));
    this.core.changed({ sessionId, pointId: a.pointId });
    return a;
  }
}
