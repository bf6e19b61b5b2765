// One load run against an orchestrator (started here, or already running): the briefing
// prepared through the REST API, the virtual host publishing through `ingest:plain`,
// N virtual points joining (storm or ramp), delegate check-ins through the real QR
// token and /api/v1/checkin, a `/monitor` client timing its deltas, and the cost of
// every process read from /proc. Returns the result; the CLI (scripts/loadgen.ts) and
// the integration test call this.
//
// The parts: ./briefing.ts (the session and the virtual host), ./point.ts (a virtual
// point), ./checkins.ts, ./probes.ts (what is read while the run plays) and
// ./assemble.ts (the result, whose shape is in ./result.ts).
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { HostSocket, MonitorSocket } from '../../client/src/net/sockets';
import { assembleResult, countPackets } from './assemble';
import type { SteadyWindow } from './run-facts';
import { AGENDA, prepareBriefing, startVirtualHost, type Briefing } from './briefing';
import { hostSchedule, runHostActs, type HostActsResult } from './host-acts';
import { ask, monitorSocket } from './sockets';
import { checkinProgress, runCheckins } from './checkins';
import { startCluster, type ClusterHandle } from './cluster';
import { httpJson, must, sleep } from './http';
import { DEFAULTS, type LoadOptions } from './options';
import { VirtualPoint } from './point';
import type { HallHandle } from './hall-process';
import { ImpairedLink, impairedIndexes, spreadAvoiding } from './impair';
import { MonitorTimer, ServerProbes } from './probes';
import { cpuBetween, loadAverage, readMachine, udpRcvbufErrors } from './procstat';
import type { LoadResult } from './result';
import { Reservoir, percentile, round } from './stats';
import { spawnServer, type ServerHandle } from './spawn';
import { readSfuVideoLog, type SfuVideoLog } from './server-log';
import { GeneratorPauses } from './stalls';
import { WatchFleet } from './watch-judge';
import { SocketDropWatch } from './loss-sources';
import { Gate } from './gate';
import { ChromiumPoints, buildClientBundles, type ChromiumJoin } from './chromium-points';

export { DEFAULTS, type LoadOptions } from './options';
export type { ClusterResult, LoadResult } from './result';

/** What the run started and must stop, whatever happens. */
interface Running {
  server: ServerHandle;
  ffmpeg?: ChildProcess;
  hall?: HallHandle;
  host?: HostSocket;
  monitor?: MonitorSocket;
  points: VirtualPoint[];
  /** The check-in phones' connection pools. */
  agents: http.Agent[];
  /** The impaired points' link and which points are on it. */
  impaired?: { link: ImpairedLink; ids: Set<string> };
  /** The Chromium points' browser, open until their first frames are read. */
  chromium?: ChromiumPoints;
}

export async function runLoad(opts: Partial<LoadOptions> = {}): Promise<LoadResult> {
  const o: LoadOptions = { ...DEFAULTS, ...opts };
  const log = o.log ?? (() => undefined);
  const hardDeadline = Date.now() + o.maxSeconds * 1000;
  const errors: string[] = [];
  const startedAt = new Date().toISOString();
  const loadBefore = loadAverage();

  if ((o.chromiumPoints ?? 0) > 0 && !o.url && o.buildClient !== false) buildClientBundles();
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
  const run: Running = { server, points: [], agents: [] };
  const pauses = new GeneratorPauses();
  // The points' watchdogs judge silence against the generator's own lag and each other.
  const fleet = new WatchFleet(pauses);
  // The points' receive sockets, from the join's start: a storm's drops come before the steady state.
  const drops = new SocketDropWatch(run.points);
  try {
    const briefing = await prepareBriefing(base, o, cluster !== undefined, log);
    // The server goes live only with the hall publishing: the virtual host opens its ingest
    // first, fed by the simulcast hall and ffmpeg unless the run leaves media out.
    Object.assign(
      run,
      await startVirtualHost(hostBase, briefing, { media: o.media, lightHall: o.lightHall ?? false }, errors, log),
    );
    const sourceStartedAt = run.ffmpeg || run.hall ? Date.now() : undefined;

    // The monitor: snapshot, then deltas timed against the reports' markers.
    const monitor = new MonitorTimer();
    if (o.monitor) {
      run.monitor = await monitorSocket(base, briefing.cookie);
      await ask(run.monitor, 'monitor:watch', { sessionId: briefing.sessionId });
      monitor.attach(run.monitor);
    }
    const probes = new ServerProbes(
      base,
      cluster,
      server.pid,
      () => run.ffmpeg,
      () => run.hall?.process,
    );
    await probes.scrape();

    const healthAcks = new Reservoir();
    const joined = await joinPoints(o, run, briefing, {
      base,
      cluster,
      healthAcks,
      fleet,
      monitor,
      errors,
      hardDeadline,
      drops,
      log,
    });
    drops.steady();
    const steady = await runSteadyState(o, run, briefing, { base, probes, healthAcks, monitor, hardDeadline, log });

    // Attendance totals as the server has them.
    await sleep(1500);
    const att = await must(
      httpJson<{ province: { delegates: number; checkedIn: number; connected: number } }>(
        `${base}/api/v1/attendance/${briefing.sessionId}`,
        { cookie: briefing.cookie },
      ),
      'attendance',
    );
    const hall = await run.hall?.stats().catch(() => undefined);
    drops.stop(probes.processes);
    // The SFU's video stops, read now: what the points' silences are matched against.
    const sfuVideo: SfuVideoLog = o.media
      ? await readSfuVideoLog(cluster ? cluster.nodes : [server])
      : { reason: 'no media in this run' };
    return assembleResult({
      sfuVideo,
      sfuVideoReadAt: Date.now(),
      o,
      hall,
      impaired: run.impaired?.ids,
      startedAt,
      loadBefore,
      errors,
      points: run.points,
      drilled: steady.drilled,
      storm: joined.storm,
      joinT0: joined.joinT0,
      rcvbufErrorsAtJoin: joined.rcvbufErrorsAtJoin,
      drops,
      allJoinedMs: joined.allJoinedMs,
      chromium: joined.chromium,
      dtlsAtOnceMax: joined.handshakes.highWater,
      pauses,
      loopBehindMs: pauses.behindMs,
      sharedSilences: fleet.sharedSilences(),
      sourceStartedAt,
      steady: steady.window,
      probes,
      monitor,
      healthAcks,
      checkins: steady.checkins,
      hostActs: steady.hostActs,
      extra: steady.extra,
      attendance: att.body.province,
      cluster,
    });
  } finally {
    pauses.stop();
    drops.stop();
    checkinProgress.reset();
    await Promise.all(run.points.map((p) => p.stop().catch(() => undefined)));
    run.host?.close();
    run.monitor?.close();
    if (run.ffmpeg && run.ffmpeg.exitCode === null) run.ffmpeg.kill('SIGKILL');
    run.hall?.stop();
    for (const a of run.agents) a.destroy();
    run.impaired?.link.remove();
    await run.chromium?.close();
    await server.stop();
  }
}

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

/**
 * Starts every virtual point (all at once, or `rate` a second) and the Chromium points
 * (all at the start), and waits up to a minute until each has its first key frame (its
 * first headcount without media) and each page its first decoded frame; the browser is
 * closed then.
 */
async function joinPoints(
  o: LoadOptions,
  run: Running,
  briefing: Briefing,
  c: {
    base: string;
    cluster: ClusterHandle | undefined;
    healthAcks: Reservoir;
    fleet: WatchFleet;
    monitor: MonitorTimer;
    errors: string[];
    hardDeadline: number;
    drops: SocketDropWatch;
    log: (l: string) => void;
  },
): Promise<{
  storm: boolean;
  joinT0: number;
  rcvbufErrorsAtJoin: number;
  allJoinedMs: number;
  handshakes: Gate;
  chromium: ChromiumJoin | undefined;
}> {
  const points = run.points;
  let chosen = new Set<number>();
  if (o.impair && o.media && o.impair.sharePct > 0) {
    const link = new ImpairedLink(o.impair);
    link.open();
    chosen = impairedIndexes(briefing.chosen.length, o.impair.sharePct);
    run.impaired = { link, ids: new Set(briefing.chosen.filter((_, i) => chosen.has(i)).map((p) => p.id)) };
    c.log(
      `impaired link (nft table ${link.table}): ${run.impaired.ids.size} points, ${o.impair.lossPct} % loss each way, ${o.impair.rateKbps || 'no'} kbit/s cap`,
    );
  }
  // ICE-TCP points spread evenly over the others: the impaired link acts on UDP only.
  const tcp =
    o.media && (o.tcpShare ?? 0) > 0 ? spreadAvoiding(briefing.chosen.length, o.tcpShare!, chosen) : new Set<number>();
  if (tcp.size) c.log(`${tcp.size} points over ICE-TCP`);
  const handshakes = new Gate(o.dtlsConcurrency);
  for (const [i, p] of briefing.chosen.entries()) {
    const token = briefing.tokenOf.get(p.id);
    if (!token) throw new Error(`no join link for ${p.id}`);
    points.push(
      new VirtualPoint({
        baseUrl: c.base,
        ...(c.cluster ? { controlUrl: c.base } : {}),
        pointId: p.id,
        token,
        headcount: p.expectedDelegates,
        media: o.media,
        decryptEvery: o.decryptEvery,
        silent: o.silentPoints ?? false,
        rtx: o.rtx ?? true,
        tcp: tcp.has(i),
        ...(run.impaired?.ids.has(p.id) ? { onMediaPort: (port: number) => run.impaired?.link.add(port) } : {}),
        handshakes,
        healthAcks: c.healthAcks,
        fleet: c.fleet,
        onReportSent: o.onReportSent
          ? (id: string, marker: number, at: number) => {
              c.monitor.onReportSent(id, marker, at);
              o.onReportSent!(id, marker, at);
            }
          : c.monitor.onReportSent,
        log: () => undefined,
      }),
    );
  }
  if (briefing.browsers.length) {
    run.chromium = await ChromiumPoints.open(
      briefing.browsers.map((p) => {
        const token = briefing.tokenOf.get(p.id);
        if (!token) throw new Error(`no join link for ${p.id}`);
        return { pointId: p.id, token };
      }),
      { handleSignals: o.chromiumHandleSignals ?? true },
    );
    c.log(`${briefing.browsers.length} Chromium pages ready`);
  }
  const joinT0 = Date.now();
  const rcvbufErrorsAtJoin = udpRcvbufErrors();
  c.drops.start(joinT0);
  // The pages are sent on their way just after the virtual points' first step (the
  // playwright calls take a few hundred ms of this loop on a busy machine, which would
  // otherwise delay the storm itself); each page's navigation start is in the result.
  const browser = run.chromium;
  const chromiumP = browser
    ? new Promise<ChromiumJoin>((resolve, reject) =>
        setImmediate(() => {
          browser.join(c.base);
          browser.measure(joinT0, 60_000).then(resolve, reject);
        }),
      )
    : undefined;
  const storm = o.join.mode === 'storm';
  c.log(`joining ${points.length} points (${storm ? 'storm' : `ramp ${(o.join as { rate: number }).rate}/s`})`);
  const starting: Promise<void>[] = [];
  for (let i = 0; i < points.length; i++) {
    if (o.join.mode === 'ramp') {
      const due = joinT0 + (i * 1000) / o.join.rate;
      if (due > Date.now()) await sleep(due - Date.now());
    }
    starting.push(points[i]!.start().catch((e: Error) => void c.errors.push(`${points[i]!.o.pointId}: ${e.message}`)));
  }
  await Promise.all(starting);
  const joinLimit = Date.now() + 60_000;
  const ready = (p: VirtualPoint) => (o.media ? p.firstKeyFrameMs() !== undefined : p.headcountSent > 0);
  for (;;) {
    const n = points.filter(ready).length;
    if (n === points.length || Date.now() > joinLimit || Date.now() > c.hardDeadline) break;
    await sleep(250);
  }
  const allJoinedMs = Date.now() - joinT0;
  c.log(`joined: ${points.filter(ready).length}/${points.length} in ${(allJoinedMs / 1000).toFixed(1)} s`);
  const chromium = await chromiumP;
  await run.chromium?.close();
  if (chromium)
    c.log(
      `Chromium points: ${chromium.firstFrameMs.points}/${chromium.pages} decoded, the last at ${chromium.firstFrameMs.max} ms`,
    );
  return { storm, joinT0, rcvbufErrorsAtJoin, allJoinedMs, handshakes, chromium };
}

/**
 * The steady state: check-ins, the host's actions, the `during` task, the watchdog drill
 * and the socket cut run inside it; a progress line every 5 s; samples at its start and end.
 */
async function runSteadyState(
  o: LoadOptions,
  run: Running,
  briefing: Briefing,
  c: {
    base: string;
    probes: ServerProbes;
    healthAcks: Reservoir;
    monitor: MonitorTimer;
    hardDeadline: number;
    log: (l: string) => void;
  },
): Promise<{
  window: SteadyWindow;
  drilled: VirtualPoint[];
  checkins: LoadResult['checkins'] | undefined;
  hostActs: HostActsResult | undefined;
  extra: unknown;
}> {
  const { points } = run;
  const { probes, log } = c;
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
  const p0 = probes.procs();
  const udp0 = udpRcvbufErrors();
  const genLoop = monitorEventLoopDelay({ resolution: 10 });
  genLoop.enable();
  const packets0 = countPackets(points);
  const feeds0 = await probes.feeds(briefing.cookie, briefing.sessionId);
  const feedsT0 = Date.now();
  await probes.scrape();
  probes.resetLoop();

  const steadyEnd = Math.min(steadyT0 + steadySeconds * 1000, c.hardDeadline - 30_000);
  const duringP = o.during
    ? o
        .during({ baseUrl: c.base, sessionId: briefing.sessionId, admin: o.admin, until: steadyEnd })
        .catch((e: Error) => ({ error: e.message }))
    : Promise.resolve(undefined);
  const checkinsP = o.checkins > 0 ? runCheckins(o, c.base, points, run.agents, log) : Promise.resolve(undefined);
  const hostActsP =
    o.hostActs && run.host
      ? runHostActs(
          run.host,
          points,
          o.hostActs,
          hostSchedule(o.hostActs, steadySeconds, AGENDA.length),
          steadyT0,
          steadyEnd,
          log,
        )
      : Promise.resolve(undefined);
  const cutAt = steadyT0 + (steadySeconds * 1000) / 2;
  if (stallCount > 0) {
    for (const p of drilled) p.stall();
    log(`stalled ${stallCount} points' media (watchdog drill)`);
  }
  let cutDone = o.cut === 0;
  let churnNext = 0;
  let churnAt = o.churn ? steadyT0 + o.churn.every * 1000 : Infinity;
  let prev = { procs: p0, t: steadyT0, packets: packets0.received };
  // The drill's 26 s hold two strikes, the rebuild and a key frame on a generator that
  // keeps up; a late one judges later, so the steady state lasts until every drilled point
  // is rebuilt and receiving again or has left, up to a minute more.
  const drillPending = (): boolean => drilled.some((p) => !p.drillLeft && !(p.drillRebuilt() && p.decryptsVideo()));
  const drillEnd = Math.min(steadyEnd + 60_000, c.hardDeadline - 30_000);
  let drillWaitLogged = false;
  for (;;) {
    const end = Date.now() < steadyEnd || !drillPending() ? steadyEnd : drillEnd;
    if (Date.now() >= end) break;
    if (end === drillEnd && !drillWaitLogged) {
      drillWaitLogged = true;
      log('waiting for the drilled points to be rebuilt');
    }
    await sleep(Math.min(5000, Math.max(0, end - Date.now())));
    await probes.scrape();
    if (!cutDone && Date.now() >= cutAt) {
      cutDone = true;
      for (const p of points.slice(0, o.cut)) p.cut();
      log(`cut ${o.cut} points' sockets`);
    }
    if (o.churn && Date.now() >= churnAt && Date.now() < steadyEnd) {
      churnAt += o.churn.every * 1000;
      for (let i = 0; i < Math.min(o.churn.count, points.length); i++) points[churnNext++ % points.length]!.cut();
      log(`churn: ${o.churn.count} points leave and rejoin`);
    }
    const now = { procs: probes.procs(), t: Date.now(), packets: countPackets(points) };
    const secs = (now.t - prev.t) / 1000;
    const cpu = (k: string) => round(cpuBetween(prev.procs[k], now.procs[k], secs).cpuPct, 0);
    const workers = probes.workerKeys.map((k) => `${cpu(k)}`).join('+');
    const processes = probes.processes
      .filter((p) => !probes.workerKeys.includes(p.key))
      .map((p) => `${p.key}=${cpu(p.key)}`)
      .join(' ');
    log(
      `t=${Math.round((now.t - steadyT0) / 1000)}s pkts/s=${Math.round((now.packets.received - prev.packets) / secs)} lost=${now.packets.lost} ` +
        `cpu% ${processes} workers=${workers} gen=${cpu('generator')} ` +
        `udpDrops=${udpRcvbufErrors() - udp0} genLoopP99=${round(genLoop.percentile(99) / 1e6, 0)}ms ` +
        `loopP99=${round(probes.loopP99[probes.loopP99.length - 1] ?? NaN, 1)}ms healthAckP95=${round(percentile(c.healthAcks.values, 95), 1)}ms ` +
        `deltaP95=${round(percentile(c.monitor.deltaMs.values, 95), 0)}ms${checkinProgress.line()}`,
    );
    prev = { procs: now.procs, t: now.t, packets: now.packets.received };
  }
  // The time the window ran past its planned end for the drill: no host action, churn or
  // `during` task in it, only the points' media and health reports. At most the cap
  // (drillEnd): the scrape after the last sleep may end a little past it.
  const drillWaitSeconds = drillWaitLogged ? Math.max(0, Math.min(Date.now(), drillEnd) - steadyEnd) / 1000 : 0;
  if (drillWaitLogged) log(`waited ${Math.round(drillWaitSeconds)} s for the drilled points' rebuild`);
  const checkins = await checkinsP;
  const hostActs = await hostActsP;
  const extra = await duringP;
  const steadyT1 = Date.now();
  const m1 = readMachine();
  const p1 = probes.procs();
  const udp1 = udpRcvbufErrors();
  genLoop.disable();
  const packets1 = countPackets(points);
  const feeds1 = await probes.feeds(briefing.cookie, briefing.sessionId);
  const feedsSeconds = (Date.now() - feedsT0) / 1000;
  return {
    window: {
      windowSeconds: (steadyT1 - steadyT0) / 1000,
      drillWaitSeconds,
      machine: [m0, m1],
      procs: [p0, p1],
      udpRcvbufErrors: [udp0, udp1],
      packets: [packets0, packets1],
      feeds: [feeds0, feeds1],
      feedsSeconds,
      generatorLoop: genLoop,
    },
    drilled,
    checkins,
    hostActs,
    extra,
  };
}
