// What a load run measured, as the run hands it to ./assemble.ts: the steady state's
// window (CPU, memory, packets, pipe counters), every virtual point, the signalling
// latencies, the check-ins and the attendance totals the server reports.
import type { IntervalHistogram } from 'node:perf_hooks';
import type { ClusterHandle } from './cluster';
import type { LoadOptions } from './options';
import type { VirtualPoint } from './point';
import type { MonitorTimer, ServerProbes } from './probes';
import type { MachineSample, ProcSample } from './procstat';
import type { SocketDropWatch } from './loss-sources';
import type { ChromiumJoin } from './chromium-points';
import type { GeneratorPauses } from './stalls';
import type { SharedSilences } from './watch-judge';
import type { LoadResult } from './result';
import type { HallLayerStats } from './simulcast-hall';
import type { Reservoir } from './stats';
import type { SfuVideoLog } from './server-log';

export interface PacketCount {
  received: number;
  lost: number;
  bytes: number;
}

/** The steady state's window: samples at its start (0) and end (1). */
export interface SteadyWindow {
  windowSeconds: number;
  /**
   * Of the window, the seconds it ran past its planned end waiting for the drilled
   * points' rebuild (--stall on a generator behind; 0 when it did not wait).
   */
  drillWaitSeconds: number;
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
  /** The time the generator's loop was behind over the run (ms), as the watchdogs discount it (./watch-judge.ts). */
  loopBehindMs?: number | undefined;
  /** The silences most watched points shared (the run's WatchFleet). */
  sharedSilences?: SharedSilences | undefined;
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
