#!/usr/bin/env node
// How soon the point page's first line runs (`globalThis.__joinStages.script`, ms since its
// navigation) in Debian Chromium, for two client builds side by side: each build's
// /join/<token> served as the server shapes it (the boot script, the page's
// `<link rel="modulepreload">` from the build's preload.json, its entry module; bundles
// sent brotli-compressed as built) by a small static server, with no product server and no
// network behind it. The page's socket then fails to connect, which is after the instant
// measured. The builds' loads alternate (the order swapped every round), each in a fresh
// browser context (nothing cached), so both see the machine as busy as the other.
//
//   node scripts/build-client.mjs --outdir /tmp/a   # in a checkout of each build
//   node scripts/bench-page-start.mjs --before /tmp/a --after /tmp/b [--rounds 12] [--out FILE]
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: args } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string' },
    rounds: { type: 'string', default: '12' },
    out: { type: 'string' },
  },
});
if (!args.before || !args.after) {
  process.stderr.write('bench-page-start: --before and --after (two build-client output folders) are needed\n');
  process.exit(2);
}
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write('bench-page-start: --rounds must be a whole number of at least 1\n');
  process.exit(2);
}

/** A static server of one build's point page and bundles, and the page's script size. */
function serve(dir) {
  const preload = JSON.parse(fs.readFileSync(path.join(dir, 'preload.json'), 'utf8')).join ?? [];
  const links = preload.map((f) => `<link rel="modulepreload" href="/bundle/${f}">`).join('');
  const html = `<!doctype html><html><head><meta charset="utf-8"><script src="/bundle/boot.js"></script>${links}<script type="module" src="/bundle/join.js"></script></head><body></body></html>`;
  const server = http.createServer((req, res) => {
    if (req.url.startsWith('/join/')) {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
      return res.end(html);
    }
    const file = /^\/bundle\/([\w.-]+\.js)$/.exec(req.url)?.[1];
    if (!file || !fs.existsSync(path.join(dir, `${file}.br`))) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/javascript', 'content-encoding': 'br', 'cache-control': 'no-store' });
    res.end(fs.readFileSync(path.join(dir, `${file}.br`)));
  });
  const kib = ['join.js', ...preload].reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0) / 1024;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, kib: Math.round(kib) })));
}

const nearest = (v, p) =>
  [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
const builds = { before: await serve(args.before), after: await serve(args.after) };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--headless=new'],
});
const scriptMs = { before: [], after: [] };
const loadAverage = [os.loadavg()[0]];
try {
  for (let round = 0; round < rounds; round++) {
    for (const name of round % 2 ? ['after', 'before'] : ['before', 'after']) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`http://127.0.0.1:${builds[name].server.address().port}/join/abcdefghijklmnopqrstu`, {
        waitUntil: 'commit',
      });
      await page.waitForFunction(() => globalThis.__joinStages?.script !== undefined, null, {
        timeout: 120_000,
        polling: 50,
      });
      scriptMs[name].push(Math.round(await page.evaluate(() => globalThis.__joinStages.script)));
      await ctx.close();
    }
    loadAverage.push(os.loadavg()[0]);
  }
} finally {
  await browser.close();
  for (const b of Object.values(builds)) b.server.close();
}
const result = {
  startedAt: new Date().toISOString(),
  what: "ms from navigation to the point page's first line, two builds' loads alternating, nearest rank",
  chromium: browser.version(),
  cpus: os.cpus().length,
  loadAverage1m: loadAverage.map((x) => Math.round(x * 10) / 10),
  kib: { before: builds.before.kib, after: builds.after.kib },
  figures: Object.fromEntries(
    Object.entries(scriptMs).map(([k, v]) => [
      k,
      { n: v.length, p50: nearest(v, 50), p95: nearest(v, 95), max: Math.max(...v) },
    ]),
  ),
  afterSoonerInRounds: scriptMs.after.filter((a, i) => a < scriptMs.before[i]).length,
  scriptMs,
};
for (const k of ['before', 'after']) {
  const f = result.figures[k];
  process.stdout.write(`${k}: ${result.kib[k]} KiB, first line p50 ${f.p50} / p95 ${f.p95} / max ${f.max} ms\n`);
}
process.stdout.write(`after sooner in ${result.afterSoonerInRounds} of ${rounds} rounds\n`);
if (args.out) fs.writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
