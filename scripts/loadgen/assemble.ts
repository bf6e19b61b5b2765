// A load run's result, assembled from what the run measured: the steady state's window
// (CPU, memory, packets, pipe counters), every virtual point's streams, the signalling
// latencies, the check-ins and the attendance totals the server reports.
import os from 'node:os';
import { emptyCheckins } from './checkins';
import type { VirtualPoint } from './point';
import { loadAverage } from './procstat';
import { lostOf } from './stream-stats';
import { joinStagesOf, pointStagesOf } from './join-stages';
import type { LoadResult } from './result';
import type { PacketCount, RunFacts } from './run-facts';
import { percentile, round, rounded, summarize } from './stats';
import { clusterOf, costOf } from './assemble-cost';
import { mediaOf } from './assemble-media';

export function countPackets(points: VirtualPoint[]): PacketCount {
  let received = 0;
  let lost = 0;
  let bytes = 0;
  for (const p of points)
    for (const s of p.streams()) {
      received += s.received;
      lost += lostOf(s);
      // Every packet read, retransmissions on RTX included (as `received` counts them).
      bytes += s.bytes + s.rtxBytes;
    }
  return { received, lost, bytes };
}

function tcpOf(points: VirtualPoint[]): LoadResult['points']['tcp'] {
  const tcp = points.filter((p) => p.o.tcp);
  const streams = tcp.flatMap((p) => p.streams());
  return {
    points: tcp.length,
    receivingVideo: tcp.filter((p) => p.streams().some((s) => s.kind === 'video' && s.received > 0)).length,
    decrypted: streams.reduce((a, s) => a + s.decrypted, 0),
    authFailures: streams.reduce((a, s) => a + s.authFailures, 0),
    consentLost: tcp.reduce((a, p) => a + p.tcpConsentLost, 0),
  };
}

export function assembleResult(f: RunFacts): LoadResult {
  const { o, points, steady } = f;
  const cost = costOf(f);
  const joinMs = points.map((p) => p.firstKeyFrameMs() ?? NaN);
  const sentHeadcount = points.reduce((a, p) => a + p.headcountSent, 0);
  const sentCheckins = f.checkins?.ok ?? 0;
  const att = f.attendance;
  const { media, starved } = mediaOf(f, cost.avgPacketBytes);
  const clusterResult = f.cluster ? clusterOf(f, f.cluster, cost) : undefined;
  return {
    startedAt: f.startedAt,
    options: { ...o, log: undefined, admin: undefined } as unknown as LoadResult['options'],
    machine: {
      cores: os.cpus().length,
      memGiB: round(os.totalmem() / 2 ** 30, 1),
      loadBefore: f.loadBefore,
      loadAfter: loadAverage(),
      node: process.version,
    },
    points: {
      requested: o.points,
      signalled: points.filter((p) => p.signalledAt !== undefined).length,
      receivingVideo: points.filter((p) => p.streams().some((s) => s.kind === 'video' && s.received > 0)).length,
      withKeyFrame: points.filter((p) => p.firstKeyFrameMs() !== undefined).length,
      starved,
      tcp: tcpOf(points),
    },
    join: {
      storm: f.storm,
      allKeyFramesWithinMs: f.allJoinedMs,
      p50: round(percentile(joinMs, 50), 0),
      p95: round(percentile(joinMs, 95), 0),
      max: round(Math.max(...joinMs.map((x) => (Number.isFinite(x) ? x : Infinity))), 0),
      phases: joinPhases(f),
      stages: joinStagesOf(points, f.joinT0),
      stagesByPoint: pointStagesOf(points, f.joinT0),
      ...(f.chromium ? { chromium: f.chromium } : {}),
      dtlsAtOnceMax: f.dtlsAtOnceMax,
    },
    media,
    cost: cost.result,
    signalling: {
      generatorLoopP99Ms: round(steady.generatorLoop.percentile(99) / 1e6, 1),
      generatorPauses: {
        stalls: f.pauses.stalls.map((x) => ({ atMs: round(x.at - f.joinT0, 0), ms: round(x.ms, 0) })),
        gc: f.pauses.gc.map((x) => ({ atMs: round(x.at - f.joinT0, 0), ms: round(x.ms, 0), kind: x.kind })),
      },
      eventLoopP99Ms: windowsOf(f.probes.loopP99),
      eventLoopP50Ms: windowsOf(f.probes.loopP50),
      eventLoopMaxMs: round(f.probes.loopMax, 1),
      healthAckMs: rounded(summarize(f.healthAcks.values)),
      healthReportsSent: points.reduce((a, p) => a + p.health.reportsSent, 0),
      healthReportsFailed: points.reduce((a, p) => a + p.health.reportsFailed, 0),
      monitorDeltaMs: rounded(summarize(f.monitor.deltaMs.values)),
      monitorDeltas: f.monitor.deltas,
    },
    checkins: f.checkins ?? emptyCheckins(o),
    attendance: {
      sentHeadcount,
      sentCheckins,
      serverDelegates: att.delegates,
      serverCheckedIn: att.checkedIn,
      serverConnected: att.connected,
      match: att.delegates === sentHeadcount && att.checkedIn === sentCheckins,
    },
    ...(f.hostActs ? { hostActs: f.hostActs } : {}),
    ...(clusterResult ? { cluster: clusterResult } : {}),
    extra: f.extra,
    errors: [...f.errors, ...points.flatMap((p) => p.errors.map((e) => `${p.o.pointId}: ${e}`))].slice(0, 200),
  };
}

/** The worst and the median of the server's 5 s event-loop windows. */
function windowsOf(windows: number[]): { max: number; median: number; windows: number } {
  return { max: round(Math.max(0, ...windows), 1), median: round(percentile(windows, 50), 1), windows: windows.length };
}

/**
 * Where each point's join went, ms after its start (p50 / p95 / max over points): its
 * socket signalled, its transport's DTLS done (the SRTP keys), its hall video consumer
 * resumed, the first video packet read, the first key frame's first packet and the frame
 * complete (its last packet read).
 */
function joinPhases(f: RunFacts): Record<string, { p50: number; p95: number; max: number }> {
  const phase = (at: (p: VirtualPoint) => number | undefined) => {
    const v = f.points.map((p) => {
      const t = at(p);
      return t === undefined ? NaN : t - p.joinStartedAt;
    });
    const ok = v.filter(Number.isFinite);
    return { p50: round(percentile(v, 50), 0), p95: round(percentile(v, 95), 0), max: round(Math.max(0, ...ok), 0) };
  };
  const firstVideo = (p: VirtualPoint) => {
    const t = p
      .streams()
      .filter((s) => s.kind === 'video' && s.firstPacketAt !== undefined)
      .map((s) => s.firstPacketAt!);
    return t.length ? Math.min(...t) : undefined;
  };
  return {
    signalled: phase((p) => p.signalledAt),
    dtlsDone: phase((p) => p.retired[0]?.connectedAt ?? p.receiver?.connectedAt),
    videoResumed: phase((p) => p.videoResumedAt),
    firstVideoPacket: phase(firstVideo),
    firstKeyFrameStart: phase((p) => {
      const t = p
        .streams()
        .flatMap((s) => (s.kind === 'video' && s.keyFrameStartAt !== undefined ? [s.keyFrameStartAt] : []));
      return t.length ? Math.min(...t) : undefined;
    }),
    firstKeyFrame: phase((p) => {
      const ms = p.firstKeyFrameMs();
      return ms === undefined ? undefined : ms + p.joinStartedAt;
    }),
  };
}
