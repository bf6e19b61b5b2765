// The connection health of points: the status machine fed by the pages' 2-second reports,
// presence changes and ageing, the alert checks it schedules, and the incidents a point
// or the server records (problems, pre-flight results, media events).
//
// Several nodes (server/cluster/health-sharing.ts): a point's status machine runs on the
// node that serves its socket, and only there: that node claims the point in
// `health:<s>:owner`, and its writes are fenced by that claim, so the reports and ageing
// ticks of a page that moved away are refused. A node that takes a point over (a page
// that moved to it, or a node that went away) reloads the machine from Redis and goes on
// from there.
import type { HealthReport, HealthSample, HealthStatus, SfuViewerStats, MediaEvent } from '../../contract/attendance';
import type { PreflightReport } from '../../contract/broadcast';
import type { StoredHealth } from '../health/store';
import { gradeReport, initialHealth, nextHealth, type HealthEvent } from '../health/status';
import { isSilent, observeFlow } from '../health/media-silence';
import type { AttendanceJobs } from '../../jobs/attendance-jobs';
import {
  ACTIVE,
  type AttendanceCore,
  type LocalHealth,
  type PointIdentity,
  type SessionRuntime,
  type SfuStatsSource,
} from './runtime';

export const BAD: readonly HealthStatus[] = ['poor', 'lost'];

export const STATUS_VI: Record<HealthStatus, string> = {
  offline: 'không kết nối',
  connecting: 'đang kết nối',
  good: 'tốt',
  degraded: 'giảm chất lượng',
  poor: 'kém',
  lost: 'mất kết nối',
};

export class HealthTracker {
  constructor(
    private readonly core: AttendanceCore,
    private readonly jobs: AttendanceJobs,
    /** The SFU's per-point statistics (the live broadcast's rooms). */
    private readonly sfu: SfuStatsSource | undefined,
  ) {}

  /**
   * Applies a status event, stores it, and handles a change: the event log, alert checks
   * queued or cancelled, quality alerts cleared on recovery.
   */
  async apply(rt: SessionRuntime, pointId: string, e: HealthEvent, sample: HealthSample | null): Promise<HealthStatus> {
    return (await this.#applyOwned(rt, pointId, e, sample)).status;
  }

  /** As apply; `written` is false when another node owns the point (nothing stored). */
  async #applyOwned(
    rt: SessionRuntime,
    pointId: string,
    e: HealthEvent,
    sample: HealthSample | null,
  ): Promise<{ status: HealthStatus; written: boolean }> {
    const h = await this.core.local(rt, pointId);
    const run = h.lock.then(() => this.#applyNow(rt, pointId, h, e, sample));
    h.lock = run.catch(() => undefined);
    return run;
  }

  async #applyNow(
    rt: SessionRuntime,
    pointId: string,
    h: LocalHealth,
    e: HealthEvent,
    sample: HealthSample | null,
  ): Promise<{ status: HealthStatus; written: boolean }> {
    const { core } = this;
    const c = core.cluster;
    if (c && !h.owned) {
      // Another node may have moved the machine on since this one last held the point.
      const stored = await core.health.get(rt.sessionId, pointId);
      h.state = stored?.state ?? initialHealth();
      h.last = stored?.last ?? null;
      h.badSince = stored?.badSince ?? null;
      h.owned = h.sockets.size > 0;
    }
    const prev = h.state;
    const next = nextHealth(prev, e, core.config.health);
    const isBad = BAD.includes(next.status);
    const badSince = isBad ? (BAD.includes(prev.status) && h.badSince !== null ? h.badSince : e.at) : null;
    if (sample) sample.status = next.status;
    const stored: StoredHealth = { state: next, last: sample ?? h.last, badSince };
    // Presence changes are decided once by the ledger's scripts, so whoever sees one takes
    // the point; reports, ageing and what reports observe only count from its owner.
    const take = e.type !== 'report' && e.type !== 'tick' && e.type !== 'media';
    const fence = c ? { node: c.nodeId, take } : undefined;
    if (!(await core.health.record(rt.sessionId, pointId, sample, stored, fence))) {
      h.owned = false;
      const now = await core.health.get(rt.sessionId, pointId);
      return { status: now?.state.status ?? prev.status, written: false };
    }
    const prevBadSince = h.badSince;
    h.state = next;
    h.last = stored.last;
    h.badSince = badSince;
    if (prev.status !== next.status) {
      await this.#statusChanged(rt.sessionId, pointId, prev.status, next.status, e.at, badSince, prevBadSince).catch(
        (err) => core.log.warn({ err, sessionId: rt.sessionId, pointId }, 'status change follow-up failed'),
      );
    }
    return { status: next.status, written: true };
  }

  async #statusChanged(
    s: string,
    p: string,
    from: HealthStatus,
    to: HealthStatus,
    at: number,
    badSince: number | null,
    prevBadSince: number | null,
  ): Promise<void> {
    const { core } = this;
    await core.ledger.event(s, p, 'status', `${STATUS_VI[from]} → ${STATUS_VI[to]} · ${from} → ${to}`, at, {
      code: 'changed',
      params: { from, to },
      status: { from, to },
    });
    if (badSince !== null && badSince === at) {
      await this.jobs.scheduleAlertCheck({ sessionId: s, pointId: p, badSince }, core.config.health.alertAfterMs);
    }
    if (badSince === null && prevBadSince !== null) {
      await this.jobs.cancelAlertCheck({ sessionId: s, pointId: p, badSince: prevBadSince });
      if (to !== 'offline') await core.alerts.clearOpen(s, p, 'quality', 'hệ thống · system', new Date(at));
    }
    core.changed({ sessionId: s, pointId: p });
  }

  /**
   * The 2-second report: graded, merged with the SFU's view, stored; answers the status.
   * `swept` is true when another node owns the point because this socket was swept (its
   * node was taken for gone): the caller joins it again, the point is here.
   */
  async report(
    id: PointIdentity,
    socketId: string,
    r: HealthReport,
  ): Promise<{ status: HealthStatus; swept: boolean }> {
    const { core } = this;
    const s = await core.session(id.sessionId);
    if (!ACTIVE.includes(s.state)) return { status: 'offline', swept: false };
    const rt = core.runtime(id.sessionId);
    const h = await core.local(rt, id.pointId);
    h.sockets.add(socketId);
    let sfu: SfuViewerStats | null = null;
    try {
      sfu = (await this.sfu?.getViewerStats(id.sessionId, id.pointId)) ?? null;
    } catch (err) {
      core.log.debug({ err }, 'SFU stats unavailable');
    }
    const g = gradeReport(r, sfu, core.config.health);
    const at = core.now();
    await this.#watchMedia(rt, id, h, sfu, at);
    const sample = toSample(r, g.quality, sfu, h.state.status, at);
    // The page's watchdog rebuilt its media since the last sample: one event per change,
    // so the point's detail on the monitor lists it (a reloaded page counts from 0 again).
    const rebuildsBefore = h.last?.mediaRebuilds ?? 0;
    const rebuilt = r.mediaRebuilds !== undefined && r.mediaRebuilds > 0 && r.mediaRebuilds !== rebuildsBefore;
    const { status, written } = await this.#applyOwned(rt, id.pointId, { type: 'report', at, grade: g.grade }, sample);
    if (!written) {
      const swept = !(await core.ledger.hasSocket(id.sessionId, id.pointId, core.member(socketId)));
      return { status, swept };
    }
    if (rebuilt) {
      await core.ledger.event(
        id.sessionId,
        id.pointId,
        'media',
        `watchdog: hình bị treo, trang đã tự dựng lại kết nối nhận (lần ${r.mediaRebuilds}) · media stalled, the page rebuilt its receive path (#${r.mediaRebuilds})`,
        at,
        { code: 'watchdog', params: { n: r.mediaRebuilds! } },
      );
    }
    core.sample(id, sample);
    core.changed(id);
    return { status, swept: false };
  }

  /**
   * Silent media (media-silence.ts): the SFU's received bytes for the point, observed at
   * each report; a change between silent and flowing goes to the status machine at once,
   * and going silent into the point's events.
   */
  async #watchMedia(rt: SessionRuntime, id: PointIdentity, h: LocalHealth, sfu: SfuViewerStats | null, at: number) {
    h.silence = observeFlow(h.silence, sfu?.media, at);
    const silent = isSilent(h.silence, at, this.core.config.health.mediaSilentMs) ?? false;
    if (silent === Boolean(h.state.mediaSilent)) return;
    const { written } = await this.#applyOwned(rt, id.pointId, { type: 'media', at, silent }, null);
    if (!written || !silent) return;
    const secs = Math.round((at - h.silence!.since) / 1000);
    this.core.log.info({ ...id, silentForMs: at - h.silence!.since }, 'no media from the point: lost');
    await this.core.ledger.event(
      id.sessionId,
      id.pointId,
      'media',
      `không nhận được gì từ điểm cầu trong ${secs} giây · nothing received from the point's media for ${secs} s`,
      at,
      { code: 'silent', params: { s: secs } },
    );
  }

  /** The alert-check job: a point still bad since the same moment gets a quality alert. */
  async alertCheck(d: { sessionId: string; pointId: string; badSince: number }): Promise<string> {
    const { core } = this;
    const stored = await core.health.get(d.sessionId, d.pointId);
    if (!stored || !BAD.includes(stored.state.status) || stored.badSince !== d.badSince) return 'recovered';
    const s = await core.sessions.get(d.sessionId);
    if (!s || !ACTIVE.includes(s.state)) return 'session not active';
    const point = await core.points.get(d.pointId);
    const secs = Math.round((core.now() - d.badSince) / 1000);
    const { created } = await core.alerts.raise({
      sessionId: d.sessionId,
      pointId: d.pointId,
      pointName: point?.name ?? d.pointId,
      kind: 'quality',
      status: stored.state.status,
      note: `${STATUS_VI[stored.state.status]} ${secs} giây · ${stored.state.status} for ${secs} s`,
      lastSample: stored.last,
      at: new Date(core.now()),
    });
    core.changed(d);
    return created ? 'raised' : 'already open';
  }

  /** "mất hình" / "mất tiếng": an alert at once, with the point's last statistics. */
  async reportProblem(id: PointIdentity, kind: 'no-video' | 'no-audio' | 'other', note: string | undefined) {
    const { core } = this;
    await core.requireOpen(id.sessionId, 'problem reports');
    const point = await core.points.get(id.pointId);
    const rt = core.runtime(id.sessionId);
    const h = await core.local(rt, id.pointId);
    // With several nodes the last sample may have been taken on another one.
    const last = core.cluster && !h.owned ? ((await core.health.get(id.sessionId, id.pointId))?.last ?? null) : h.last;
    const at = new Date(core.now());
    const { alert } = await core.alerts.raise({
      sessionId: id.sessionId,
      pointId: id.pointId,
      pointName: point?.name ?? id.pointId,
      kind,
      status: null,
      note: note ?? '',
      lastSample: last,
      at,
    });
    await core.ledger.event(id.sessionId, id.pointId, 'problem', `${kind}${note ? `: ${note}` : ''}`, at.getTime(), {
      code: kind,
      params: { note: note ?? '' },
    });
    core.changed(id);
    return { alertId: alert.id };
  }

  /** The pre-flight result a point sent (called by the broadcast's `preflight:report`). */
  async recordPreflight(id: PointIdentity, r: PreflightReport): Promise<void> {
    const { core } = this;
    const at = core.now();
    await core.ledger.setPreflight(id.sessionId, id.pointId, {
      at: new Date(at).toISOString(),
      result: r.result,
      transport: r.transport,
      rttMs: r.rttMs,
      downlinkKbps: r.downlinkKbps,
      reasons: r.reasons,
      tone: r.tone ?? null,
    });
    await core.ledger.event(id.sessionId, id.pointId, 'preflight', `${r.result} (${r.transport})`, at, {
      code: r.result,
      params: { transport: r.transport, ...(r.tone ? { tone: r.tone } : {}) },
    });
    core.changed(id);
  }

  /** A media incident the server saw (a worker death, the media back): into the point's events. */
  async recordMediaEvent(id: PointIdentity, e: MediaEvent): Promise<void> {
    const detail =
      e.code === 'worker-died' ? 'media server worker died; reconnecting' : `video back after ${e.params.ms} ms`;
    await this.core.ledger.event(id.sessionId, id.pointId, 'media', detail, this.core.now(), e);
    this.core.changed(id);
  }
}

function toSample(
  r: HealthReport,
  quality: HealthSample['quality'],
  sfu: SfuViewerStats | null,
  status: HealthStatus,
  at: number,
): HealthSample {
  return {
    at: new Date(at).toISOString(),
    status,
    quality,
    rttMs: r.rttMs ?? r.signalRttMs,
    lossPct: r.lossPct,
    jitterMs: r.jitterMs,
    bitrateKbps: r.bitrateKbps,
    freezeMs: r.freezeMs,
    freezeCount: r.freezeCount,
    framesDecoded: r.framesDecoded,
    width: r.width,
    height: r.height,
    audioConcealedPct: r.audioConcealedPct,
    protocol: r.protocol,
    sfuScore: sfu?.score ?? null,
    sfuLayer: sfu?.spatialLayer ?? null,
    mediaRebuilds: r.mediaRebuilds ?? null,
  };
}
