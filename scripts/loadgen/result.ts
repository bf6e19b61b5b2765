// The shape of a load run's result: the JSON the CLI writes (docs/results keeps past
// ones) and the integration test reads. Assembled by ./assemble.ts.
import type { FloorResult } from './floor';
import type { HostActsResult } from './host-acts';
import type { LoadOptions } from './options';
import type { RebuildReason, WatchdogRebuild } from './point-watch';
import type { FeedbackCounts } from './point-feedback';
import type { HallLayerStats } from './simulcast-hall';
import type { ImpairSpec } from './impair';
import type { JoinStages, PointStages } from './join-stages';
import type { ChromiumJoin } from './chromium-points';
import type { LossSources } from './loss-sources';
import type { VideoStopsResult } from './video-stops';
import type { SharedSilences } from './watch-judge';

export interface ImpairedGroup {
  points: number;
  /** Audio and video, after recovery. */
  lossPct: { p50: number; p95: number; worst: number };
  /** Video alone (NACKed), after recovery. */
  videoLossPct: { p50: number; p95: number; worst: number };
  freezes: { p50: number; p95: number; worst: number };
  freezeMsP95: number;
  nackedPackets: number;
  recovered: number;
  unrecovered: number;
  plisSent: number;
  /** RTX packets read, and those that filled a NACKed hole; RTX packets per point. */
  rtxPackets: number;
  rtxRecovered: number;
  /** RTX packets skipped before the decrypt: their original packet was already here. */
  rtxSkippedUnverified: number;
  rtxPerPoint: { p50: number; worst: number };
}

export interface LoadResult {
  startedAt: string;
  options: Omit<LoadOptions, 'log' | 'admin'>;
  machine: { cores: number; memGiB: number; loadBefore: number[]; loadAfter: number[]; node: string };
  points: {
    requested: number;
    signalled: number;
    receivingVideo: number;
    withKeyFrame: number;
    starved: string[];
    /**
     * The points whose media went over ICE-TCP (options.tcpShare): how many, how many of
     * them received video, and their SRTP checks.
     */
    /** consentLost: links closed after 30 s without a consent check answered (each rejoined). */
    tcp: { points: number; receivingVideo: number; decrypted: number; authFailures: number; consentLost: number };
  };
  join: {
    storm: boolean;
    allKeyFramesWithinMs: number;
    p50: number;
    p95: number;
    max: number;
    /** Each step of the points' joins, ms after each point's start (assemble.ts joinPhases). */
    phases: Record<string, { p50: number; p95: number; max: number }>;
    /**
     * The storm in stages (./join-stages.ts): ms since the storm's start at which each
     * point's first join reached each stage (rejoins left out), over the points that did.
     */
    stages: JoinStages;
    /** The same per point, in the order they joined. */
    stagesByPoint: PointStages[];
    /** Real Chromium pages joining inside the storm (options.chromiumPoints), if any. */
    chromium?: ChromiumJoin | undefined;
    /** The most DTLS handshakes the generator had in progress at once (options.dtlsConcurrency). */
    dtlsAtOnceMax: number;
  };
  media: {
    packetsReceived: number;
    packetsLost: number;
    decrypted: number;
    authFailures: number;
    srtpProfile: string;
    lossPct: { p50: number; p95: number; worst: number; pointsOver1Pct: number };
    jitterMs: {
      video: { p50: number; p95: number; worst: number };
      audio: { p50: number; p95: number; worst: number };
    };
    maxGapMs: { p95: number; worst: number };
    /**
     * Browser-like points: the RTCP they sent (transport-cc, receiver reports, NACK, PLI)
     * and the recovery (packets recovered after a NACK, given up), freezes per point.
     * The loss figures above are after recovery. Undefined for silent points.
     */
    feedback?:
      | {
          totals: FeedbackCounts;
          freezesPerPoint: { p50: number; p95: number; worst: number };
          freezeMsPerPoint: { p50: number; p95: number; worst: number };
          pointsWithFreezes: number;
          /** RTX packets read per point (retransmissions on the consumers' RTX streams; 0 with --no-rtx). */
          rtxPerPoint: { p50: number; p95: number; worst: number };
          pointsWithRtx: number;
        }
      | undefined;
    /**
     * Where the loss went: per kind, before and in the steady state, against the kernel's
     * drops on the points' sockets (from the join's start), the receiver's own drops and
     * the read lag at each gap (over 2 s: past the SFU's NACK window). See ./loss-sources.ts.
     */
    lossSources?: LossSources | undefined;
    /** The simulcast hall's layers as it sent them (key frames, PLIs and FIRs answered, NACKs). */
    hall?: HallLayerStats[] | undefined;
    /** --impair: the points on the lossy link against the others (loss after recovery, freezes). */
    impaired?: { spec: ImpairSpec; pointIds: string[]; impaired: ImpairedGroup; others: ImpairedGroup } | undefined;
    /**
     * Each point's longest gap over 250 ms: its stream, when it ended (ms after the join
     * started), and the sequence and RTP timestamp steps across it (a step of one packet
     * and one frame: the packets were late to be read, not missing from the stream).
     */
    gaps: {
      pointId: string;
      node: string;
      kind: 'audio' | 'video';
      ms: number;
      endedAtMs: number;
      seqStep: number;
      rtpMs: number;
      cause: 'wire' | 'generator' | 'late';
    }[];
    /**
     * The points' silences of the hall's video over 1 s matched, point by point, to the
     * SFU's own stops ("SFU sends a point no video layer" … "video again" in the server's
     * log, ./video-stops.ts): how many overlap a stop (within 500 ms), the others listed,
     * the stops with no silence, the estimates at the stops. Not available when the run
     * did not start the server (no log to read) or it logged above info.
     */
    videoStops: VideoStopsResult;
    /** Per point, the largest RTP timestamp step between packets in sequence: silence on the wire. */
    wireGapMs: { p95: number; worst: number };
    /**
     * Points whose only silence over a second was the generator's own stall (cause
     * `generator` in gaps): not starved, listed apart.
     */
    readDelayed: string[];
    /** When the hall's source started sending, ms after the join started (the clip loops from there). */
    sourceStartedAtMs: number | null;
    packetsPerSecond: number;
    avgPacketBytes: number;
    rejoins: number;
    disconnects: number;
    /** Streams none of whose sampled packets ever authenticated, with the receiver's diagnosis. */
    undecryptable: {
      pointId: string;
      kind: string;
      ssrc: number;
      firstSeq: number;
      received: number;
      authFailures: number;
      diagnosis: string | null;
    }[];
    /**
     * The media watchdog (as on the page): rebuilds of a point's transport and consumers
     * after its hall media stalled with socket and ICE up, and the points that needed one,
     * with what their stalled streams had seen. A workaround, not a cause: keep it visible.
     */
    watchdog: {
      /** Points stalled on purpose by the drill (--stall): not the product's failure. */
      drilled: string[];
      /**
       * Of those, the points that left and rejoined (churn, a cut, a move) before their
       * watchdog fired: the rejoin's transport is not stalled, so the drill did not apply
       * to them, and they count neither as rebuilt nor as missed.
       */
      drillLeft: string[];
      rebuilds: number;
      /** The rebuilds by reason (see RebuildReason). */
      reasons: Record<RebuildReason, number>;
      strikes: number;
      /**
       * Silence the watchdogs did not count, summed over the points (ms, while a point's
       * watched track made no progress): the generator's loop was behind, or most other
       * watched points read nothing either while the generator was saturated, at most
       * 30 s in a row (scripts/loadgen/watch-judge.ts).
       */
      held: { generatorBehindMs: number; peersSilentMs: number };
      /** The time the generator's loop was behind over the run (ms); null when not measured. */
      loopBehindMs: number | null;
      /** The silences most watched points shared (see SharedSilences). */
      sharedSilences: SharedSilences;
      points: { pointId: string; rebuilds: WatchdogRebuild[]; receivingAfter: boolean }[];
    };
  };
  cost: {
    windowSeconds: number;
    /**
     * Of windowSeconds, the time the steady state ran past its planned end waiting for the
     * drilled points' rebuild (--stall, up to 60 s): no host action, churn or `during`
     * task then, only the points' media and health reports; 0 when it did not wait.
     */
    drillWaitSeconds: number;
    cpuPct: Record<string, number>;
    rssMiB: Record<string, number>;
    machineBusyPct: number;
    otherPct: number;
    alone: boolean;
    /** Datagrams the kernel dropped for full receive buffers (the generator not keeping up). */
    udpRcvbufErrors: number;
    sfuUsPerPacket: number;
    floor: FloorResult | { error: string } | undefined;
    floorGcmUsPerPacket: number | undefined;
    serverPlusWorkersRssMiB: number;
    /** The same, each process at its highest over its life (VmHWM), summed: an upper bound. */
    serverPlusWorkersPeakRssMiB: number;
    /** Per consumer (each stream a point receives): the workers' CPU and RSS divided among them. */
    perConsumer: { consumers: number; workerCpuPct: number; workerRssKiB: number } | undefined;
  };
  signalling: {
    /**
     * The generator's event loop late by over 200 ms, and its GC pauses over 200 ms, over
     * the whole run (ms after the join started): points' packets wait in their sockets
     * meanwhile, and are read as a gap.
     */
    generatorPauses: { stalls: { atMs: number; ms: number }[]; gc: { atMs: number; ms: number; kind: number }[] };
    /** The generator's own event-loop delay: client-side latencies below include it. */
    generatorLoopP99Ms: number;
    eventLoopP99Ms: { max: number; median: number; windows: number };
    /** The server's event-loop p50 per 5 s window (/metrics): the median and worst window. */
    eventLoopP50Ms: { max: number; median: number; windows: number };
    eventLoopMaxMs: number;
    healthAckMs: { n: number; p50: number; p95: number; p99: number; max: number };
    healthReportsSent: number;
    healthReportsFailed: number;
    monitorDeltaMs: { n: number; p50: number; p95: number; p99: number; max: number };
    monitorDeltas: number;
  };
  checkins: {
    requested: number;
    ok: number;
    failed: number;
    already: number;
    errors: Record<string, number>;
    windowSeconds: number;
    burst: boolean;
    getMs: { n: number; p50: number; p95: number; p99: number; max: number };
    postMs: { n: number; p50: number; p95: number; p99: number; max: number };
    totalMs: { n: number; p50: number; p95: number; p99: number; max: number };
    tookSeconds: number;
  };
  attendance: {
    sentHeadcount: number;
    sentCheckins: number;
    serverDelegates: number;
    serverCheckedIn: number;
    serverConnected: number;
    match: boolean;
  };
  /** The host's actions (options.hostActs): agenda moves, the floor handed over and back. */
  hostActs?: HostActsResult;
  /** Cluster mode only. */
  cluster?: ClusterResult;
  extra?: unknown;
  errors: string[];
}

export interface ClusterResult {
  nodes: { name: string; role: string; url: string; pid: number | undefined; workers: number }[];
  /** Points whose socket and media ended on each node. */
  pointsPerNode: Record<string, number>;
  /** Points the cluster moved to another node during the run. */
  moves: number;
  /** CPU (% of one core) of the origin's workers (ingest + feeding the pipes) and of the edges' (fan-out). */
  originWorkersPct: number;
  edgeWorkersPct: number;
  /** Edge worker CPU per packet forwarded to a point. */
  edgeUsPerForwardedPacket: number;
  /** Origin worker CPU per packet sent into a pipe (the ingest's receive included). */
  originUsPerPipedPacket: number;
  /**
   * Per edge: RTP bytes/s arriving through its pipe (the edge's feed counter) and packets/s
   * estimated from it with the points' average packet size less the 16-byte GCM tag.
   */
  pipes: { edge: string; bytesPerSecond: number; packetsPerSecondEst: number }[];
  /** Each node's event-loop p99 (max of the 5 s windows). */
  eventLoopP99MaxMs: Record<string, number>;
}
