// One generator process of the national benchmark (scripts/bench-national.ts forks two or
// more): its share of the virtual points without media (socket on the node the cluster
// assigns, a health report every 2 s and a headcount, as the point page), then its share
// of the check-ins. It talks to the parent over the IPC channel only (./national-ipc.ts).
import type http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { checkinProgress, runCheckins } from './checkins';
import { sleep } from './http';
import type { ToGenerator, FromGenerator, GeneratorStart } from './national-ipc';
import { DEFAULTS } from './options';
import { VirtualPoint } from './point';
import { Reservoir, percentile, round } from './stats';

const send = (m: FromGenerator) => process.send?.(m);

async function run(start: GeneratorStart): Promise<void> {
  const healthAcks = new Reservoir(50_000);
  const watched = new Set(start.watched);
  let markers: [string, number, number][] = [];
  const points = start.points.map(
    (p) =>
      new VirtualPoint({
        baseUrl: start.controlUrl,
        controlUrl: start.controlUrl,
        pointId: p.id,
        token: p.token,
        headcount: p.headcount,
        media: false,
        decryptEvery: DEFAULTS.decryptEvery,
        healthAcks,
        onReportSent: (id, marker, at) => {
          if (watched.has(id)) markers.push([id, marker, at]);
        },
        log: () => undefined,
      }),
  );
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const flush = setInterval(() => {
    if (markers.length) send({ type: 'markers', markers });
    markers = [];
  }, 200);
  const counters = () => ({
    connected: points.filter((p) => p.socket?.connected).length,
    headcounts: points.filter((p) => p.headcountSent > 0).length,
    reportsSent: points.reduce((a, p) => a + p.health.reportsSent, 0),
    reportsFailed: points.reduce((a, p) => a + p.health.reportsFailed, 0),
    disconnects: points.reduce((a, p) => a + p.disconnects, 0),
    healthAckP95: round(percentile(healthAcks.values, 95), 1),
    checkinsDone: checkinProgress.done,
    loopP99Ms: round(loop.percentile(99) / 1e6, 0),
  });
  const progress = setInterval(() => {
    send({ type: 'progress', ...counters() });
    loop.reset();
  }, 5000);

  const t0 = Date.now();
  const errors: string[] = [];
  const agents: http.Agent[] = [];
  let checkins: Awaited<ReturnType<typeof runCheckins>> | undefined;
  // The parent's orders are taken at any time: a join that never completes (the nodes
  // overwhelmed) still gets its check-ins started and its result sent.
  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    process.on('message', (m: ToGenerator) => {
      if (m.type === 'checkins') {
        const o = { ...DEFAULTS, checkins: m.checkins, checkinWindow: m.windowSeconds, checkinBurst: false };
        runCheckins(o, m.base, points, agents, () => undefined, start.firstAddress).then(
          (r) => {
            checkins = r;
            send({ type: 'checkinsDone' });
          },
          (e: Error) => errors.push(`check-ins: ${e.message}`),
        );
      } else if (m.type === 'stop') {
        stopping = true;
        resolve();
      }
    });
  });
  const starting: Promise<void>[] = [];
  for (let i = 0; i < points.length && !stopping; i++) {
    const due = t0 + (i * 1000) / start.joinRate;
    if (due > Date.now()) await sleep(due - Date.now());
    starting.push(points[i]!.start().catch((e: Error) => void errors.push(`${points[i]!.o.pointId}: ${e.message}`)));
  }
  await Promise.race([Promise.all(starting), stopped]);
  send({ type: 'joined', ms: Date.now() - t0, ...counters() });
  send({ type: 'ready' });
  await stopped;
  clearInterval(progress);
  clearInterval(flush);
  const perNode: Record<string, number> = {};
  for (const p of points) perNode[p.nodeUrl] = (perNode[p.nodeUrl] ?? 0) + 1;
  const pointErrors = points.flatMap((p) => p.errors.map((e) => `${p.o.pointId}: ${e}`));
  const final = counters();
  await Promise.all(points.map((p) => p.stop().catch(() => undefined)));
  for (const a of agents) a.destroy();
  send({
    type: 'result',
    ...final,
    healthAcks: healthAcks.values,
    checkins,
    perNode,
    moves: points.reduce((a, p) => a + p.moves, 0),
    errors: [...errors, ...pointErrors].slice(0, 200),
    errorCount: errors.length + pointErrors.length,
  });
}

process.once('message', (m: ToGenerator) => {
  if (m.type !== 'start') return;
  run(m).then(
    () => setTimeout(() => process.exit(0), 200),
    (e: Error) => {
      send({ type: 'failed', error: e.stack ?? e.message });
      setTimeout(() => process.exit(1), 200);
    },
  );
});
