// The reference event's targets for a combined run (scripts/bench-combined.ts), checked
// against its figures: each one met or missed, a missing figure (NaN) counting as missed.

export const COMBINED_TARGETS = {
  /** The server's event-loop p99, in every 5 s window. */
  eventLoopP99Ms: 50,
  /** A delegate's check-in acknowledged (POST /api/v1/checkin), p95. */
  checkinAckP95Ms: 200,
  /** A point's change (its health report sent) to its tile painted on the /monitor page, p95. */
  monitorDeltaP95Ms: 1500,
  /** Server, mediasoup workers and embedded Redis together, each at its highest. */
  serverAndWorkersMiB: 1024,
} as const;

export interface CombinedFigures {
  eventLoopP99MaxMs: number;
  checkinAckP95Ms: number;
  checkins: { requested: number; accepted: number };
  monitorPageDeltaP95Ms: number;
  serverPlusWorkersPeakRssMiB: number;
  points: { requested: number; receivingVideo: number; starved: number };
}

export interface TargetCheck {
  what: string;
  measured: string;
  target: string;
  met: boolean;
}

const fmt = (x: number, unit: string) => (Number.isFinite(x) ? `${Math.round(x * 10) / 10} ${unit}` : 'not measured');

/** A figure that must stay under a limit (not measured: missed). */
const under = (what: string, x: number, unit: string, limit: number): TargetCheck => ({
  what,
  measured: fmt(x, unit),
  target: `under ${limit} ${unit}`,
  met: Number.isFinite(x) && x < limit,
});

export function checkTargets(f: CombinedFigures): TargetCheck[] {
  const t = COMBINED_TARGETS;
  return [
    under('server event-loop p99 (worst 5 s window)', f.eventLoopP99MaxMs, 'ms', t.eventLoopP99Ms),
    under('check-in ack p95', f.checkinAckP95Ms, 'ms', t.checkinAckP95Ms),
    {
      what: 'check-ins accepted',
      measured: `${f.checkins.accepted} of ${f.checkins.requested}`,
      target: 'all',
      met: f.checkins.requested > 0 && f.checkins.accepted === f.checkins.requested,
    },
    under('monitor page delta p95 (report sent to tile painted)', f.monitorPageDeltaP95Ms, 'ms', t.monitorDeltaP95Ms),
    under('RSS server + workers + Redis (peak)', f.serverPlusWorkersPeakRssMiB, 'MiB', t.serverAndWorkersMiB),
    {
      what: 'points receiving the hall',
      measured: `${f.points.receivingVideo} of ${f.points.requested}, ${f.points.starved} starved`,
      target: 'every point, none starved',
      met: f.points.requested > 0 && f.points.receivingVideo === f.points.requested && f.points.starved === 0,
    },
  ];
}

/** One line per target: what, measured, target, met or MISSED. */
export function targetTable(checks: TargetCheck[]): string {
  const w = Math.max(...checks.map((c) => c.what.length));
  const m = Math.max(...checks.map((c) => c.measured.length));
  const lines = checks.map(
    (c) => `${c.what.padEnd(w)}  ${c.measured.padEnd(m)}  target ${c.target}: ${c.met ? 'met' : 'MISSED'}`,
  );
  const missed = checks.filter((c) => !c.met).length;
  lines.push(missed ? `${missed} of ${checks.length} targets MISSED` : `all ${checks.length} targets met`);
  return lines.join('\n');
}
