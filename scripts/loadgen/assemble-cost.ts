// What the run cost: CPU and memory per process over the steady state's window, the
// machine's load, the SFU's cost per packet and, in a cluster, the pipe hop.
import type { ClusterHandle } from './cluster';
import { measureFloor } from './floor';
import { cpuAndRss } from './procstat';
import type { ClusterResult, LoadResult } from './result';
import type { RunFacts } from './run-facts';
import { round } from './stats';

export interface Cost {
  result: LoadResult['cost'];
  cpuPct: Record<string, number>;
  windowSeconds: number;
  /** Packets the workers forwarded to the points over the window (received + lost). */
  forwarded: number;
  avgPacketBytes: number;
}

/** CPU and memory per process over the window, the machine's load and the SFU's cost per packet. */
export function costOf(f: RunFacts): Cost {
  const { o, points, steady, probes } = f;
  const { windowSeconds } = steady;
  const [p0, p1] = steady.procs;
  const [m0, m1] = steady.machine;
  const [packets0, packets1] = steady.packets;
  const { cpuPct, rssMiB } = cpuAndRss(p0, p1, windowSeconds);
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
    drillWaitSeconds: round(steady.drillWaitSeconds, 1),
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
export function clusterOf(f: RunFacts, cluster: ClusterHandle, cost: Cost): ClusterResult {
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
