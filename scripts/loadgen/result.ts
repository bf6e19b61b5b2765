// The shape of a load run's result: the JSON the CLI writes (docs/results keeps past
// ones) and the integration test reads. Assembled by ./assemble.ts.
import type { FloorResult } from './floor';
import type { LoadOptions } from './options';
import type { WatchdogRebuild } from './point';

export interface LoadResult {
  startedAt: string;
  options: Omit<LoadOptions, 'log' | 'admin'>;
  machine: { cores: number; memGiB: number; loadBefore: number[]; loadAfter: number[]; node: string };
  points: { requested: number; signalled: number; receivingVideo: number; withKeyFrame: number; starved: string[] };
  join: { storm: boolean; allKeyFramesWithinMs: number; p50: number; p95: number; max: number };
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
      rebuilds: number;
      strikes: number;
      points: { pointId: string; rebuilds: WatchdogRebuild[]; receivingAfter: boolean }[];
    };
  };
  cost: {
    windowSeconds: number;
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
    /** Per consumer (each stream a point receives): the workers' CPU and RSS divided among them. */
    perConsumer: { consumers: number; workerCpuPct: number; workerRssKiB: number } | undefined;
  };
  signalling: {
    /** The generator's own event-loop delay: client-side latencies below include it. */
    generatorLoopP99Ms: number;
    eventLoopP99Ms: { max: number; median: number; windows: number };
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
