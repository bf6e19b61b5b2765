// The points' video silences matched to the SFU's own word for them. A mediasoup simulcast
// consumer whose transport's bandwidth estimate falls under the lowest layer sends no video
// at all; the server logs (pino, info) when that starts and when it ends (it sends video
// again, or the consumer closes), with the point and the estimate (sfu/room-consumers.ts;
// the messages are sfu/video-stop-log.ts's). The generator sees the same from the other
// side: a silence in the hall's video stream. Both stamp this machine's clock. Pure: the
// run reads the server's log (./spawn.ts) and the points' streams, and ./assemble-stops.ts
// calls this.
import {
  VIDEO_AGAIN_MSG as AGAIN,
  VIDEO_STOP_MSG as STOP,
  VIDEO_STOPPED_CLOSE_MSG as CLOSED,
} from '../../sfu/video-stop-log';
import type { StreamSilence } from './stream-stats';
import { percentile, round } from './stats';

/** The silences counted: over a second, the threshold of `points.starved`. */
export const SILENCE_MS = 1000;
/** How far apart a silence and a stop may be and still be the same event (clocks, reading delay). */
export const TOLERANCE_MS = 500;
/** The hall's camera: the consumer whose layers the SFU chooses per point. */
export const HALL_VIDEO = 'host-camera';
/** Unmatched silences and stops listed in the result (all are counted). */
const LISTED = 20;
/** A matched silence the stops cover less of than this share is counted apart: the stop explains only part of it. */
export const COVERED_SHARE = 0.5;

export interface SfuVideoEvent {
  /** Epoch ms (the log line's time). */
  at: number;
  kind: 'stop' | 'again' | 'closed';
  pointId: string;
  consumerId: string;
  source: string | undefined;
  /** The transport's bandwidth estimate (bps) when it was said. */
  bitrateBps: number | undefined;
}

/** One of the server's JSON log lines, if it is a stop, a resume or a stopped consumer's close. */
export function parseSfuLine(line: string): SfuVideoEvent | undefined {
  // Most lines are something else: a substring first, JSON only for these.
  if (!line.includes(STOP) && !line.includes(AGAIN) && !line.includes(CLOSED)) return undefined;
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const kind = j.msg === STOP ? 'stop' : j.msg === AGAIN ? 'again' : j.msg === CLOSED ? 'closed' : undefined;
  const at = typeof j.time === 'string' ? Date.parse(j.time) : typeof j.time === 'number' ? j.time : NaN;
  if (!kind || !Number.isFinite(at) || typeof j.peerId !== 'string' || typeof j.consumerId !== 'string')
    return undefined;
  return {
    at,
    kind,
    pointId: j.peerId,
    consumerId: j.consumerId,
    source: typeof j.source === 'string' ? j.source : undefined,
    bitrateBps: typeof j.availableBitrate === 'number' ? j.availableBitrate : undefined,
  };
}

export interface Interval {
  pointId: string;
  /** Epoch ms. */
  from: number;
  to: number;
}

export interface SfuStop extends Interval {
  consumerId: string;
  /** The estimate (bps) the stop was logged with. */
  bitrateBps: number | undefined;
  /** Not ended by the end of the run: `to` is the run's end. */
  open: boolean;
}

/** The stops of the hall's video, one interval per stop and consumer, in time order; open ones end at `endAt`. */
export function sfuStopsOf(events: SfuVideoEvent[], endAt: number): SfuStop[] {
  const open = new Map<string, SfuStop>();
  const out: SfuStop[] = [];
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    if (e.source !== undefined && e.source !== HALL_VIDEO) continue;
    if (e.kind === 'stop') {
      if (open.has(e.consumerId)) continue;
      const s: SfuStop = { ...pick(e), from: e.at, to: endAt, open: true };
      open.set(e.consumerId, s);
      out.push(s);
    } else {
      const s = open.get(e.consumerId);
      if (!s) continue;
      s.to = e.at;
      s.open = false;
      open.delete(e.consumerId);
    }
  }
  return out;
}

function pick(e: SfuVideoEvent): Pick<SfuStop, 'pointId' | 'consumerId' | 'bitrateBps'> {
  return { pointId: e.pointId, consumerId: e.consumerId, bitrateBps: e.bitrateBps };
}

/** One of a point's video streams as the generator read it (epoch ms). */
export interface VideoStreamSpan {
  firstAt: number;
  lastAt: number;
  silences: StreamSilence[];
}

export type SilenceCause = 'wire' | 'generator' | 'late' | 'rejoin' | 'end';

export interface GeneratorSilence extends Interval {
  ms: number;
  /**
   * As media.gaps says (wire, generator, late); `rejoin`: until a new transport's first
   * packet; `end`: still silent at the end.
   */
  cause: SilenceCause;
}

/**
 * A point's silences of the hall's video (each stream's own, kept from SILENCE_RECORD_MS),
 * and from a stream's last packet to the first video packet of the next transport (a rejoin
 * or a watchdog rebuild: the generator reads no gap inside either stream) or, for the
 * current transport (or one never followed by video), to `endAt`, when at least `minMs`.
 * `receivers` in order, the current one last.
 */
export function pointSilences(
  pointId: string,
  receivers: VideoStreamSpan[][],
  endAt: number,
  causeOf: (s: StreamSilence) => 'wire' | 'generator' | 'late',
  minMs: number,
): GeneratorSilence[] {
  const out: GeneratorSilence[] = [];
  receivers.forEach((streams, i) => {
    const next = receivers
      .slice(i + 1)
      .map((r) => Math.min(...r.map((s) => s.firstAt)))
      .find((t) => Number.isFinite(t));
    for (const s of streams) {
      for (const g of s.silences)
        out.push({ pointId, from: g.endedAt - g.ms, to: g.endedAt, ms: g.ms, cause: causeOf(g) });
      const until = i < receivers.length - 1 ? next : undefined;
      const to = until ?? endAt;
      if (to - s.lastAt >= minMs)
        out.push({ pointId, from: s.lastAt, to, ms: to - s.lastAt, cause: until === undefined ? 'end' : 'rejoin' });
    }
  });
  return out.sort((a, b) => a.from - b.from);
}

/**
 * The share of a silence that stops cover (0-1): their union clipped to it, over its
 * length, exact (no tolerance). Pure.
 */
export function coveredFraction(g: Interval, stops: readonly Interval[]): number {
  const len = g.to - g.from;
  if (len <= 0) return stops.some((s) => s.from <= g.from && g.to <= s.to) ? 1 : 0;
  const parts = stops
    .map((s) => [Math.max(g.from, s.from), Math.min(g.to, s.to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let end = -Infinity;
  for (const [a, b] of parts) {
    if (b <= end) continue;
    covered += b - Math.max(a, end);
    end = b;
  }
  return covered / len;
}

/** Two intervals (of one point) overlap, or come within `toleranceMs` of each other. */
function overlaps(a: Interval, b: Interval, toleranceMs: number): boolean {
  return a.from <= b.to + toleranceMs && b.from <= a.to + toleranceMs;
}

export interface VideoStopsMatch {
  available: true;
  thresholdMs: number;
  toleranceMs: number;
  /** The generator's silences of the hall's video over thresholdMs. */
  silences: {
    count: number;
    points: number;
    /** Overlapping an SFU stop of the same point (within toleranceMs). */
    matched: number;
    /** The share of each matched silence the point's stops cover (%, exact: no tolerance), p10 and p50; null when none matched. */
    coveredPct: { p10: number; p50: number } | null;
    /** Matched silences covered less than half by the stops: the stop explains only part of the silence. */
    matchedUnderHalf: number;
    /** The first of those: the point, start (ms after the join started), length, the share covered (%), the cause. */
    matchedUnderHalfList: { pointId: string; atMs: number; ms: number; coveredPct: number; cause: SilenceCause }[];
    unmatched: number;
    /** Unmatched ones at points the SFU never logged a stop for. */
    unmatchedAtPointsWithoutStops: number;
    /** The first unmatched ones: the point, when it started (ms after the join started), how long, the cause. */
    unmatchedList: { pointId: string; atMs: number; ms: number; cause: SilenceCause }[];
    /**
     * Silences (from 500 ms) a stream had past the first 200 it keeps: not matched, and an
     * SFU stop they would have covered counts as withoutSilence.
     */
    notKept: number;
  };
  /** The SFU's stops of the points' hall video. */
  sfuStops: {
    count: number;
    points: number;
    /** Not ended when the run ended. */
    open: number;
    /** Lasting over thresholdMs. */
    overThreshold: number;
    /** Of those, the ones overlapping a generator silence (any recorded one, from 500 ms). */
    withSilence: number;
    withoutSilence: number;
    withoutSilenceList: { pointId: string; atMs: number; ms: number; open: boolean }[];
    /** Stops at points that are not the generator's virtual points (the host, Chromium pages, drilled ones). */
    otherPoints: number;
  };
  /** The transport's estimate at each stop (kbps) and over how many stops. */
  estimateKbps: { p10: number; p50: number; n: number };
}

export type VideoStopsResult = VideoStopsMatch | { available: false; reason: string };

/**
 * Matches the generator's silences to the SFU's stops, point by point: a silence over
 * `thresholdMs` is matched when a stop of the same point overlaps it (within
 * `toleranceMs`); a stop over `thresholdMs` has a silence when any recorded silence of
 * the point overlaps it. `pointIds`: the virtual points whose silences were read; stops
 * elsewhere are counted apart. Times in the lists are ms after `t0`.
 */
export function matchVideoStops(
  silences: GeneratorSilence[],
  stops: SfuStop[],
  o: { pointIds: ReadonlySet<string>; t0: number; thresholdMs?: number; toleranceMs?: number; notKept?: number },
): VideoStopsMatch {
  const thresholdMs = o.thresholdMs ?? SILENCE_MS;
  const toleranceMs = o.toleranceMs ?? TOLERANCE_MS;
  const ours = stops.filter((s) => o.pointIds.has(s.pointId));
  const stopsOf = groupBy(ours);
  const silencesOf = groupBy(silences);
  const long = silences.filter((s) => s.ms > thresholdMs);
  const unmatched = long.filter((g) => !(stopsOf.get(g.pointId) ?? []).some((s) => overlaps(g, s, toleranceMs)));
  const unmatchedSet = new Set(unmatched);
  const matched = long
    .filter((g) => !unmatchedSet.has(g))
    .map((g) => ({ g, covered: coveredFraction(g, stopsOf.get(g.pointId) ?? []) }));
  const underHalf = matched.filter((m) => m.covered < COVERED_SHARE);
  const coveredPct = matched.map((m) => m.covered * 100);
  const longStops = ours.filter((s) => s.to - s.from > thresholdMs);
  const bare = longStops.filter((s) => !(silencesOf.get(s.pointId) ?? []).some((g) => overlaps(g, s, toleranceMs)));
  const kbps = ours.flatMap((s) => (s.bitrateBps === undefined ? [] : [s.bitrateBps / 1000]));
  return {
    available: true,
    thresholdMs,
    toleranceMs,
    silences: {
      count: long.length,
      points: new Set(long.map((g) => g.pointId)).size,
      matched: long.length - unmatched.length,
      coveredPct: coveredPct.length
        ? { p10: round(percentile(coveredPct, 10), 0), p50: round(percentile(coveredPct, 50), 0) }
        : null,
      matchedUnderHalf: underHalf.length,
      matchedUnderHalfList: underHalf.slice(0, LISTED).map(({ g, covered }) => ({
        pointId: g.pointId,
        atMs: Math.round(g.from - o.t0),
        ms: Math.round(g.ms),
        coveredPct: round(covered * 100, 0),
        cause: g.cause,
      })),
      unmatched: unmatched.length,
      unmatchedAtPointsWithoutStops: unmatched.filter((g) => !stopsOf.has(g.pointId)).length,
      unmatchedList: unmatched.slice(0, LISTED).map((g) => ({
        pointId: g.pointId,
        atMs: Math.round(g.from - o.t0),
        ms: Math.round(g.ms),
        cause: g.cause,
      })),
      notKept: o.notKept ?? 0,
    },
    sfuStops: {
      count: ours.length,
      points: stopsOf.size,
      open: ours.filter((s) => s.open).length,
      overThreshold: longStops.length,
      withSilence: longStops.length - bare.length,
      withoutSilence: bare.length,
      withoutSilenceList: bare.slice(0, LISTED).map((s) => ({
        pointId: s.pointId,
        atMs: Math.round(s.from - o.t0),
        ms: Math.round(s.to - s.from),
        open: s.open,
      })),
      otherPoints: stops.length - ours.length,
    },
    estimateKbps: { p10: round(percentile(kbps, 10), 0), p50: round(percentile(kbps, 50), 0), n: kbps.length },
  };
}

function groupBy<T extends { pointId: string }>(xs: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const l = m.get(x.pointId);
    if (l) l.push(x);
    else m.set(x.pointId, [x]);
  }
  return m;
}
