// Writes a session's attendance and quality report (report.ts renders it) from what the
// ledger, the health store, the alerts and the timeline hold: at the session's end and on
// request.
import type { Report } from '../../contract/attendance';
import type { TimelineStore } from '../timeline/store';
import { buildReport, type ReportStore } from './report';
import type { AttendanceCore } from './runtime';

export class ReportWriter {
  constructor(
    private readonly core: AttendanceCore,
    private readonly reports: ReportStore,
    private readonly timeline: TimelineStore,
  ) {}

  async generate(sessionId: string): Promise<Report> {
    const { core } = this;
    const s = await core.session(sessionId, true);
    const ids = s.invitedPointIds;
    const points = [];
    for (const id of ids) {
      const p = await core.points.get(id);
      const d = p?.district ? await core.points.get(p.district) : undefined;
      points.push({
        id,
        code: p?.code ?? id,
        name: p?.name ?? id,
        level: p?.level ?? '',
        district: p?.district ?? null,
        districtName: d?.name ?? p?.district ?? '',
        expected: p?.expectedDelegates ?? 0,
      });
    }
    const health = await core.health.all(sessionId);
    const report = buildReport({
      session: { id: s.id, title: s.title, startedAt: s.startedAt, endedAt: s.endedAt },
      points,
      presence: await core.ledger.presenceMany(sessionId, ids),
      headcounts: await core.ledger.headcounts(sessionId),
      checkins: await core.ledger.checkinCounts(sessionId),
      worst: new Map([...health].map(([p, h]) => [p, h.state.worst])),
      preflights: await core.ledger.preflightVerdicts(sessionId),
      alerts: (await core.alerts.list(sessionId)).reverse(),
      timeline: await this.timeline.list(sessionId),
      // Joins, leaves and status changes: what each point missed of each item.
      connectionEvents: new Map(
        await Promise.all(ids.map(async (p) => [p, await core.ledger.events(sessionId, p, 5000)] as const)),
      ),
      now: new Date(core.now()),
    });
    await this.reports.save(report);
    core.log.info({ sessionId, points: report.rows.length }, 'attendance report written');
    return report;
  }
}
