// The reference event in one run, every load at once as on the day: 420 points receiving
// the hall (the simulcast hall, browser-like points) and reporting their health, 18,000
// delegates checking in over 10 minutes, the /monitor page open in Chromium, the host
// moving the agenda on every 2 minutes and handing the floor to a point and back
// half-way. Every figure of the separate runs is measured together and printed beside
// the targets (scripts/lib/bench-targets.ts). See docs/benchmarks.md.
//
//   npm run bench:combined
//   npm run bench:combined -- --points 40 --checkins 2000 --checkin-window 60 --agenda-every 20 --out /tmp/c.json
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { checkTargets, targetTable } from './lib/bench-targets';
import { MonitorPage, type PageFigures } from './lib/monitor-page';
import { sleep } from './loadgen/http';
import { MonitorTimer } from './loadgen/probes';
import { runLoad, type LoadResult } from './loadgen/run';
import { percentile, round, rounded, summarize } from './loadgen/stats';

const RESULTS = path.resolve(__dirname, '..', 'docs', 'results');

const USAGE = `usage: npm run bench:combined -- [options]
  --points N            virtual points receiving the hall (default 420)
  --checkins N          delegate check-ins (default 18000)
  --checkin-window S    spread over S seconds (default 600); the steady state lasts S + 10
  --agenda-every S      the host moves the agenda on every S seconds (default 120)
  --out FILE            the result (default docs/results/<date>-<time>-combined-<points>.json)`;

/** What the monitor page saw: its frames and long tasks, and the report-to-tile times. */
interface PageResult {
  page: PageFigures;
  deltaMs: ReturnType<typeof summarize>;
  /** Reports timed on the page, of those sent while it was open (the rest were painted over by a later one, or not yet). */
  tilesTimed: number;
  reportsSentWhileOpen: number;
  error?: string;
}

const whole = (s: string | undefined, name: string, d: number, min: number): number => {
  if (s === undefined) return d;
  const n = Number(s);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name} must be a whole number of at least ${min}, not "${s}"`);
  return n;
};

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      points: { type: 'string' },
      checkins: { type: 'string' },
      'checkin-window': { type: 'string' },
      'agenda-every': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void process.stdout.write(`${USAGE}\n`);
  const points = whole(v.points, 'points', 420, 1);
  const checkins = whole(v.checkins, 'checkins', 18_000, 1);
  const window = whole(v['checkin-window'], 'checkin-window', 600, 10);
  const agendaEvery = whole(v['agenda-every'], 'agenda-every', 120, 5);
  const started = Date.now();
  const log = (line: string) =>
    process.stderr.write(`[bench:combined ${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);

  // The page's clock is the machine's: a report's marker, sent at `at`, is timed when its
  // tile is painted with it.
  const onPage = new MonitorTimer(Math.round);
  let pageOpen = false;
  let sentWhileOpen = 0;
  const r = await runLoad({
    points,
    duration: window,
    checkins,
    checkinWindow: window,
    monitor: true,
    floor: true,
    hostActs: { agendaEverySeconds: agendaEvery, floorHandover: true },
    onReportSent: (id, marker, at) => {
      onPage.onReportSent(id, marker, at);
      if (pageOpen) sentWhileOpen += 1;
    },
    maxSeconds: window + 900,
    log,
    during: async ({ baseUrl, admin, until }): Promise<PageResult> => {
      const page = await MonitorPage.open(baseUrl, admin).catch((err: Error) => {
        log(`the monitor page did not open: ${err.message.split('\n')[0]}`);
        throw err;
      });
      try {
        log(`monitor page open in Chromium: ${page.tiles} tiles`);
        pageOpen = true;
        let nextLine = Date.now() + 30_000;
        while (Date.now() < until - 1000) {
          await sleep(1000);
          for (const [id, rtt, at] of await page.takeShown()) onPage.seen(id, rtt, at);
          if (Date.now() >= nextLine) {
            nextLine += 30_000;
            log(
              `monitor page: ${onPage.deltaMs.count} reports seen on tiles, delta p95 ${round(percentile(onPage.deltaMs.values, 95), 0)} ms`,
            );
          }
        }
        pageOpen = false;
        for (const [id, rtt, at] of await page.takeShown()) onPage.seen(id, rtt, at);
        return {
          page: await page.figures(),
          deltaMs: rounded(summarize(onPage.deltaMs.values)),
          tilesTimed: onPage.deltaMs.count,
          reportsSentWhileOpen: sentWhileOpen,
        };
      } finally {
        await page.close();
      }
    },
  });
  const page = r.extra as Partial<PageResult> | undefined;
  // Per-point lists (watchdog rebuilds, gaps, starved points) cut to their first items and
  // their count: the record stays readable, the figures are computed from the whole.
  const shortLists = (_key: string, value: unknown): unknown =>
    Array.isArray(value) && value.length > 40 ? { first: value.slice(0, 40), count: value.length } : value;
  const out = combinedResult(r, page, { points, checkins, window, agendaEvery });
  const file =
    v.out ??
    path.join(
      RESULTS,
      `${r.startedAt.slice(0, 10)}-${r.startedAt.slice(11, 16).replace(':', '')}-combined-${points}.json`,
    );
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(out, shortLists, 2)}\n`);
  process.stdout.write(`${summaryLines(out)}\n\n${targetTable(out.targets)}\n`);
  if (!out.alone)
    process.stdout.write('NOT ALONE: other processes took over 15 % of a core; the figures are upper bounds.\n');
  if (r.errors.length) process.stdout.write(`errors (${r.errors.length}): ${r.errors.slice(0, 3).join(' | ')}\n`);
  process.stdout.write(`result: ${path.relative(process.cwd(), file)}\n`);
}

/** Every figure together: the headline ones by concern, the targets, and the generator's whole result. */
function combinedResult(
  r: LoadResult,
  page: Partial<PageResult> | undefined,
  a: { points: number; checkins: number; window: number; agendaEvery: number },
) {
  const c = r.cost;
  const workers = Object.keys(c.cpuPct).filter((k) => /^worker\d+$/.test(k));
  const pageDelta = page?.deltaMs ?? rounded(summarize([]));
  const fb = r.media.feedback;
  const figures = {
    cpuPctOfCore: {
      workers: c.cpuPct.workersTotal,
      perWorker: Object.fromEntries(workers.map((k) => [k, c.cpuPct[k]])),
      server: c.cpuPct.server,
      redis: c.cpuPct.redis,
      hall: c.cpuPct.hall,
      generator: c.cpuPct.generator,
      machineBusy: c.machineBusyPct,
      other: c.otherPct,
    },
    rssMiB: {
      server: c.rssMiB.server,
      perWorker: Object.fromEntries(workers.map((k) => [k, c.rssMiB[k]])),
      redis: c.rssMiB.redis,
      serverPlusWorkersAtEnd: c.serverPlusWorkersRssMiB,
      serverPlusWorkersPeak: c.serverPlusWorkersPeakRssMiB,
    },
    serverEventLoopMs: {
      p50: r.signalling.eventLoopP50Ms,
      p99: r.signalling.eventLoopP99Ms,
      max: r.signalling.eventLoopMaxMs,
    },
    checkins: {
      requested: r.checkins.requested,
      accepted: r.checkins.ok + r.checkins.already,
      failed: r.checkins.failed,
      ackMs: r.checkins.postMs,
      qrGetMs: r.checkins.getMs,
      tookSeconds: r.checkins.tookSeconds,
      attendanceMatch: r.attendance.match,
    },
    health: {
      reportsSent: r.signalling.healthReportsSent,
      reportsFailed: r.signalling.healthReportsFailed,
      ackMs: r.signalling.healthAckMs,
    },
    monitor: {
      pageDeltaMs: pageDelta,
      pageTilesTimed: page?.tilesTimed ?? 0,
      pageReportsSentWhileOpen: page?.reportsSentWhileOpen ?? 0,
      socketDeltaMs: r.signalling.monitorDeltaMs,
      page: page?.page,
      ...(page && 'error' in page ? { pageError: page.error } : {}),
    },
    media: {
      points: r.points.requested,
      receivingVideo: r.points.receivingVideo,
      withKeyFrame: r.points.withKeyFrame,
      starved: r.points.starved,
      lossPct: r.media.lossPct,
      stops: {
        watchdogRebuilds: r.media.watchdog.rebuilds,
        pointsRebuilt: r.media.watchdog.points.length,
        wireGapsOver1s: r.media.gaps.filter((g) => g.cause === 'wire' && g.ms > 1000).length,
        freezesPerPoint: fb?.freezesPerPoint,
        pointsWithFreezes: fb?.pointsWithFreezes,
      },
      join: { allKeyFramesWithinMs: r.join.allKeyFramesWithinMs, p50: r.join.p50, p95: r.join.p95, max: r.join.max },
      packetsPerSecond: r.media.packetsPerSecond,
      sfuUsPerPacket: c.sfuUsPerPacket,
      floorUsPerPacket: c.floorGcmUsPerPacket,
    },
    host: r.hostActs,
  };
  const targets = checkTargets({
    eventLoopP99MaxMs: r.signalling.eventLoopP99Ms.windows ? r.signalling.eventLoopP99Ms.max : NaN,
    checkinAckP95Ms: r.checkins.postMs.p95,
    checkins: { requested: r.checkins.requested, accepted: figures.checkins.accepted },
    monitorPageDeltaP95Ms: pageDelta.p95,
    serverPlusWorkersPeakRssMiB: c.serverPlusWorkersPeakRssMiB,
    points: {
      requested: r.points.requested,
      receivingVideo: r.points.receivingVideo,
      starved: r.points.starved.length,
    },
  });
  return {
    at: r.startedAt,
    command: `npm run bench:combined -- --points ${a.points} --checkins ${a.checkins} --checkin-window ${a.window} --agenda-every ${a.agendaEvery}`,
    machine: r.machine,
    alone: c.alone,
    windowSeconds: c.windowSeconds,
    targets,
    figures,
    run: r,
  };
}

function summaryLines(o: ReturnType<typeof combinedResult>): string {
  const f = o.figures;
  const h = f.host;
  return [
    `combined run, ${f.media.points} points, ${o.windowSeconds} s steady${o.alone ? '' : ' (NOT alone)'}`,
    `cpu % of a core: workers ${f.cpuPctOfCore.workers}, server ${f.cpuPctOfCore.server}, redis ${f.cpuPctOfCore.redis}, hall ${f.cpuPctOfCore.hall}, generator ${f.cpuPctOfCore.generator}; machine ${f.cpuPctOfCore.machineBusy}, other ${f.cpuPctOfCore.other}`,
    `rss MiB: server ${f.rssMiB.server}, workers ${JSON.stringify(f.rssMiB.perWorker)}, redis ${f.rssMiB.redis}; together ${f.rssMiB.serverPlusWorkersAtEnd} at the end, ${f.rssMiB.serverPlusWorkersPeak} at peak`,
    `server event loop: p50 median ${f.serverEventLoopMs.p50.median} ms, p99 median ${f.serverEventLoopMs.p99.median} / worst ${f.serverEventLoopMs.p99.max} ms over ${f.serverEventLoopMs.p99.windows} windows, max ${f.serverEventLoopMs.max} ms`,
    `check-ins: ${f.checkins.accepted} of ${f.checkins.requested} in ${f.checkins.tookSeconds} s; ack p50/p95/max ${f.checkins.ackMs.p50}/${f.checkins.ackMs.p95}/${f.checkins.ackMs.max} ms; attendance ${f.checkins.attendanceMatch ? 'matches' : 'MISMATCH'}`,
    `health: ${f.health.reportsSent} reports, ${f.health.reportsFailed} failed, ack p95 ${f.health.ackMs.p95} ms`,
    `monitor: page delta p50/p95/max ${f.monitor.pageDeltaMs.p50}/${f.monitor.pageDeltaMs.p95}/${f.monitor.pageDeltaMs.max} ms (${f.monitor.pageTilesTimed} of ${f.monitor.pageReportsSentWhileOpen} reports); socket p95 ${f.monitor.socketDeltaMs.p95} ms; page ${f.monitor.page?.fps ?? '?'} fps, ${f.monitor.page?.longTasks.count ?? '?'} long tasks`,
    `media: ${f.media.receivingVideo}/${f.media.points} receiving, ${f.media.withKeyFrame} at a key frame, ${f.media.starved.length} starved; loss worst ${f.media.lossPct.worst} %; stops: ${f.media.stops.watchdogRebuilds} rebuilds, ${f.media.stops.wireGapsOver1s} wire gaps over 1 s, ${f.media.stops.pointsWithFreezes ?? 0} points with freezes; join all within ${f.media.join.allKeyFramesWithinMs} ms (p95 ${f.media.join.p95} ms)`,
    h
      ? `host: ${h.acts.length} actions (${h.acts.map((x) => x.act).join(', ')}); ack p95 ${h.ackMs.p95} ms; points' views p95 ${h.viewMs.p95} ms, max ${h.viewMs.max} ms; ${h.missed} missed`
      : 'host: no actions',
  ].join('\n');
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench:combined failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
