// The media part of a load run's result: loss, jitter and silences per point, the points
// starved of video, decryption, the loss sources, the video stops and the watchdog.
import { lostOf, type StreamStats } from './stream-stats';
import { feedbackOf, impairedOf } from './assemble-feedback';
import { lossSourcesOf } from './loss-sources';
import type { GeneratorPauses } from './stalls';
import type { LoadResult } from './result';
import type { RunFacts } from './run-facts';
import { percentile, round } from './stats';
import { videoStopsOf } from './assemble-stops';
import { watchdogOf } from './assemble-watchdog';

/**
 * Why a point's packets stopped arriving for a while: `wire`, the stream itself skipped
 * (packets lost, or an RTP timestamp step of more than a few frames: nothing was sent);
 * `generator`, every packet was there (one sequence step, one frame of timestamp) and the
 * generator's own event loop was stalled for at least half of the silence, so the packets
 * waited in the socket; `late`, every packet was there but late with the generator running
 * (held up upstream: the SFU, the pipe or the source).
 */
export function gapCause(
  g: { endedAt: number; seqStep: number; rtpMs: number },
  ms: number,
  pauses: Pick<GeneratorPauses, 'stalls'>,
): 'wire' | 'generator' | 'late' {
  if (g.seqStep > 1 || g.rtpMs > 200) return 'wire';
  const from = g.endedAt - ms;
  let stalled = 0;
  for (const s of pauses.stalls) stalled += Math.max(0, Math.min(g.endedAt, s.at + s.ms) - Math.max(from, s.at));
  return stalled >= ms / 2 ? 'generator' : 'late';
}

/** Per point: loss, jitter, the longest gap, decryption; the points starved of video; the watchdog. */
export function mediaOf(f: RunFacts, avgPacketBytes: number): { media: LoadResult['media']; starved: string[] } {
  const { o, points, steady } = f;
  const [packets0, packets1] = steady.packets;
  const lossPerPoint: number[] = [];
  const jitterV: number[] = [];
  const jitterA: number[] = [];
  const gaps: number[] = [];
  const wireGaps: number[] = [];
  const starved: string[] = [];
  const readDelayed: string[] = [];
  const gapDetail: LoadResult['media']['gaps'] = [];
  let decrypted = 0;
  let authFailures = 0;
  let profile = '';
  for (const p of points) {
    let rec = 0;
    let lost = 0;
    let gap = 0;
    let video = 0;
    let longest: StreamStats | undefined;
    let wire = 0;
    for (const s of p.streams()) {
      wire = Math.max(wire, s.maxRtpStepMs);
      rec += s.received;
      lost += lostOf(s);
      decrypted += s.decrypted;
      authFailures += s.authFailures;
      if (s.kind === 'video') video += s.received;
      if (s.maxGapMs > gap) {
        gap = s.maxGapMs;
        longest = s;
      }
      (s.kind === 'video' ? jitterV : jitterA).push((s.jitter / s.clockRate) * 1000);
    }
    profile ||= p.receiver?.profile ?? '';
    lossPerPoint.push(rec + lost > 0 ? (100 * lost) / (rec + lost) : 100);
    gaps.push(gap);
    wireGaps.push(wire);
    const cause = longest?.maxGap ? gapCause(longest.maxGap, gap, f.pauses) : 'late';
    // Starved: never got video, or video stopped for over a second (not counting a rejoin,
    // nor a silence that was only the generator's own stall: see gapCause).
    const stopped = (gap > 1000 && cause !== 'generator') || wire > 1000;
    if (o.media && (video === 0 || (stopped && p.rejoins === 0))) starved.push(p.o.pointId);
    else if (gap > 1000 && p.rejoins === 0) readDelayed.push(p.o.pointId);
    if (gap > 250 && longest?.maxGap)
      gapDetail.push({
        pointId: p.o.pointId,
        node: p.nodeUrl,
        kind: longest.kind,
        ms: round(gap, 0),
        endedAtMs: longest.maxGap.endedAt - f.joinT0,
        seqStep: longest.maxGap.seqStep,
        rtpMs: round(longest.maxGap.rtpMs, 1),
        cause,
      });
  }
  const spread = (v: number[]) => ({
    p50: round(percentile(v, 50)),
    p95: round(percentile(v, 95)),
    worst: round(Math.max(0, ...v)),
  });
  const media: LoadResult['media'] = {
    packetsReceived: packets1.received,
    packetsLost: packets1.lost,
    decrypted,
    authFailures,
    srtpProfile: profile,
    lossPct: {
      p50: round(percentile(lossPerPoint, 50), 3),
      p95: round(percentile(lossPerPoint, 95), 3),
      worst: round(Math.max(0, ...lossPerPoint), 3),
      pointsOver1Pct: lossPerPoint.filter((x) => x >= 1).length,
    },
    jitterMs: { video: spread(jitterV), audio: spread(jitterA) },
    maxGapMs: { p95: round(percentile(gaps, 95), 0), worst: round(Math.max(0, ...gaps), 0) },
    feedback: feedbackOf(points),
    lossSources: lossSourcesOf(points, f.drops, {
      lostAtSteady: [packets0.lost, packets1.lost],
      rcvbufErrors: {
        join: steady.udpRcvbufErrors[0] - f.rcvbufErrorsAtJoin,
        steady: steady.udpRcvbufErrors[1] - steady.udpRcvbufErrors[0],
      },
    }),
    hall: f.hall,
    impaired: f.impaired?.size ? impairedOf(f.points, f.o.impair!, f.impaired, lossPerPoint) : undefined,
    wireGapMs: { p95: round(percentile(wireGaps, 95), 0), worst: round(Math.max(0, ...wireGaps), 0) },
    readDelayed,
    gaps: gapDetail,
    videoStops: videoStopsOf({ ...f, causeOf: (g) => gapCause(g, g.ms, f.pauses) }),
    sourceStartedAtMs: f.sourceStartedAt === undefined ? null : f.sourceStartedAt - f.joinT0,
    packetsPerSecond: round((packets1.received - packets0.received) / steady.windowSeconds, 0),
    avgPacketBytes: round(avgPacketBytes, 0),
    rejoins: points.reduce((a, p) => a + p.rejoins, 0),
    disconnects: points.reduce((a, p) => a + p.disconnects, 0),
    undecryptable: points.flatMap((p) =>
      p
        .streams()
        .filter((s) => s.decrypted === 0 && s.authFailures > 0)
        .map((s) => ({
          pointId: p.o.pointId,
          kind: s.kind,
          ssrc: s.ssrc,
          firstSeq: s.firstSeq,
          received: s.received,
          authFailures: s.authFailures,
          diagnosis: s.diagnosis ?? null,
        })),
    ),
    watchdog: watchdogOf(points, f.drilled, f.loopBehindMs, f.sharedSilences),
  };
  return { media, starved };
}
