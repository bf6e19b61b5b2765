// What a load run reads while it plays: the `/monitor` client timing its deltas against
// the health reports' markers, the CPU and memory of every server-side process (/proc),
// the servers' event-loop lag (/metrics) and, in a cluster, the edges' pipe counters.
import type { ChildProcess } from 'node:child_process';
import type { MonitorSocket } from '../../client/src/net/sockets';
import type { ClusterHandle } from './cluster';
import { httpJson } from './http';
import { childrenNamed, readProc, type ProcSample } from './procstat';
import { Reservoir } from './stats';

/**
 * Times the monitor's deltas: each health report carries a marker (its rttMs); a delta
 * that shows a point's marker is timed against when that report was sent. `keyOf` maps
 * a marker to what the watcher sees of it (the monitor page shows the RTT rounded).
 */
export class MonitorTimer {
  readonly deltaMs = new Reservoir();
  deltas = 0;
  readonly #markers = new Map<string, Map<number, number>>();

  constructor(private readonly keyOf: (marker: number) => number = (m) => m) {}

  /** Listens to the deltas of a `/monitor` socket watching the session. */
  attach(monitor: MonitorSocket): void {
    monitor.on('delta', (d) => {
      this.deltas += 1;
      const at = Date.now();
      for (const t of d.points) if (t.rttMs !== null) this.seen(t.id, t.rttMs, at);
    });
  }

  /** A point's tile showed `marker` at `at`: timed once, if that report was sent here. */
  seen(pointId: string, marker: number, at: number): void {
    const m = this.#markers.get(pointId);
    const key = this.keyOf(marker);
    const sent = m?.get(key);
    if (sent === undefined) return;
    this.deltaMs.add(at - sent);
    m!.delete(key);
  }

  /** A point sent a report with `marker` at `at` (the last 8 per point are kept). */
  readonly onReportSent = (pointId: string, marker: number, at: number): void => {
    let m = this.#markers.get(pointId);
    if (!m) this.#markers.set(pointId, (m = new Map()));
    m.set(this.keyOf(marker), at);
    if (m.size > 8) m.delete(m.keys().next().value!);
  };
}

/**
 * Server-side processes: one server, or every node of the cluster (key `<node>`, its
 * workers `<node>.worker<i>`) and their Redis; and their event-loop lag.
 */
export class ServerProbes {
  readonly processes: { key: string; pid: number }[] = [];
  readonly workerKeys: string[] = [];
  /** Event-loop p99 and p50 of each /metrics window (prom-client resets at every scrape). */
  loopP99: number[] = [];
  loopP50: number[] = [];
  loopMax = 0;
  readonly nodeLoopP99 = new Map<string, number[]>();

  constructor(
    private readonly base: string,
    private readonly cluster: ClusterHandle | undefined,
    serverPid: number | undefined,
    private readonly ffmpeg: () => ChildProcess | undefined,
    private readonly hall: () => ChildProcess | undefined = () => undefined,
  ) {
    if (cluster) {
      for (const n of cluster.nodes) this.#addNode(n.name, n.pid);
      if (cluster.redisPid) this.processes.push({ key: 'redis', pid: cluster.redisPid });
    } else this.#addNode('server', serverPid);
  }

  #addNode(key: string, pid: number | undefined): void {
    if (!pid) return;
    this.processes.push({ key, pid });
    childrenNamed(pid, 'mediasoup-worker').forEach((w, i) => {
      const k = key === 'server' ? `worker${i}` : `${key}.worker${i}`;
      this.processes.push({ key: k, pid: w });
      this.workerKeys.push(k);
    });
    childrenNamed(pid, 'redis-server').forEach((r, i) =>
      this.processes.push({ key: i ? `redis${i}` : 'redis', pid: r }),
    );
  }

  /** A /proc sample of every process, the generator, ffmpeg and the simulcast hall included. */
  procs(): Record<string, ProcSample | undefined> {
    const out: Record<string, ProcSample | undefined> = {};
    for (const p of this.processes) out[p.key] = readProc(p.pid);
    out.generator = readProc(process.pid);
    const ffmpeg = this.ffmpeg();
    if (ffmpeg?.pid) out.ffmpeg = readProc(ffmpeg.pid);
    const hall = this.hall();
    if (hall?.pid) out.hall = readProc(hall.pid);
    return out;
  }

  /** Reads one window of event-loop lag from the server (and from each cluster node). */
  async scrape(): Promise<void> {
    const own = await scrapeOne(this.base);
    if (own?.p99 !== undefined) this.loopP99.push(own.p99);
    if (own?.p50 !== undefined) this.loopP50.push(own.p50);
    if (own?.max !== undefined) this.loopMax = Math.max(this.loopMax, own.max);
    for (const n of this.cluster?.nodes ?? []) {
      if (n.baseUrl === this.base) {
        if (own?.p99 !== undefined) this.#nodeWindows(n.name).push(own.p99);
        continue;
      }
      const m = await scrapeOne(n.baseUrl);
      if (m?.p99 !== undefined) this.#nodeWindows(n.name).push(m.p99);
    }
  }

  /** Forgets the windows read so far (those of the join), keeping the steady state's. */
  resetLoop(): void {
    this.loopP99.length = 0;
    this.loopP50.length = 0;
    this.loopMax = 0;
    this.nodeLoopP99.clear();
  }

  #nodeWindows(name: string): number[] {
    return this.nodeLoopP99.get(name) ?? this.nodeLoopP99.set(name, []).get(name)!;
  }

  /** The edges' pipe counters (RTP bytes received from the origin for the session), from the registry. */
  async feeds(cookie: string, sessionId: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!this.cluster) return out;
    const r = await httpJson<{ id: string; role: string; feeds?: Record<string, { bytes: number }> }[]>(
      `${this.base}/cluster/v1/nodes`,
      { cookie, timeoutMs: 5000 },
    ).catch(() => undefined);
    if (r?.status !== 200 || !Array.isArray(r.body)) return out;
    for (const n of r.body) if (n.role === 'edge') out.set(n.id, n.feeds?.[sessionId]?.bytes ?? 0);
    return out;
  }
}

async function scrapeOne(
  url: string,
): Promise<{ p99: number | undefined; p50: number | undefined; max: number | undefined } | undefined> {
  const r = await httpJson<string>(`${url}/metrics`, { timeoutMs: 5000 }).catch(() => undefined);
  if (!r || typeof r.body !== 'string') return undefined;
  const text = r.body;
  const ms = (name: string) => {
    const m = new RegExp(`^nodejs_eventloop_lag_${name}_seconds(?:\\{[^}]*\\})? ([\\d.e+-]+)`, 'm').exec(text);
    return m ? Number(m[1]) * 1000 : undefined;
  };
  return { p99: ms('p99'), p50: ms('p50'), max: ms('max') };
}
