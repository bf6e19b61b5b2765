// A point's connection status, derived from its 2-second reports with hysteresis, so one
// bad sample does not turn a tile red and one good sample does not turn it green again.
// Pure: no clock, no I/O; the caller feeds events with their times.
//
//   offline     never connected in this session (or the session is over)
//   connecting  socket up, media not flowing yet
//   good / degraded / poor   graded from RTT, loss, jitter, freezes and the SFU's score
//   lost        the point was connected and is no more: socket gone, reports stopped
//               (HEALTH_STALE_MS), its media transport failed, or the SFU has received
//               nothing from its media transports for HEALTH_MEDIA_SILENT_MS while its
//               socket is up (media-silence.ts)
//
// Leaving offline, connecting or lost is immediate. Between good, degraded, poor and lost
// (through a failed transport) a change needs HEALTH_WORSEN_SAMPLES reports in a row that
// are worse, or HEALTH_RECOVER_SAMPLES in a row that are better; it goes to the grade of
// that streak closest to the current one. A lost socket is lost at once, and so is silent
// media: while it lasts, reports do not lift `lost`; once media flows again, the next
// report does, at once.
import type { HealthConfig } from '../../config';
import type { HealthReport, HealthStatus, SfuViewerStats } from '../../contract/attendance';

export type Grade = Exclude<HealthStatus, 'offline'>;

const RANK: Record<HealthStatus, number> = { offline: -2, connecting: -1, good: 0, degraded: 1, poor: 2, lost: 3 };
export const statusRank = (s: HealthStatus): number => RANK[s];

/** Worst first, for sorting tiles. */
export const SEVERITY: Record<HealthStatus, number> = {
  lost: 5,
  poor: 4,
  degraded: 3,
  connecting: 2,
  offline: 1,
  good: 0,
};

export type Thresholds = Pick<HealthConfig, 'rttMs' | 'lossPct' | 'jitterMs' | 'freezeMs' | 'sfuScore'>;
export type Hysteresis = Pick<HealthConfig, 'staleMs' | 'worsenSamples' | 'recoverSamples'>;

function level(v: number | null | undefined, [degraded, poor]: [number, number]): 0 | 1 | 2 {
  if (v == null) return 0;
  return v >= poor ? 2 : v >= degraded ? 1 : 0;
}
function levelDown(v: number | null | undefined, [degraded, poor]: [number, number]): 0 | 1 | 2 {
  if (v == null) return 0;
  return v <= poor ? 2 : v <= degraded ? 1 : 0;
}

export interface Graded {
  grade: Grade;
  /** 0-100, higher is better; null when there is nothing to judge (no RTT at all). */
  quality: number | null;
  /** The measures that set the grade, for the monitor's tooltip and the alert. */
  reasons: string[];
}

/** Grades one report (with the SFU's view when known). */
export function gradeReport(r: HealthReport, sfu: SfuViewerStats | null, t: Thresholds): Graded {
  if (r.transportState === 'failed' || r.transportState === 'closed') {
    return { grade: 'lost', quality: 0, reasons: ['transport failed'] };
  }
  const mediaUp = r.transportState === 'connected';
  // Before the hall sends anything a point has no media transport: judge the signalling
  // path only, so a ready lobby shows green rather than "connecting" for an hour.
  if (!mediaUp && r.consumers > 0) {
    return {
      grade: r.transportState === 'disconnected' ? 'poor' : 'connecting',
      quality: null,
      reasons: [r.transportState === 'disconnected' ? 'transport disconnected' : 'media connecting'],
    };
  }
  const rtt = mediaUp ? (r.rttMs ?? r.signalRttMs) : r.signalRttMs;
  const parts: [string, 0 | 1 | 2, number][] = [];
  const push = (name: string, lv: 0 | 1 | 2, ratio: number) => parts.push([name, lv, ratio]);
  const ratio = (v: number | null | undefined, poor: number) => (v == null || poor <= 0 ? 0 : v / poor);
  push('rtt', level(rtt, t.rttMs), ratio(rtt, t.rttMs[1]));
  if (mediaUp) {
    push('loss', level(r.lossPct, t.lossPct), ratio(r.lossPct, t.lossPct[1]));
    push('jitter', level(r.jitterMs, t.jitterMs), ratio(r.jitterMs, t.jitterMs[1]));
    push('freezes', level(r.freezeMs, t.freezeMs), ratio(r.freezeMs, t.freezeMs[1]));
    if (sfu?.score != null) {
      push('sfu score', levelDown(sfu.score, t.sfuScore), (10 - sfu.score) / Math.max(1, 10 - t.sfuScore[1]));
    }
    if (r.consumers > 0 && r.bitrateKbps === 0) push('no media received', 2, 1);
  }
  const worst = Math.max(...parts.map((p) => p[1]));
  const grade: Grade = worst === 2 ? 'poor' : worst === 1 ? 'degraded' : 'good';
  const maxRatio = Math.max(...parts.map((p) => p[2]));
  const quality = rtt == null && !mediaUp ? null : Math.max(0, Math.min(100, Math.round(100 - 50 * maxRatio)));
  return { grade, quality, reasons: parts.filter((p) => p[1] > 0).map((p) => p[0]) };
}

export interface HealthState {
  status: HealthStatus;
  /** When the current status began (ms). */
  since: number | null;
  connected: boolean;
  lastReportAt: number | null;
  /** The streak of reports pointing away from the current status. */
  pending: { direction: 'worse' | 'better'; grade: Grade; count: number } | null;
  /** The worst of good..lost this session, for the report. */
  worst: HealthStatus;
  /** The SFU receives nothing from the point's media transports (media-silence.ts). */
  mediaSilent?: boolean;
}

export type HealthEvent =
  | { type: 'connect'; at: number }
  | { type: 'disconnect'; at: number }
  | { type: 'report'; at: number; grade: Grade }
  | { type: 'tick'; at: number }
  /** The SFU's view of the point's media: silent for too long, or flowing again. */
  | { type: 'media'; at: number; silent: boolean }
  | { type: 'end'; at: number };

export function initialHealth(): HealthState {
  return { status: 'offline', since: null, connected: false, lastReportAt: null, pending: null, worst: 'offline' };
}

function moveTo(s: HealthState, status: HealthStatus, at: number): HealthState {
  if (s.status === status) return { ...s, pending: null };
  const worst = statusRank(status) > statusRank(s.worst) ? status : s.worst;
  return { ...s, status, since: at, pending: null, worst };
}

/** The state without the silent-media mark (a new socket, the end, media flowing again). */
function heard(s: HealthState): HealthState {
  if (!s.mediaSilent) return s;
  const { mediaSilent: _silent, ...rest } = s;
  return rest;
}

/** The next state after one event. */
export function nextHealth(s: HealthState, e: HealthEvent, h: Hysteresis): HealthState {
  switch (e.type) {
    case 'connect': {
      const next = { ...heard(s), connected: true, lastReportAt: e.at };
      return s.status === 'offline' || s.status === 'lost' ? moveTo(next, 'connecting', e.at) : next;
    }
    case 'disconnect':
      return moveTo({ ...heard(s), connected: false }, s.status === 'offline' ? 'offline' : 'lost', e.at);
    case 'end':
      return moveTo({ ...heard(s), connected: false }, 'offline', e.at);
    case 'media':
      if (!e.silent) return heard(s);
      if (!s.connected || s.status === 'offline') return s;
      return moveTo({ ...s, mediaSilent: true }, 'lost', e.at);
    case 'tick':
      if (
        s.connected &&
        s.lastReportAt !== null &&
        e.at - s.lastReportAt > h.staleMs &&
        statusRank(s.status) >= 0 &&
        s.status !== 'lost'
      ) {
        return moveTo(s, 'lost', e.at);
      }
      return s;
    case 'report': {
      const next: HealthState = { ...s, connected: true, lastReportAt: e.at };
      if (s.mediaSilent) return moveTo(next, 'lost', e.at);
      const g = e.grade;
      if (s.status === 'offline' || s.status === 'connecting' || s.status === 'lost') {
        return moveTo(next, g, e.at);
      }
      // Media rebuilding under a point that was playing counts as a bad sample.
      const eff: Grade = g === 'connecting' ? 'poor' : g;
      const diff = statusRank(eff) - statusRank(s.status);
      if (diff === 0) return { ...next, pending: null };
      const direction: 'worse' | 'better' = diff > 0 ? 'worse' : 'better';
      const streak =
        s.pending && s.pending.direction === direction
          ? {
              direction,
              count: s.pending.count + 1,
              // The grade of the streak closest to the current status.
              grade:
                Math.abs(statusRank(eff) - statusRank(s.status)) <
                Math.abs(statusRank(s.pending.grade) - statusRank(s.status))
                  ? eff
                  : s.pending.grade,
            }
          : { direction, count: 1, grade: eff };
      const needed = direction === 'worse' ? h.worsenSamples : h.recoverSamples;
      if (streak.count >= needed) return moveTo(next, streak.grade, e.at);
      return { ...next, pending: streak };
    }
  }
}

/** A point's status machine with the thresholds bound. */
export class PointHealth {
  #state: HealthState;
  constructor(
    private readonly cfg: Thresholds & Hysteresis,
    state: HealthState = initialHealth(),
  ) {
    this.#state = state;
  }

  get state(): HealthState {
    return this.#state;
  }

  get status(): HealthStatus {
    return this.#state.status;
  }

  /** Applies an event; answers the previous status when it changed. */
  apply(e: HealthEvent): { changed: boolean; from: HealthStatus; to: HealthStatus } {
    const from = this.#state.status;
    this.#state = nextHealth(this.#state, e, this.cfg);
    return { changed: from !== this.#state.status, from, to: this.#state.status };
  }

  grade(r: HealthReport, sfu: SfuViewerStats | null): Graded {
    return gradeReport(r, sfu, this.cfg);
  }
}
