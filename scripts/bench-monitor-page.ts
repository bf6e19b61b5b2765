// Benchmark of the /monitor page: 420 tiles in Debian Chromium while 420 virtual points
// (signalling only, see scripts/loadgen) report health every 2 s, so the page receives a
// delta about once a second with most tiles changed. Reports frame intervals
// (requestAnimationFrame) and long tasks (PerformanceObserver 'longtask') over the window.
//
//   node --import tsx scripts/bench-monitor-page.ts [--points 420] [--seconds 60] [--out FILE]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MonitorPage } from './lib/monitor-page';
import { sleep } from './loadgen/http';
import { runLoad } from './loadgen/run';

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: { points: { type: 'string' }, seconds: { type: 'string' }, out: { type: 'string' } },
  });
  const points = Number(v.points ?? 420);
  const seconds = Number(v.seconds ?? 60);
  const started = Date.now();
  const log = (l: string) =>
    process.stderr.write(`[bench-monitor ${((Date.now() - started) / 1000).toFixed(0)}s] ${l}\n`);
  const r = await runLoad({
    points,
    media: false,
    duration: seconds + 20,
    monitor: true,
    floor: false,
    maxSeconds: seconds + 300,
    log,
    during: async ({ baseUrl, admin }) => {
      const page = await MonitorPage.open(baseUrl, admin);
      try {
        log(`monitor page shows ${page.tiles} tiles; measuring ${seconds} s`);
        await sleep(seconds * 1000);
        return await page.figures();
      } finally {
        await page.close();
      }
    },
  });
  const out = v.out ?? path.join('data', 'loadgen', `monitor-page-${r.startedAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(path.dirname(out), { recursive: true });
  const result = {
    startedAt: r.startedAt,
    page: r.extra,
    monitorDeltaMs: r.signalling.monitorDeltaMs,
    monitorDeltas: r.signalling.monitorDeltas,
    serverEventLoopP99Ms: r.signalling.eventLoopP99Ms,
    cost: r.cost,
  };
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result.page, null, 2)}\nresult: ${out}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench-monitor-page failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
