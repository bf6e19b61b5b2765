// One load run against an orchestrator (started here, or already running): the briefing
// prepared through the REST API, the virtual host publishing through `ingest:plain`,
// N virtual points joining (storm or ramp), delegate check-ins through the real QR
// token and /api/v1/checkin, a `/monitor` client timing its deltas, and the cost of
// every process read from /proc. Returns the result; the CLI (scripts/loadgen.ts) and
// the integration test call this.
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import { lostOf } from './receiver';
import { VirtualPoint, type WatchdogRebuild } from './point';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  cpuBetween,
  childrenNamed,
  loadAverage,
  readMachine,
  readProc,
  udpRcvbufErrors,
  type ProcSample,
} from './procstat';
import { DEFAULT_SOURCE, preparedClip, startReplay } from './source';
import { measureFloor, type FloorResult } from './floor';
import { Reservoir, percentile, round, summarize } from './stats';
import { httpJson, must, sleep } from './http';
import { spawnServer, type ServerHandle } from './spawn';
import { startCluster, type ClusterHandle, type ClusterSpec } from './cluster';

export interface LoadOptions {
  /** Base URL of a running orchestrator; when unset one is started (`server/main.ts`). */
  url?: string;
  /** Its process id, for CPU and memory (found from the workers when spawned). */
  serverPid?: number;
  admin: { username: string; password: string };
  points: number;
  /** Seconds of steady state after the join (the check-in window extends it). */
  duration: number;
  /** Join all at once, or `rate` points per second. */
  join: { mode: 'storm' } | { mode: 'ramp'; rate: number };
  checkins: number;
  checkinWindow: number;
  checkinBurst: boolean;
  media: boolean;
  decryptEvery: number;
  workers: number;
  /** Cut this many points' sockets once in the middle of the run (they must rejoin). */
  cut: number;
  /**
   * The watchdog drill: this many points (the last ones) stop counting their media at the
   * start of the steady state, socket and ICE untouched, as issue 6's black point did;
   * their watchdog must rebuild them. Listed as drilled in the result.
   */
  stall?: number;
  monitor: boolean;
  floor: boolean;
  /** Progress lines (stderr); silent when undefined. */
  log?: (line: string) => void;
  /** Hard limit on the whole run (s). */
  maxSeconds: number;
  /** Where a spawned server keeps Redis' data (a temp dir by default, removed after). */
  dataDir?: string;
  /**
   * Cluster mode: spawn Redis, an origin, `edges` edges and a control server instead of
   * one server; the points find their edge through the control server.
   */
  cluster?: ClusterSpec;
  /** Extra environment for a spawned server. */
  serverEnv?: Record<string, string>;
  /** Runs beside the steady state (e.g. a browser on /monitor); its answer lands in `extra`. */
  during?: (ctx: { baseUrl: string; sessionId: string; admin: LoadOptions['admin'] }) => Promise<unknown>;
}

export const DEFAULTS: LoadOptions = {
  admin: { username: 'loadgen-admin', password: 'loadgen-password-1234' },
  points: 420,
  duration: 120,
  join: { mode: 'storm' },
  checkins: 0,
  checkinWindow: 600,
  checkinBurst: false,
  media: true,
  decryptEvery: 10,
  workers: os.cpus().length,
  cut: 0,
  monitor: true,
  floor: true,
  maxSeconds: 3600,
};

function startServer(o: LoadOptions, log: (l: string) => void): Promise<ServerHandle> {
  return spawnServer(
    {
      name: 'server',
      env: o.serverEnv ?? {},
      dataDir: o.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'loadgen-data-')),
      removeDataDir: !o.dataDir,
      workers: o.workers,
      admin: o.admin,
      appSecret: randomBytes(32).toString('hex'),
    },
    log,
  );
}

// ── result shape ──

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

// ── the run ──

export async function runLoad(opts: Partial<LoadOptions> = {}): Promise<LoadResult> {
  const o: LoadOptions = { ...DEFAULTS, ...opts };
  const log = o.log ?? (() => undefined);
  const hardDeadline = Date.now() + o.maxSeconds * 1000;
  const errors: string[] = [];
  const startedAt = new Date().toISOString();
  const loadBefore = loadAverage();

  let cluster: ClusterHandle | undefined;
  if (o.cluster && !o.url) cluster = await startCluster(o.cluster, o.admin, log);
  const server: ServerHandle = cluster
    ? { baseUrl: cluster.control.baseUrl, pid: undefined, stop: cluster.stop }
    : o.url
      ? { baseUrl: o.url.replace(/\/$/, ''), pid: o.serverPid, stop: async () => undefined }
      : await startServer(o, log);
  // REST, the monitor and the points' first question go to `base` (the control server in
  // a cluster); the host publishes on the origin.
  const base = server.baseUrl;
  const hostBase = cluster?.origin.baseUrl ?? base;
  let ffmpeg: ChildProcess | undefined;
  let host: Socket | undefined;
  let monitor: Socket | undefined;
  const points: VirtualPoint[] = [];
  const agents: http.Agent[] = [];
  try {
    // Log in and prepare the briefing through the API, as the host console does.
    const login = await must(httpJson(`${base}/api/v1/auth/login`, { method: 'POST', body: o.admin }), 'login');
    const cookie = ([] as string[])
      .concat(login.headers['set-cookie'] ?? [])
      .map((c) => c.split(';')[0])
      .join('; ');
    const registry = await must(
      httpJson<{ items: { id: string; expectedDelegates: number; district?: string | null }[]; total: number }>(
        `${base}/api/v1/points?limit=500`,
        { cookie },
      ),
      'points',
    );
    // In a cluster a district's points share an edge: a small run takes points from each
    // district in turn so that every edge gets some.
    const chosen = (cluster ? byDistrictInTurn(registry.body.items) : registry.body.items).slice(0, o.points);
    if (chosen.length < o.points) throw new Error(`the registry has ${chosen.length} points, ${o.points} asked`);
    const now = Date.now();
    const created = await must(
      httpJson<{ id: string }>(`${base}/api/v1/sessions`, {
        method: 'POST',
        cookie,
        body: {
          title: `Tải thử ${o.points} điểm cầu · load test`,
          scheduledStart: new Date(now + 30 * 60_000).toISOString(),
          plannedEnd: new Date(now + 180 * 60_000).toISOString(),
          agenda: [
            {
              title: 'Quán triệt Nghị quyết 05-NQ/TU',
              speaker: 'Lê Ngọc Châu',
              role: 'Phó Chủ tịch UBND tỉnh',
              plannedMinutes: 30,
            },
          ],
          invite:
            o.points === registry.body.total ? { mode: 'all' } : { mode: 'points', pointIds: chosen.map((p) => p.id) },
        },
      }),
      'create session',
    );
    const sessionId = created.body.id;
    await must(httpJson(`${base}/api/v1/sessions/${sessionId}/schedule`, { method: 'POST', cookie }), 'schedule');
    await must(
      httpJson(`${base}/api/v1/sessions/${sessionId}/open-lobby`, { method: 'POST', cookie }),
      'open-lobby',
      [200, 409],
    );
    await must(httpJson(`${base}/api/v1/sessions/${sessionId}/start`, { method: 'POST', cookie }), 'start');
    const links = await must(
      httpJson<{ items: { pointId: string; token: string }[] }>(
        `${base}/api/v1/sessions/${sessionId}/links?limit=500`,
        { cookie },
      ),
      'links',
    );
    const tokenOf = new Map(links.body.items.map((l) => [l.pointId, l.token]));
    log(`session ${sessionId} live with ${chosen.length} points`);

    // The virtual host: `/host` socket, plain ingest, ffmpeg.
    if (o.media) {
      const clip = preparedClip();
      host = await socketOf(hostBase, '/host', { cookie });
      await ask(host, 'host:attach', { sessionId });
      const vSsrc = 11111111 + Math.floor(Math.random() * 1000);
      const aSsrc = vSsrc + 1000;
      const ingest = await ask<{
        video?: { ip: string; port: number; rtcpPort?: number };
        audio?: { ip: string; port: number; rtcpPort?: number };
      }>(host, 'ingest:plain', {
        video: { ssrc: vSsrc, payloadType: 101 },
        audio: { ssrc: aSsrc, payloadType: 100 },
        // ffmpeg's RTCP leaves from another port than its RTP: with one comedia tuple per
        // transport, whichever came first would win and the other be dropped.
        rtcpMux: false,
      });
      ffmpeg = startReplay(
        clip,
        { ...ingest.video!, rtcpPort: ingest.video!.rtcpPort ?? ingest.video!.port, ssrc: vSsrc, payloadType: 101 },
        { ...ingest.audio!, rtcpPort: ingest.audio!.rtcpPort ?? ingest.audio!.port, ssrc: aSsrc, payloadType: 100 },
      );
      ffmpeg.stderr?.on('data', (d: Buffer) => errors.push(`ffmpeg: ${d.toString().trim().slice(0, 200)}`));
      log(
        `virtual host publishing ${DEFAULT_SOURCE.width}x${DEFAULT_SOURCE.height} VP8 ${DEFAULT_SOURCE.videoKbps} kbps + Opus (ffmpeg pid ${ffmpeg.pid})`,
      );
    }

    // The monitor: snapshot, then deltas timed against the reports' markers.
    const markers = new Map<string, Map<number, number>>();
    const deltaMs = new Reservoir();
    let deltas = 0;
    if (o.monitor) {
      monitor = await socketOf(base, '/monitor', { cookie });
      await ask(monitor, 'monitor:watch', { sessionId });
      monitor.on('delta', (d: { points: { id: string; rttMs: number | null }[] }) => {
        deltas += 1;
        const at = Date.now();
        for (const t of d.points) {
          const m = markers.get(t.id);
          const sent = t.rttMs === null ? undefined : m?.get(t.rttMs);
          if (sent !== undefined) {
            deltaMs.add(at - sent);
            m!.delete(t.rttMs!);
          }
        }
      });
    }
    const onReportSent = (pointId: string, marker: number, at: number) => {
      let m = markers.get(pointId);
      if (!m) markers.set(pointId, (m = new Map()));
      m.set(marker, at);
      if (m.size > 8) m.delete(m.keys().next().value!);
    };

    // Server-side processes: one server, or every node of the cluster (key `<node>`,
    // its workers `<node>.worker<i>`) and their Redis.
    const serverProcs: { key: string; pid: number }[] = [];
    const workerKeys: string[] = [];
    const addNode = (key: string, pid: number | undefined) => {
      if (!pid) return;
      serverProcs.push({ key, pid });
      childrenNamed(pid, 'mediasoup-worker').forEach((w, i) => {
        const k = key === 'server' ? `worker${i}` : `${key}.worker${i}`;
        serverProcs.push({ key: k, pid: w });
        workerKeys.push(k);
      });
      childrenNamed(pid, 'redis-server').forEach((r, i) =>
        serverProcs.push({ key: i ? `redis${i}` : 'redis', pid: r }),
      );
    };
    if (cluster) {
      for (const n of cluster.nodes) addNode(n.name, n.pid);
      if (cluster.redisPid) serverProcs.push({ key: 'redis', pid: cluster.redisPid });
    } else addNode('server', server.pid);
    const procs = (): Record<string, ProcSample | undefined> => {
      const out: Record<string, ProcSample | undefined> = {};
      for (const p of serverProcs) out[p.key] = readProc(p.pid);
      out.generator = readProc(process.pid);
      if (ffmpeg?.pid) out.ffmpeg = readProc(ffmpeg.pid);
      return out;
    };

    // Event loop: prom-client resets its histogram at every scrape, so each scrape is a window.
    const loopP99: number[] = [];
    let loopMax = 0;
    const nodeLoopP99 = new Map<string, number[]>();
    const scrapeOne = async (url: string) => {
      const r = await httpJson<string>(`${url}/metrics`, { timeoutMs: 5000 }).catch(() => undefined);
      if (!r || typeof r.body !== 'string') return undefined;
      const p99 = /^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? ([\d.e+-]+)/m.exec(r.body);
      const max = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([\d.e+-]+)/m.exec(r.body);
      return { p99: p99 ? Number(p99[1]) * 1000 : undefined, max: max ? Number(max[1]) * 1000 : undefined };
    };
    const scrape = async () => {
      const own = await scrapeOne(base);
      if (own?.p99 !== undefined) loopP99.push(own.p99);
      if (own?.max !== undefined) loopMax = Math.max(loopMax, own.max);
      for (const n of cluster?.nodes ?? []) {
        if (n.baseUrl === base) {
          if (own?.p99 !== undefined)
            (nodeLoopP99.get(n.name) ?? nodeLoopP99.set(n.name, []).get(n.name)!).push(own.p99);
          continue;
        }
        const m = await scrapeOne(n.baseUrl);
        if (m?.p99 !== undefined) (nodeLoopP99.get(n.name) ?? nodeLoopP99.set(n.name, []).get(n.name)!).push(m.p99);
      }
    };
    // The edges' pipe counters (RTP bytes received from the origin), from the registry.
    const feeds = async (): Promise<Map<string, number>> => {
      const out = new Map<string, number>();
      if (!cluster) return out;
      const r = await httpJson<{ id: string; role: string; feeds?: Record<string, { bytes: number }> }[]>(
        `${base}/cluster/v1/nodes`,
        { cookie, timeoutMs: 5000 },
      ).catch(() => undefined);
      if (r?.status !== 200 || !Array.isArray(r.body)) return out;
      for (const n of r.body) if (n.role === 'edge') out.set(n.id, n.feeds?.[sessionId]?.bytes ?? 0);
      return out;
    };
    await scrape();

    // Points join.
    const healthAcks = new Reservoir();
    for (const p of chosen) {
      const token = tokenOf.get(p.id);
      if (!token) throw new Error(`no join link for ${p.id}`);
      points.push(
        new VirtualPoint({
          baseUrl: base,
          ...(cluster ? { controlUrl: base } : {}),
          pointId: p.id,
          token,
          headcount: p.expectedDelegates,
          media: o.media,
          decryptEvery: o.decryptEvery,
          healthAcks,
          onReportSent,
          log: () => undefined,
        }),
      );
    }
    const joinT0 = Date.now();
    const storm = o.join.mode === 'storm';
    log(`joining ${points.length} points (${storm ? 'storm' : `ramp ${(o.join as { rate: number }).rate}/s`})`);
    const starting: Promise<void>[] = [];
    for (let i = 0; i < points.length; i++) {
      if (o.join.mode === 'ramp') {
        const due = joinT0 + (i * 1000) / o.join.rate;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      starting.push(points[i]!.start().catch((e: Error) => void errors.push(`${points[i]!.o.pointId}: ${e.message}`)));
    }
    await Promise.all(starting);
    const joinLimit = Date.now() + 60_000;
    const ready = (p: VirtualPoint) => (o.media ? p.firstKeyFrameMs() !== undefined : p.headcountSent > 0);
    for (;;) {
      const n = points.filter(ready).length;
      if (n === points.length || Date.now() > joinLimit || Date.now() > hardDeadline) break;
      await sleep(250);
    }
    const allJoinedMs = Date.now() - joinT0;
    log(`joined: ${points.filter(ready).length}/${points.length} in ${(allJoinedMs / 1000).toFixed(1)} s`);

    // Steady state (check-ins run inside it).
    await sleep(3000);
    const stallCount = o.media ? Math.min(o.stall ?? 0, Math.max(0, points.length - o.cut)) : 0;
    const drilled = stallCount > 0 ? points.slice(-stallCount) : [];
    const steadySeconds = Math.max(
      o.duration,
      o.checkins > 0 && !o.checkinBurst ? o.checkinWindow + 10 : 0,
      // Two strikes of 6 s, the rebuild and a key frame.
      stallCount > 0 ? 26 : 0,
    );
    const steadyT0 = Date.now();
    const m0 = readMachine();
    const p0 = procs();
    const udp0 = udpRcvbufErrors();
    const genLoop = monitorEventLoopDelay({ resolution: 10 });
    genLoop.enable();
    const packets0 = countPackets(points);
    const feeds0 = await feeds();
    const feedsT0 = Date.now();
    await scrape();
    loopP99.length = 0;
    loopMax = 0;
    nodeLoopP99.clear();

    const duringP = o.during
      ? o.during({ baseUrl: base, sessionId, admin: o.admin }).catch((e: Error) => ({ error: e.message }))
      : Promise.resolve(undefined);
    const checkinsP = o.checkins > 0 ? runCheckins(o, base, points, agents, log) : Promise.resolve(undefined);
    const cutAt = steadyT0 + (steadySeconds * 1000) / 2;
    if (stallCount > 0) {
      for (const p of drilled) p.stall();
      log(`stalled ${stallCount} points' media (watchdog drill)`);
    }
    let cutDone = o.cut === 0;
    let prevProcs = p0;
    let prevT = steadyT0;
    let prevPackets = packets0.received;
    const steadyEnd = Math.min(steadyT0 + steadySeconds * 1000, hardDeadline - 30_000);
    while (Date.now() < steadyEnd) {
      await sleep(Math.min(5000, Math.max(0, steadyEnd - Date.now())));
      await scrape();
      if (!cutDone && Date.now() >= cutAt) {
        cutDone = true;
        for (const p of points.slice(0, o.cut)) p.cut();
        log(`cut ${o.cut} points' sockets`);
      }
      const pn = procs();
      const t = Date.now();
      const pk = countPackets(points);
      const secs = (t - prevT) / 1000;
      const cpu = (k: string) => round(cpuBetween(prevProcs[k], pn[k], secs).cpuPct, 0);
      const workers = workerKeys.map((k) => `${cpu(k)}`).join('+');
      const processes = serverProcs
        .filter((p) => !workerKeys.includes(p.key))
        .map((p) => `${p.key}=${cpu(p.key)}`)
        .join(' ');
      log(
        `t=${Math.round((t - steadyT0) / 1000)}s pkts/s=${Math.round((pk.received - prevPackets) / secs)} lost=${pk.lost} ` +
          `cpu% ${processes} workers=${workers} gen=${cpu('generator')} ` +
          `udpDrops=${udpRcvbufErrors() - udp0} genLoopP99=${round(genLoop.percentile(99) / 1e6, 0)}ms ` +
          `loopP99=${round(loopP99[loopP99.length - 1] ?? NaN, 1)}ms healthAckP95=${round(percentile(healthAcks.values, 95), 1)}ms ` +
          `deltaP95=${round(percentile(deltaMs.values, 95), 0)}ms${checkinProgress.line()}`,
      );
      prevProcs = pn;
      prevT = t;
      prevPackets = pk.received;
    }
    const checkins = await checkinsP;
    const extra = await duringP;
    const steadyT1 = Date.now();
    const m1 = readMachine();
    const p1 = procs();
    const udp1 = udpRcvbufErrors();
    genLoop.disable();
    const packets1 = countPackets(points);
    const feeds1 = await feeds();
    const feedsSeconds = (Date.now() - feedsT0) / 1000;
    const windowSeconds = (steadyT1 - steadyT0) / 1000;

    // Attendance totals as the server has them.
    await sleep(1500);
    const att = await must(
      httpJson<{ province: { delegates: number; checkedIn: number; connected: number } }>(
        `${base}/api/v1/attendance/${sessionId}`,
        { cookie },
      ),
      'attendance',
    );

    // Cost.
    const cpuPct: Record<string, number> = {};
    const rssMiB: Record<string, number> = {};
    for (const k of Object.keys(p1)) {
      const c = cpuBetween(p0[k], p1[k], windowSeconds);
      cpuPct[k] = round(c.cpuPct, 1);
      rssMiB[k] = round(c.rssBytes / 2 ** 20, 0);
    }
    const workerCpu = workerKeys.reduce((a, k) => a + (cpuPct[k] ?? 0), 0);
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
    const serverPlusWorkers = serverProcs.reduce((a, p) => a + (rssMiB[p.key] ?? 0), 0);
    const consumers = points.reduce((a, p) => a + p.streams().filter((st) => st.received > 0).length, 0);
    let clusterResult: ClusterResult | undefined;
    if (cluster) {
      const pct = (prefix: string) =>
        workerKeys.filter((k) => k.startsWith(`${prefix}.`)).reduce((a, k) => a + (cpuPct[k] ?? 0), 0);
      const originWorkersPct = pct(cluster.origin.name);
      const edgeWorkersPct = cluster.edges.reduce((a, e) => a + pct(e.name), 0);
      const pipePacketBytes = Math.max(1, avgPacketBytes - 16);
      const pipes = cluster.edges.map((e) => {
        const bps = ((feeds1.get(e.name) ?? 0) - (feeds0.get(e.name) ?? 0)) / feedsSeconds;
        return { edge: e.name, bytesPerSecond: round(bps, 0), packetsPerSecondEst: round(bps / pipePacketBytes, 0) };
      });
      const piped = pipes.reduce((a, p) => a + p.packetsPerSecondEst, 0) * windowSeconds;
      const pointsPerNode: Record<string, number> = {};
      for (const p of points) {
        const n = cluster.nodes.find((x) => x.baseUrl === p.nodeUrl)?.name ?? p.nodeUrl;
        pointsPerNode[n] = (pointsPerNode[n] ?? 0) + 1;
      }
      clusterResult = {
        nodes: cluster.nodes.map((n) => ({
          name: n.name,
          role: n.role,
          url: n.baseUrl,
          pid: n.pid,
          workers: workerKeys.filter((k) => k.startsWith(`${n.name}.`)).length,
        })),
        pointsPerNode,
        moves: points.reduce((a, p) => a + p.moves, 0),
        originWorkersPct: round(originWorkersPct, 1),
        edgeWorkersPct: round(edgeWorkersPct, 1),
        edgeUsPerForwardedPacket: round(
          forwarded > 0 ? (((edgeWorkersPct / 100) * windowSeconds) / forwarded) * 1e6 : NaN,
          2,
        ),
        originUsPerPipedPacket: round(piped > 0 ? (((originWorkersPct / 100) * windowSeconds) / piped) * 1e6 : NaN, 2),
        pipes,
        eventLoopP99MaxMs: Object.fromEntries(
          [...nodeLoopP99.entries()].map(([k, v]) => [k, round(Math.max(0, ...v), 1)]),
        ),
      };
    }

    // Media per point.
    const lossPerPoint: number[] = [];
    const jitterV: number[] = [];
    const jitterA: number[] = [];
    const gaps: number[] = [];
    const starved: string[] = [];
    let decrypted = 0;
    let authFailures = 0;
    let profile = '';
    for (const p of points) {
      const ss = p.streams();
      let rec = 0;
      let lost = 0;
      let gap = 0;
      let video = 0;
      for (const s of ss) {
        rec += s.received;
        lost += lostOf(s);
        decrypted += s.decrypted;
        authFailures += s.authFailures;
        if (s.kind === 'video') video += s.received;
        gap = Math.max(gap, s.maxGapMs);
        (s.kind === 'video' ? jitterV : jitterA).push((s.jitter / s.clockRate) * 1000);
      }
      profile ||= p.receiver?.profile ?? '';
      lossPerPoint.push(rec + lost > 0 ? (100 * lost) / (rec + lost) : 100);
      gaps.push(gap);
      // Starved: never got video, or video stopped for over a second (not counting a rejoin).
      if (o.media && (video === 0 || (gap > 1000 && p.rejoins === 0))) starved.push(p.o.pointId);
    }
    const joinMs = points.map((p) => p.firstKeyFrameMs() ?? NaN);
    const sentHeadcount = points.reduce((a, p) => a + p.headcountSent, 0);
    const sentCheckins = checkins?.ok ?? 0;

    return {
      startedAt,
      options: { ...o, log: undefined, admin: undefined } as unknown as LoadResult['options'],
      machine: {
        cores: os.cpus().length,
        memGiB: round(os.totalmem() / 2 ** 30, 1),
        loadBefore,
        loadAfter: loadAverage(),
        node: process.version,
      },
      points: {
        requested: o.points,
        signalled: points.filter((p) => p.signalledAt !== undefined).length,
        receivingVideo: points.filter((p) => p.streams().some((s) => s.kind === 'video' && s.received > 0)).length,
        withKeyFrame: points.filter((p) => p.firstKeyFrameMs() !== undefined).length,
        starved,
      },
      join: {
        storm,
        allKeyFramesWithinMs: allJoinedMs,
        p50: round(percentile(joinMs, 50), 0),
        p95: round(percentile(joinMs, 95), 0),
        max: round(Math.max(...joinMs.map((x) => (Number.isFinite(x) ? x : Infinity))), 0),
      },
      media: {
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
        jitterMs: {
          video: {
            p50: round(percentile(jitterV, 50)),
            p95: round(percentile(jitterV, 95)),
            worst: round(Math.max(0, ...jitterV)),
          },
          audio: {
            p50: round(percentile(jitterA, 50)),
            p95: round(percentile(jitterA, 95)),
            worst: round(Math.max(0, ...jitterA)),
          },
        },
        maxGapMs: { p95: round(percentile(gaps, 95), 0), worst: round(Math.max(0, ...gaps), 0) },
        packetsPerSecond: round((packets1.received - packets0.received) / windowSeconds, 0),
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
          drilled: drilled.map((p) => p.o.pointId),
          rebuilds: points.reduce((a, p) => a + p.watchdogRebuilds.length, 0),
          strikes: points.reduce((a, p) => a + p.watchdog.stalls, 0),
          points: points
            .filter((p) => p.watchdogRebuilds.length > 0)
            .map((p) => ({
              pointId: p.o.pointId,
              rebuilds: p.watchdogRebuilds,
              // The current receiver got decryptable video: the rebuild cured it.
              receivingAfter: [...(p.receiver?.streams.values() ?? [])].some(
                (s) => s.kind === 'video' && s.decrypted > 0,
              ),
            })),
        },
      },
      cost: {
        windowSeconds: round(windowSeconds, 1),
        cpuPct,
        rssMiB,
        machineBusyPct: round(machineBusyPct, 1),
        otherPct: round(otherPct, 1),
        alone: otherPct < 15,
        udpRcvbufErrors: udp1 - udp0,
        sfuUsPerPacket: round(sfuUsPerPacket, 2),
        floor,
        floorGcmUsPerPacket: floor && 'protectSendUs' in floor ? floor.protectSendUs : undefined,
        serverPlusWorkersRssMiB: round(serverPlusWorkers, 0),
        perConsumer: consumers
          ? {
              consumers,
              workerCpuPct: round(workerCpu / consumers, 4),
              workerRssKiB: round((workerKeys.reduce((a, k) => a + (rssMiB[k] ?? 0), 0) * 1024) / consumers, 0),
            }
          : undefined,
      },
      signalling: {
        generatorLoopP99Ms: round(genLoop.percentile(99) / 1e6, 1),
        eventLoopP99Ms: {
          max: round(Math.max(0, ...loopP99), 1),
          median: round(percentile(loopP99, 50), 1),
          windows: loopP99.length,
        },
        eventLoopMaxMs: round(loopMax, 1),
        healthAckMs: rounded(summarize(healthAcks.values)),
        healthReportsSent: points.reduce((a, p) => a + p.reportsSent, 0),
        healthReportsFailed: points.reduce((a, p) => a + p.reportsFailed, 0),
        monitorDeltaMs: rounded(summarize(deltaMs.values)),
        monitorDeltas: deltas,
      },
      checkins: checkins ?? emptyCheckins(o),
      attendance: {
        sentHeadcount,
        sentCheckins,
        serverDelegates: att.body.province.delegates,
        serverCheckedIn: att.body.province.checkedIn,
        serverConnected: att.body.province.connected,
        match: att.body.province.delegates === sentHeadcount && att.body.province.checkedIn === sentCheckins,
      },
      ...(clusterResult ? { cluster: clusterResult } : {}),
      extra,
      errors: [...errors, ...points.flatMap((p) => p.errors.map((e) => `${p.o.pointId}: ${e}`))].slice(0, 200),
    };
  } finally {
    checkinProgress.reset();
    await Promise.all(points.map((p) => p.stop().catch(() => undefined)));
    host?.close();
    monitor?.close();
    if (ffmpeg && ffmpeg.exitCode === null) ffmpeg.kill('SIGKILL');
    for (const a of agents) a.destroy();
    await server.stop();
  }
}

/** Registry items reordered to take one point of each district in turn (order kept within one). */
function byDistrictInTurn<T extends { district?: string | null }>(items: T[]): T[] {
  const groups = new Map<string, T[]>();
  for (const it of items) {
    const k = it.district ?? '';
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(it);
  }
  const lists = [...groups.values()];
  const out: T[] = [];
  for (let i = 0; out.length < items.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}

function rounded(s: ReturnType<typeof summarize>) {
  return { n: s.n, p50: round(s.p50, 1), p95: round(s.p95, 1), p99: round(s.p99, 1), max: round(s.max, 1) };
}

function countPackets(points: VirtualPoint[]): { received: number; lost: number; bytes: number } {
  let received = 0;
  let lost = 0;
  let bytes = 0;
  for (const p of points)
    for (const s of p.streams()) {
      received += s.received;
      lost += lostOf(s);
      bytes += s.bytes;
    }
  return { received, lost, bytes };
}

function socketOf(base: string, ns: string, o: { cookie?: string; token?: string }): Promise<Socket> {
  const s = connect(base + ns, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    auth: o.token ? { token: o.token } : {},
    extraHeaders: o.cookie ? { cookie: o.cookie } : {},
  });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => {
      s.close();
      reject(e);
    });
  });
}

async function ask<T = unknown>(s: Socket, event: string, payload: unknown = {}): Promise<T> {
  const res = (await s.timeout(15_000).emitWithAck(event, payload)) as {
    ok: boolean;
    data?: T;
    error?: { code: string; message: string };
  };
  if (!res.ok) throw new Error(`${event}: ${res.error?.code} ${res.error?.message}`);
  return res.data as T;
}

// ── check-ins ──

/** One retry when a kept-alive connection was closed by the server as it was reused. */
async function withRetry<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (!/ECONNRESET|socket hang up/.test((err as Error).message)) throw err;
    return f();
  }
}

const checkinProgress = {
  done: 0,
  total: 0,
  post: new Reservoir(),
  reset() {
    this.done = 0;
    this.total = 0;
    this.post = new Reservoir();
  },
  line(): string {
    return this.total
      ? ` checkins=${this.done}/${this.total} postP95=${round(percentile(this.post.values, 95), 0)}ms`
      : '';
  },
};

function emptyCheckins(o: LoadOptions): LoadResult['checkins'] {
  const e = { n: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN };
  return {
    requested: 0,
    ok: 0,
    failed: 0,
    already: 0,
    errors: {},
    windowSeconds: o.checkinWindow,
    burst: o.checkinBurst,
    getMs: e,
    postMs: e,
    totalMs: e,
    tookSeconds: 0,
  };
}

/**
 * Spreads `o.checkins` over the points in proportion to their expected delegates; each
 * check-in is a phone opening the point's current QR code (GET /checkin/:token) and
 * sending the form (POST /checkin). A point's phones share its source address
 * (127.1.x.y, its room's NAT) and a keep-alive agent.
 */
async function runCheckins(
  o: LoadOptions,
  base: string,
  points: VirtualPoint[],
  agents: http.Agent[],
  log: (l: string) => void,
): Promise<LoadResult['checkins']> {
  const totalExpected = points.reduce((a, p) => a + p.o.headcount, 0) || points.length;
  const per = points.map((p) => Math.floor((o.checkins * (p.o.headcount || 1)) / totalExpected));
  let rest = o.checkins - per.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0; i = (i + 1) % points.length, rest--) per[i]! += 1;
  const jobs: { point: number; k: number }[] = [];
  per.forEach((n, i) => {
    for (let k = 0; k < n; k++) jobs.push({ point: i, k });
  });
  for (let i = jobs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
  }
  const pointAgents = points.map((_, i) => {
    const a = new http.Agent({
      keepAlive: true,
      maxSockets: 4,
      // 127.1.x.y: 250 addresses per x, none ending in 0 or 255.
      localAddress: `127.1.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
    });
    agents.push(a);
    return a;
  });
  const getMs = new Reservoir();
  const postMs = new Reservoir();
  const totalMs = new Reservoir();
  const errs: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let already = 0;
  checkinProgress.total = jobs.length;
  checkinProgress.post = postMs;
  const t0 = Date.now();
  const windowMs = o.checkinBurst ? 0 : o.checkinWindow * 1000;
  const maxInFlight = o.checkinBurst ? 200 : 400;
  let inFlight = 0;
  let next = 0;
  log(`check-ins: ${jobs.length} over ${o.checkinBurst ? 'a burst' : `${o.checkinWindow} s`}`);
  const one = async (job: { point: number; k: number }) => {
    const p = points[job.point]!;
    const agent = pointAgents[job.point]!;
    const t = performance.now();
    try {
      const token = await p.checkinToken();
      const info = await withRetry(() => httpJson<{ ticket: string }>(`${base}/api/v1/checkin/${token}`, { agent }));
      getMs.add(info.ms);
      if (info.status !== 200) throw new Error(`GET ${info.status} ${(info.body as { code?: string })?.code ?? ''}`);
      // A phone sends the form again when the connection drops; check-in is idempotent.
      const res = await withRetry(() =>
        httpJson<{ already: boolean }>(`${base}/api/v1/checkin`, {
          method: 'POST',
          agent,
          body: {
            ticket: info.body.ticket,
            deviceId: `lg${job.point.toString(36)}d${job.k.toString(36)}x`.padEnd(8, '0'),
            name: `Đại biểu ${job.k + 1} ${p.o.pointId}`,
            position: 'Đảng viên',
          },
        }),
      );
      postMs.add(res.ms);
      if (res.status !== 200) throw new Error(`POST ${res.status} ${(res.body as { code?: string })?.code ?? ''}`);
      if (res.body.already) already += 1;
      else ok += 1;
      totalMs.add(performance.now() - t);
    } catch (err) {
      failed += 1;
      const key = (err as Error).message.slice(0, 60);
      errs[key] = (errs[key] ?? 0) + 1;
    } finally {
      checkinProgress.done += 1;
    }
  };
  const running = new Set<Promise<void>>();
  while (next < jobs.length) {
    const elapsed = Date.now() - t0;
    const due =
      windowMs === 0 ? jobs.length : Math.min(jobs.length, Math.floor((elapsed / windowMs) * jobs.length) + 1);
    while (next < due && inFlight < maxInFlight) {
      const job = jobs[next++]!;
      inFlight += 1;
      const pr = one(job).finally(() => {
        inFlight -= 1;
        running.delete(pr);
      });
      running.add(pr);
    }
    await sleep(windowMs === 0 ? 5 : 20);
    if (Date.now() - t0 > (o.checkinWindow + 300) * 1000) break; // bounded
  }
  await Promise.all(running);
  const took = (Date.now() - t0) / 1000;
  log(`check-ins done: ${ok} ok, ${already} already, ${failed} failed in ${took.toFixed(1)} s`);
  return {
    requested: jobs.length,
    ok,
    failed,
    already,
    errors: errs,
    windowSeconds: o.checkinWindow,
    burst: o.checkinBurst,
    getMs: rounded(summarize(getMs.values)),
    postMs: rounded(summarize(postMs.values)),
    totalMs: rounded(summarize(totalMs.values)),
    tookSeconds: round(took, 1),
  };
}
