// The control plane at national scale (scripts/bench-national.ts): Redis and two
// `server/main.ts` nodes on loopback (NODE_ROLE=origin each, so both serve points and the
// cluster's assignment splits them by district), a synthetic national registry imported
// through the API, a session inviting every point, the points without media spread over
// generator processes, check-ins over a window, monitor desks watching provinces and
// districts. Returns the result the CLI writes to JSON. See docs/national-scale.md.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EmbeddedRedis } from '../../server/redis/embedded-redis';
import { startVirtualHost, type Briefing } from './briefing';
import { startNode, type ClusterHandle } from './cluster';
import { httpJson, must, sleep } from './http';
import type { FromGenerator, GeneratorCounters, GeneratorStart, ToGenerator } from './national-ipc';
import { deskResult, openDesk, RedisStats, redisRates, type Desk } from './national-probes';
import { nationalShape, provinceOf, seedNationalRegistry } from './national-registry';
import { DEFAULTS } from './options';
import { ServerProbes } from './probes';
import { cpuAndRss, cpuBetween, loadAverage, readMachine, readProc, type ProcSample } from './procstat';
import { percentile, round, rounded, summarize } from './stats';
import type { ServerHandle } from './spawn';

export interface NationalOptions {
  points: number;
  checkins: number;
  /** Check-ins spread over this many seconds; the steady window lasts at least this long. */
  windowSeconds: number;
  generators: number;
  /** Points joined per second, all generators together. */
  joinRate: number;
  provinceDesks: number;
  districtDesks: number;
  log: (l: string) => void;
}

interface Node extends ServerHandle {
  name: string;
}

export async function runNational(o: NationalOptions) {
  const startedAt = new Date().toISOString();
  const loadBefore = loadAverage();
  const admin = DEFAULTS.admin;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-national-'));
  const redis = await EmbeddedRedis.start({ dir: path.join(dir, 'redis') });
  const nodes: Node[] = [];
  const gens: ChildProcess[] = [];
  const desks: Desk[] = [];
  let host: Awaited<ReturnType<typeof startVirtualHost>>['host'] | undefined;
  const stats = new RedisStats(redis.url);
  const appSecret = randomBytes(32).toString('hex');
  const start = async (name: string) => {
    const h = await startNode(
      {
        dir,
        name,
        redisUrl: redis.url,
        role: 'origin',
        workers: 1,
        admin,
        appSecret,
        // Every virtual point connects from 127.0.0.1; in the field each commune has its own address.
        env: { SOCKET_MAX_PER_ADDRESS: String(o.points + 100) },
      },
      o.log,
    );
    nodes.push({ ...h, name });
  };
  try {
    await start('node-1');
    await start('node-2');
    const n1 = nodes[0]!;
    const login = await must(httpJson(`${n1.baseUrl}/api/v1/auth/login`, { method: 'POST', body: admin }), 'login');
    const cookie = ([] as string[])
      .concat(login.headers['set-cookie'] ?? [])
      .map((c) => c.split(';')[0])
      .join('; ');
    const tImport = Date.now();
    await seedNationalRegistry(n1.baseUrl, cookie, o.points);
    const importMs = Date.now() - tImport;
    o.log(
      `national registry imported: ${o.points} points in ${importMs} ms (${JSON.stringify(nationalShape(o.points))})`,
    );
    const registry = await pages<{ id: string; district: string | null; expectedDelegates: number }>(
      `${n1.baseUrl}/api/v1/points`,
      cookie,
    );
    const sessionId = await createSession(n1.baseUrl, cookie, o.points);
    const links = await pages<{ pointId: string; token: string }>(
      `${n1.baseUrl}/api/v1/sessions/${sessionId}/links`,
      cookie,
    );
    const tokenOf = new Map(links.map((l) => [l.pointId, l.token]));
    const briefing: Briefing = { cookie, sessionId, chosen: registry, browsers: [], tokenOf };
    const errors: string[] = [];
    host = (await startVirtualHost(n1.baseUrl, briefing, { media: false, lightHall: true }, errors, o.log)).host;

    // Desks: provinces and districts spread over the country, alternating the nodes.
    const provinces = [...new Set(registry.map((p) => provinceOf(p.id)).filter((c) => c !== 'VN'))];
    const districts = [...new Set(registry.map((p) => p.district).filter((d): d is string => !!d))];
    const pick = <T>(xs: T[], n: number) =>
      Array.from({ length: Math.min(n, xs.length) }, (_, i) => xs[Math.floor((i * xs.length) / n)]!);
    const filters = [
      ...pick(provinces, o.provinceDesks).map((code) => ({ kind: 'province' as const, code })),
      ...pick(districts, o.districtDesks).map((code) => ({ kind: 'district' as const, code })),
    ];
    for (const [i, f] of filters.entries()) {
      const node = nodes[i % nodes.length]!;
      const ids = registry.filter((p) => (f.kind === 'province' ? provinceOf(p.id) === f.code : p.district === f.code));
      desks.push(await openDesk(node.baseUrl, node.name, cookie, sessionId, f, new Set(ids.map((p) => p.id))));
    }
    const deskOf = new Map<string, Desk[]>();
    for (const d of desks) for (const id of d.points) (deskOf.get(id) ?? deskOf.set(id, []).get(id)!).push(d);
    o.log(`${desks.length} desks watching: ${filters.map((f) => f.code).join(' ')}`);

    // The probes: each node's event loop and /proc, Redis' /proc.
    const probes = new ServerProbes(
      n1.baseUrl,
      { nodes: nodes.map((n) => ({ ...n, role: 'origin' })), redisPid: redis.pid } as unknown as ClusterHandle,
      undefined,
      () => undefined,
    );
    // Generators: contiguous shares of the registry order.
    const counters = new Map<number, GeneratorCounters>();
    const results = new Map<number, Extract<FromGenerator, { type: 'result' }>>();
    const ready = new Set<number>();
    let checkinsDone = 0;
    const share = Math.ceil(registry.length / o.generators);
    for (let g = 0; g < o.generators; g++) {
      const slice = registry.slice(g * share, (g + 1) * share);
      const child = fork(path.join(__dirname, 'national-worker.ts'), [], {
        execArgv: ['--import', 'tsx', '--max-old-space-size=2048'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      gens.push(child);
      child.on('message', (m: FromGenerator) => {
        if (m.type === 'markers') {
          for (const [id, marker, at] of m.markers)
            for (const d of deskOf.get(id) ?? []) d.timer.onReportSent(id, marker, at);
        } else if (m.type === 'progress' || m.type === 'joined') counters.set(g, m);
        else if (m.type === 'ready') ready.add(g);
        else if (m.type === 'checkinsDone') checkinsDone += 1;
        else if (m.type === 'result') results.set(g, m);
        else if (m.type === 'failed') errors.push(`generator ${g}: ${m.error.slice(0, 300)}`);
      });
      const startMsg: GeneratorStart = {
        type: 'start',
        controlUrl: nodes[g % nodes.length]!.baseUrl,
        points: slice.map((p) => ({ id: p.id, token: tokenOf.get(p.id)!, headcount: p.expectedDelegates })),
        joinRate: o.joinRate / o.generators,
        firstAddress: g * share,
        watched: slice.filter((p) => deskOf.has(p.id)).map((p) => p.id),
      };
      child.send(startMsg satisfies ToGenerator);
    }
    const sum = (k: keyof GeneratorCounters) => [...counters.values()].reduce((a, c) => a + c[k], 0);
    const joinT0 = Date.now();
    const joinLimit = joinT0 + ((o.points / o.joinRate) * 1000 + 180_000);
    while (ready.size < o.generators && Date.now() < joinLimit) {
      await sleep(5000);
      o.log(`joining: connected=${sum('connected')} headcounts=${sum('headcounts')} reports=${sum('reportsSent')}`);
    }
    const joinMs = Date.now() - joinT0;
    // Headcounts of the last points and a round of reports before the window opens.
    await sleep(5000);
    o.log(`joined in ${(joinMs / 1000).toFixed(1)} s: connected=${sum('connected')}/${o.points}`);

    await probes.scrape();
    probes.resetLoop();
    const genPids = gens.map((c) => c.pid!);
    const sampleAll = (): Record<string, ProcSample | undefined> => ({
      ...probes.procs(),
      ...Object.fromEntries(genPids.map((pid, i) => [`generator${i + 1}`, readProc(pid)])),
    });
    for (const d of desks) d.timer.deltaMs.values.length = 0;
    const m0 = readMachine();
    const p0 = sampleAll();
    const r0 = await stats.sample();
    const t0 = Date.now();
    const base = (g: number) => nodes[g % nodes.length]!.baseUrl;
    gens.forEach((c, g) =>
      c.send({
        type: 'checkins',
        base: base(g),
        checkins: Math.floor(o.checkins / o.generators) + (g < o.checkins % o.generators ? 1 : 0),
        windowSeconds: o.windowSeconds,
      } satisfies ToGenerator),
    );
    const windows: Record<string, unknown>[] = [];
    let prev = { p: p0, r: r0, t: t0 };
    const end = t0 + o.windowSeconds * 1000;
    while (Date.now() < end || (o.checkins > 0 && checkinsDone < o.generators && Date.now() < end + 60_000)) {
      await sleep(5000);
      await probes.scrape();
      const now = { p: sampleAll(), r: await stats.sample(), t: Date.now() };
      const secs = (now.t - prev.t) / 1000;
      const cpu = (k: string) => round(cpuBetween(prev.p[k], now.p[k], secs).cpuPct, 0);
      const rr = redisRates(prev.r, now.r);
      const loops = Object.fromEntries(nodes.map((n) => [n.name, probes.nodeLoopP99.get(n.name)?.at(-1) ?? NaN]));
      const deltaP95 = round(
        percentile(
          desks.flatMap((d) => d.timer.deltaMs.values),
          95,
        ),
        0,
      );
      const w = {
        t: Math.round((now.t - t0) / 1000),
        load1: loadAverage()[0],
        loopP99Ms: loops,
        cpuPct: Object.fromEntries(Object.keys(now.p).map((k) => [k, cpu(k)])),
        redisOps: rr.opsPerSecond,
        publishes: rr.publishesPerSecond,
        connected: sum('connected'),
        checkins: sum('checkinsDone'),
        healthAckP95: Math.max(...[...counters.values()].map((c) => c.healthAckP95)),
        deltaP95,
        genLoopP99Ms: [...counters.values()].map((c) => c.loopP99Ms),
      };
      windows.push(w);
      o.log(
        `t=${w.t}s load=${w.load1} loopP99 ${nodes.map((n) => `${n.name}=${round(loops[n.name]!, 0)}`).join(' ')}ms ` +
          `cpu% ${Object.entries(w.cpuPct)
            .filter(([k]) => !k.includes('worker'))
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')} redis ops/s=${w.redisOps} pub/s=${w.publishes} ` +
          `connected=${w.connected} checkins=${w.checkins}/${o.checkins} ackP95=${w.healthAckP95}ms deltaP95=${deltaP95}ms ` +
          `genLoop=${w.genLoopP99Ms.join('/')}ms`,
      );
      prev = now;
    }
    const t1 = Date.now();
    const m1 = readMachine();
    const p1 = sampleAll();
    const r1 = await stats.sample();
    const secs = (t1 - t0) / 1000;
    const att = await httpJson<{ province: { delegates: number; checkedIn: number; connected: number } }>(
      `${n1.baseUrl}/api/v1/attendance/${sessionId}`,
      { cookie, timeoutMs: 60_000 },
    ).catch((e: Error) => ({ status: 0, body: { error: e.message } }));
    gens.forEach((c) => c.send({ type: 'stop' } satisfies ToGenerator));
    const stopLimit = Date.now() + 120_000;
    while (results.size < gens.length && Date.now() < stopLimit) await sleep(250);
    const res = [...results.values()];
    const machineBusyPct = ((m1.busy - m0.busy) / (m1.total - m0.total)) * 100 * m1.cores;
    const { cpuPct, rssMiB } = cpuAndRss(p0, p1, secs);
    const ours = Object.values(cpuPct).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    const otherPct = round(machineBusyPct - ours, 1);
    const ck = res.map((r) => r.checkins).filter((c) => c !== undefined);
    return {
      startedAt,
      options: { ...o, log: undefined },
      machine: {
        cores: os.cpus().length,
        memGiB: round(os.totalmem() / 2 ** 30, 1),
        loadBefore,
        loadAfter: loadAverage(),
        node: process.version,
      },
      registry: { points: registry.length, shape: nationalShape(o.points), importMs },
      join: { ms: joinMs, rate: o.joinRate, connected: sum('connected'), headcounts: sum('headcounts') },
      cost: {
        windowSeconds: round(secs, 1),
        cpuPct,
        rssMiB,
        machineBusyPct: round(machineBusyPct, 1),
        otherPct,
        alone: otherPct < 15,
      },
      eventLoopP99Ms: Object.fromEntries(
        nodes.map((n) => {
          const w = probes.nodeLoopP99.get(n.name) ?? [];
          return [n.name, { max: round(Math.max(...w), 1), median: round(percentile(w, 50), 1), windows: w.length }];
        }),
      ),
      redis: redisRates(r0, r1),
      health: {
        reportsSent: res.reduce((a, r) => a + r.reportsSent, 0),
        reportsFailed: res.reduce((a, r) => a + r.reportsFailed, 0),
        ackMs: rounded(summarize(res.flatMap((r) => r.healthAcks))),
      },
      desks: desks.map(deskResult),
      monitorDeltaMs: rounded(summarize(desks.flatMap((d) => d.timer.deltaMs.values))),
      checkins: {
        requested: ck.reduce((a, c) => a + c.requested, 0),
        ok: ck.reduce((a, c) => a + c.ok, 0),
        already: ck.reduce((a, c) => a + c.already, 0),
        failed: ck.reduce((a, c) => a + c.failed, 0),
        // Each generator's p95; the run's is at most the largest.
        postMsP95: ck.map((c) => c.postMs.p95),
        totalMsP95: ck.map((c) => c.totalMs.p95),
        totalMs: ck.map((c) => c.totalMs),
        errors: ck.map((c) => c.errors),
        tookSeconds: ck.map((c) => c.tookSeconds),
      },
      attendance: att.body,
      pointsPerNode: mergeCounts(
        res.map((r) => r.perNode),
        nodes,
      ),
      disconnects: res.reduce((a, r) => a + r.disconnects, 0),
      moves: res.reduce((a, r) => a + r.moves, 0),
      windows,
      errors: [...errors, ...res.flatMap((r) => r.errors)].slice(0, 100),
      errorCount: errors.length + res.reduce((a, r) => a + r.errorCount, 0),
    };
  } finally {
    for (const d of desks) d.socket.close();
    host?.close();
    stats.close();
    for (const c of gens) if (c.exitCode === null) c.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    await redis.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

function mergeCounts(per: Record<string, number>[], nodes: Node[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of per)
    for (const [url, n] of Object.entries(m)) {
      const name = nodes.find((x) => x.baseUrl === url)?.name ?? url;
      out[name] = (out[name] ?? 0) + n;
    }
  return out;
}

/** Every item of a paged list (500 a page). */
async function pages<T>(url: string, cookie: string): Promise<T[]> {
  const out: T[] = [];
  for (let offset = 0; ; offset += 500) {
    const r = await must(httpJson<{ items: T[]; total: number }>(`${url}?limit=500&offset=${offset}`, { cookie }), url);
    out.push(...r.body.items);
    if (r.body.items.length === 0 || out.length >= r.body.total) return out;
  }
}

async function createSession(base: string, cookie: string, points: number): Promise<string> {
  const now = Date.now();
  const created = await must(
    httpJson<{ id: string }>(`${base}/api/v1/sessions`, {
      method: 'POST',
      cookie,
      timeoutMs: 120_000,
      body: {
        title: `Hội nghị toàn quốc ${points} điểm cầu · load test`,
        scheduledStart: new Date(now + 30 * 60_000).toISOString(),
        plannedEnd: new Date(now + 180 * 60_000).toISOString(),
        agenda: [{ title: 'Quán triệt Nghị quyết', speaker: 'Chủ tọa', role: 'Trung ương', plannedMinutes: 30 }],
        invite: { mode: 'all' },
      },
    }),
    'create session',
  );
  const id = created.body.id;
  await must(
    httpJson(`${base}/api/v1/sessions/${id}/schedule`, { method: 'POST', cookie, timeoutMs: 120_000 }),
    'schedule',
  );
  await must(
    httpJson(`${base}/api/v1/sessions/${id}/open-lobby`, { method: 'POST', cookie, timeoutMs: 120_000 }),
    'open-lobby',
    [200, 409],
  );
  return id;
}
