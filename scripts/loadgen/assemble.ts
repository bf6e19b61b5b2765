// A load run's result, assembled from what the run measured: the steady state's window
// (CPU, memory, packets, pipe counters), every virtual point's streams, the signalling
// latencies, the check-ins and the attendance totals the server reports.
import os from 'node:os';
import type { IntervalHistogram } from 'node:perf_hooks';
import { emptyCheckins } from './checkins';
import type { ClusterHandle } from './cluster';
import { measureFloor } from './floor';
import type { LoadOptions } from './options';
import type { VirtualPoint } from './point';
import type { MonitorTimer, ServerProbes } from './probes';
import { cpuBetween, loadAverage, type MachineSample, type ProcSample } from './procstat';
import { lostOf, type StreamStats } from './stream-stats';
import { feedbackOf, impairedOf } from './assemble-feedback';
import { lossSourcesOf, type SocketDropWatch } from './loss-sources';
import type { ChromiumJoin } from './chromium-points';
import { joinStagesOf, pointStagesOf } from './join-stages';
import type { GeneratorPauses } from './stalls';
import type { ClusterResult, LoadResult } from './result';
import type { HallLayerStats } from './simulcast-hall';
import { type Reservoir, percentile, round, rounded, summarize } from './stats';
import type { SfuVideoLog } from './server-log';
import { videoStopsOf } from './assemble-stops';

export interface PacketCount {
  received: number;
  lost: number;
  bytes: number;
}

/** The steady state's window: samples at its start (0) and end (1). */
export interface SteadyWindow {
  windowSeconds: number;
  machine: [MachineSample, MachineSample];
  procs: [Record<string, ProcSample | undefined>, Record<string, ProcSample | undefined>];
  udpRcvbufErrors: [number, number];
  packets: [PacketCount, PacketCount];
  /** The edges' pipe counters (cluster only) and the seconds between the two reads. */
  feeds: [Map<string, number>, Map<string, number>];
  feedsSeconds: number;
  /** The generator's own event-loop delay over the window. */
  generatorLoop: IntervalHistogram;
}

export interface RunFacts {
  o: LoadOptions;
  startedAt: string;
  loadBefore: number[];
  errors: string[];
  points: VirtualPoint[];
  /** Points stalled on purpose (the watchdog drill). */
  drilled: VirtualPoint[];
  storm: boolean;
  /** When the join started (epoch ms): the origin of the times in media.gaps and generatorPauses. */
  joinT0: number;
  /** Machine-wide RcvbufErrors when the join started. */
  rcvbufErrorsAtJoin: number;
  /** The points' receive sockets' kernel drops, sampled from the join's start. */
  drops?: SocketDropWatch | undefined;
  allJoinedMs: number;
  /** The Chromium points' first decoded frames (options.chromiumPoints). */
  chromium?: ChromiumJoin | undefined;
  /** The most DTLS handshakes the generator computed at once. */
  dtlsAtOnceMax: number;
  /** The generator's own event-loop stalls and GC pauses over the run. */
  pauses: GeneratorPauses;
  /** When the hall's source started sending (epoch ms), if it did. */
  sourceStartedAt: number | undefined;
  steady: SteadyWindow;
  probes: ServerProbes;
  monitor: MonitorTimer;
  healthAcks: Reservoir;
  /** Undefined when the run asked for no check-ins. */
  checkins: LoadResult['checkins'] | undefined;
  hostActs?: LoadResult['hostActs'];
  extra: unknown;
  /** The province's totals as the server has them at the end. */
  attendance: { delegates: number; checkedIn: number; connected: number };
  cluster: ClusterHandle | undefined;
  /** The simulcast hall's per-layer counters at the end (undefined for the light hall). */
  hall?: HallLayerStats[] | undefined;
  /** Points on the impaired link (--impair). */
  impaired?: Set<string> | undefined;
  /** The SFU's video stops from the servers' logs (./server-log.ts), or why there are none. */
  sfuVideo: SfuVideoLog;
  /** When they were read (epoch ms): the end of a stop or silence still going on then. */
  sfuVideoReadAt: number;
}

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
      healthReportsSent: points.reduce((a, p) => a + p.reportsSent, 0),
      healthReportsFailed: points.reduce((a, p) => a + p.reportsFailed, 0),
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

interface Cost {
  result: LoadResult['cost'];
  cpuPct: Record<string, number>;
  windowSeconds: number;
  /** Packets the workers forwarded to the points over the window (received + lost). */
  forwarded: number;
  avgPacketBytes: number;
}

/** CPU and memory per process over the window, the machine's load and the SFU's cost per packet. */
function costOf(f: RunFacts): Cost {
  const { o, points, steady, probes } = f;
  const { windowSeconds } = steady;
  const [p0, p1] = steady.procs;
  const [m0, m1] = steady.machine;
  const [packets0, packets1] = steady.packets;
  const cpuPct: Record<string, number> = {};
  const rssMiB: Record<string, number> = {};
  for (const k of Object.keys(p1)) {
    const c = cpuBetween(p0[k], p1[k], windowSeconds);
    cpuPct[k] = round(c.cpuPct, 1);
    rssMiB[k] = round(c.rssBytes / 2 ** 20, 0);
  }
  const workerCpu = probes.workerKeys.reduce((a, k) => a + (cpuPct[k] ?? 0), 0);
  cpuPct.workersTotal = round(workerCpu, 1);
  const machineBusyPct = ((m1.busy - m0.busy) / windowSeconds) * 100;
  const ours = Object.entries(cpuPct)
    .filter(([k]) => k !== 'workersTotal')
    .reduce((a, [, v]) => a + (Number.isFinite(v) ? v : 0), 0);
  const otherPct = machineBusyPct - ours;
  const forwarded = packets1.received + packets1.lost - (packets0.received + packets0.lost);
  const workerCpuSeconds = (workerCpu / 100) * windowSeconds;
  const sfuUsPerPacket = forwarded > 0 ? (workerCpuSeconds / forwarded) * 1e6 : NaN;
  const avgPacketBytes =
    packets1.received > packets0.received
      ? (packets1.bytes - packets0.bytes) / (packets1.received - packets0.received)
      : 0;
  const floor = o.floor && o.media && avgPacketBytes > 0 ? measureFloor(avgPacketBytes, true) : undefined;
  const serverPlusWorkers = probes.processes.reduce((a, p) => a + (rssMiB[p.key] ?? 0), 0);
  const serverPlusWorkersPeak = probes.processes.reduce((a, p) => a + (p1[p.key]?.peakRssBytes ?? 0), 0) / 2 ** 20;
  const consumers = points.reduce((a, p) => a + p.streams().filter((st) => st.received > 0).length, 0);
  const result: LoadResult['cost'] = {
    windowSeconds: round(windowSeconds, 1),
    cpuPct,
    rssMiB,
    machineBusyPct: round(machineBusyPct, 1),
    otherPct: round(otherPct, 1),
    alone: otherPct < 15,
    udpRcvbufErrors: steady.udpRcvbufErrors[1] - steady.udpRcvbufErrors[0],
    sfuUsPerPacket: round(sfuUsPerPacket, 2),
    floor,
    floorGcmUsPerPacket: floor && 'protectSendUs' in floor ? floor.protectSendUs : undefined,
    serverPlusWorkersRssMiB: round(serverPlusWorkers, 0),
    serverPlusWorkersPeakRssMiB: round(serverPlusWorkersPeak, 0),
    perConsumer: consumers
      ? {
          consumers,
          workerCpuPct: round(workerCpu / consumers, 4),
          workerRssKiB: round((probes.workerKeys.reduce((a, k) => a + (rssMiB[k] ?? 0), 0) * 1024) / consumers, 0),
        }
      : undefined,
  };
  return { result, cpuPct, windowSeconds, forwarded, avgPacketBytes };
}

/** The pipe hop: the origin's workers against the edges', the pipes' rates, points per node. */
function clusterOf(f: RunFacts, cluster: ClusterHandle, cost: Cost): ClusterResult {
  const { workerKeys, nodeLoopP99 } = f.probes;
  const { cpuPct, windowSeconds, forwarded, avgPacketBytes } = cost;
  const [feeds0, feeds1] = f.steady.feeds;
  const pct = (prefix: string) =>
    workerKeys.filter((k) => k.startsWith(`${prefix}.`)).reduce((a, k) => a + (cpuPct[k] ?? 0), 0);
  const originWorkersPct = pct(cluster.origin.name);
  const edgeWorkersPct = cluster.edges.reduce((a, e) => a + pct(e.name), 0);
  const pipePacketBytes = Math.max(1, avgPacketBytes - 16);
  const pipes = cluster.edges.map((e) => {
    const bps = ((feeds1.get(e.name) ?? 0) - (feeds0.get(e.name) ?? 0)) / f.steady.feedsSeconds;
    return { edge: e.name, bytesPerSecond: round(bps, 0), packetsPerSecondEst: round(bps / pipePacketBytes, 0) };
  });
  const piped = pipes.reduce((a, p) => a + p.packetsPerSecondEst, 0) * windowSeconds;
  const pointsPerNode: Record<string, number> = {};
  for (const p of f.points) {
    const n = cluster.nodes.find((x) => x.baseUrl === p.nodeUrl)?.name ?? p.nodeUrl;
    pointsPerNode[n] = (pointsPerNode[n] ?? 0) + 1;
  }
  return {
    nodes: cluster.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      url: n.baseUrl,
      pid: n.pid,
      workers: workerKeys.filter((k) => k.startsWith(`${n.name}.`)).length,
    })),
    pointsPerNode,
    moves: f.points.reduce((a, p) => a + p.moves, 0),
    originWorkersPct: round(originWorkersPct, 1),
    edgeWorkersPct: round(edgeWorkersPct, 1),
    edgeUsPerForwardedPacket: round(
      forwarded > 0 ? (((edgeWorkersPct / 100) * windowSeconds) / forwarded) * 1e6 : NaN,
      2,
    ),
    originUsPerPipedPacket: round(piped > 0 ? (((originWorkersPct / 100) * windowSeconds) / piped) * 1e6 : NaN, 2),
    pipes,
    eventLoopP99MaxMs: Object.fromEntries([...nodeLoopP99.entries()].map(([k, v]) => [k, round(Math.max(0, ...v), 1)])),
  };
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
function mediaOf(f: RunFacts, avgPacketBytes: number): { media: LoadResult['media']; starved: string[] } {
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
    watchdog: {
      drilled: f.drilled.map((p) => p.o.pointId),
      rebuilds: points.reduce((a, p) => a + p.watchdogRebuilds.length, 0),
      strikes: points.reduce((a, p) => a + p.watchdog.stalls, 0),
      points: points
        .filter((p) => p.watchdogRebuilds.length > 0)
        .map((p) => ({
          pointId: p.o.pointId,
          rebuilds: p.watchdogRebuilds,
          // The current receiver got decryptable video: the rebuild cured it.
          receivingAfter: [...(p.receiver?.streams.values() ?? [])].some((s) => s.kind === 'video' && s.decrypted > 0),
        })),
    },
  };
  return { media, starved };
}
