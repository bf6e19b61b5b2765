// Benchmark of the /monitor page: 420 tiles in Debian Chromium while 420 virtual points
// (signalling only, see scripts/loadgen) report health every 2 s, so the page receives a
// delta about once a second with most tiles changed. Reports frame intervals
// (requestAnimationFrame) and long tasks (PerformanceObserver 'longtask') over the window.
//
//   node --import tsx scripts/bench-monitor-page.ts [--points 420] [--seconds 60] [--out FILE]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { launchChromium } from './lib/chromium';
import { runLoad } from './loadgen/run';
import { percentile, round } from './loadgen/stats';

interface PageStats {
  frames: number[];
  longTasks: number[];
  deltas: number;
}

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
      const browser = await launchChromium();
      try {
        const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
        const pageErrors: string[] = [];
        page.on('pageerror', (e) => pageErrors.push(e.message));
        await page.goto(`${baseUrl}/monitor`);
        await page.fill('[data-testid="login-username"]', admin.username);
        await page.fill('[data-testid="login-password"]', admin.password);
        await page.press('[data-testid="login-password"]', 'Enter');
        await page.waitForSelector('[data-testid^="tile-"]', { timeout: 30_000 });
        const tiles = await page.locator('[data-testid^="tile-"]').count();
        log(`monitor page shows ${tiles} tiles; measuring ${seconds} s`);
        // A string, not a function: tsx (esbuild keepNames) would put `__name(...)` calls in
        // a serialised function, and the page has no such helper.
        await page.evaluate(`(() => {
          const b = (window.__bench = { frames: [], longTasks: [], deltas: 0 });
          new PerformanceObserver((list) => {
            for (const e of list.getEntries()) b.longTasks.push(e.duration);
          }).observe({ type: 'longtask', buffered: false });
          let last = performance.now();
          function tick(t) {
            b.frames.push(t - last);
            last = t;
            requestAnimationFrame(tick);
          }
          requestAnimationFrame(tick);
          new MutationObserver((m) => (b.deltas += m.length)).observe(document.body, {
            subtree: true, attributes: true, characterData: true, childList: true,
          });
        })()`);
        await page.waitForTimeout(seconds * 1000);
        const s = (await page.evaluate('window.__bench')) as PageStats;
        const heap = (await page.evaluate('performance.memory ? performance.memory.usedJSHeapSize : 0')) as number;
        return {
          tiles,
          seconds,
          frames: s.frames.length,
          fps: round(s.frames.length / seconds, 1),
          frameMs: {
            p50: round(percentile(s.frames, 50), 1),
            p95: round(percentile(s.frames, 95), 1),
            p99: round(percentile(s.frames, 99), 1),
            max: round(
              s.frames.reduce((a, b) => (b > a ? b : a), 0),
              1,
            ),
          },
          longTasks: {
            count: s.longTasks.length,
            totalMs: round(
              s.longTasks.reduce((a, b) => a + b, 0),
              0,
            ),
            p95: round(percentile(s.longTasks, 95), 0),
            max: round(Math.max(0, ...s.longTasks), 0),
          },
          domMutations: s.deltas,
          jsHeapMiB: round(heap / 2 ** 20, 1),
          pageErrors,
        };
      } finally {
        await browser.close();
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
