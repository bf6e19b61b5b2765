// How soon the point page's first line runs (`globalThis.__joinStages.script`, ms since its
// navigation) in Debian Chromium, for two client builds side by side: each build's
// /join/<token> served as the server shapes it (the boot script, the page's
// `<link rel="modulepreload">` from the build's preload.json, its entry module; bundles
// sent brotli-compressed as built) by a small static server, with no product server and no
// network behind it. The page's socket then fails to connect, which is after the instant
// measured. The builds' loads alternate (the order swapped every round), each in a fresh
// browser context (nothing cached), so both see the machine as busy as the other. The
// result names each build's checkout as its folder records it (build.json: commit, and
// whether the tree had changes), or says that the folder records none.
//
//   node scripts/build-client.mjs --outdir /tmp/a   # in a checkout of each build
//   node --import tsx scripts/bench-page-start.ts --before /tmp/a --after /tmp/b [--rounds 12] [--out FILE]
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describeCheckout, readBuildCheckout, type Checkout } from './lib/checkout';
import { CHROMIUM } from './lib/chromium';
import { exitCodeFor, parseOptions, UsageError, wholeNumber } from './lib/command-line';
import { percentile } from './loadgen/stats';

const USAGE = `usage: node --import tsx scripts/bench-page-start.ts --before DIR --after DIR [--rounds 12] [--out FILE]
  --before, --after  two build-client output folders (node scripts/build-client.mjs --outdir DIR)
  --rounds N         loads of each build, alternating (default 12)
  --out FILE         the result as JSON
`;
type Name = 'before' | 'after';
/** What the point page sets on its global (client/src/rtc/join-stages.ts). */
type JoinGlobal = { __joinStages?: { script?: number } };
const NAMES: readonly Name[] = ['before', 'after'];

interface Build {
  dir: string;
  server: http.Server;
  kib: number;
  /** The checkout the folder was built from (its build.json); null when it records none. */
  checkout: Checkout | null;
}

/** The point page's files the static server needs of a build (serve). */
const BUILD_FILES = ['preload.json', 'join.js', 'join.js.br', 'boot.js.br'];

/** `--<name> DIR` names a build-client output folder, or the command line is refused. */
function requireBuild(name: Name, dir: string): void {
  const missing = BUILD_FILES.filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length > 0)
    throw new UsageError(
      `--${name} ${dir} is not a client build (no ${missing.join(', ')}): ` +
        `build one with node scripts/build-client.mjs --outdir ${dir}`,
    );
}

/** A static server of one build's point page and bundles, and the page's script size. */
function serve(dir: string): Promise<Build> {
  const preload =
    (JSON.parse(fs.readFileSync(path.join(dir, 'preload.json'), 'utf8')) as { join?: string[] }).join ?? [];
  const links = preload.map((f) => `<link rel="modulepreload" href="/bundle/${f}">`).join('');
  const html = `<!doctype html><html><head><meta charset="utf-8"><script src="/bundle/boot.js"></script>${links}<script type="module" src="/bundle/join.js"></script></head><body></body></html>`;
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    if (url.startsWith('/join/')) {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
      res.end(html);
      return;
    }
    const file = /^\/bundle\/([\w.-]+\.js)$/.exec(url)?.[1];
    if (!file || !fs.existsSync(path.join(dir, `${file}.br`))) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/javascript', 'content-encoding': 'br', 'cache-control': 'no-store' });
    res.end(fs.readFileSync(path.join(dir, `${file}.br`)));
  });
  const kib = ['join.js', ...preload].reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0) / 1024;
  const checkout = readBuildCheckout(dir);
  if (!checkout) process.stderr.write(`bench-page-start: ${dir} records no checkout (no build.json): rebuild it\n`);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ dir: path.resolve(dir), server, kib: Math.round(kib), checkout })),
  );
}

async function main(): Promise<number> {
  const args = parseOptions({
    before: { type: 'string' },
    after: { type: 'string' },
    rounds: { type: 'string', default: '12' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!args.before || !args.after)
    throw new UsageError('--before and --after (two build-client output folders) are needed');
  const rounds = wholeNumber(args.rounds, 'rounds', 1);
  requireBuild('before', args.before);
  requireBuild('after', args.after);
  const builds: Record<Name, Build> = { before: await serve(args.before), after: await serve(args.after) };
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--headless=new'],
  });
  const chromiumVersion = browser.version();
  const scriptMs: Record<Name, number[]> = { before: [], after: [] };
  const loadAverage = [os.loadavg()[0]!];
  const startedAt = new Date().toISOString();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const name of round % 2 ? [...NAMES].reverse() : NAMES) {
        const ctx = await browser.newContext();
        const page = await ctx.newPage();
        const { port } = builds[name].server.address() as AddressInfo;
        await page.goto(`http://127.0.0.1:${port}/join/abcdefghijklmnopqrstu`, { waitUntil: 'commit' });
        // Run in the page: nothing of this module's scope reaches them.
        await page.waitForFunction(
          () => (globalThis as unknown as JoinGlobal).__joinStages?.script !== undefined,
          null,
          {
            timeout: 120_000,
            polling: 50,
          },
        );
        scriptMs[name].push(
          Math.round(await page.evaluate(() => (globalThis as unknown as JoinGlobal).__joinStages!.script!)),
        );
        await ctx.close();
      }
      loadAverage.push(os.loadavg()[0]!);
    }
  } finally {
    await browser.close();
    for (const b of Object.values(builds)) b.server.close();
  }
  const figure = (v: number[]) => ({
    n: v.length,
    p50: percentile(v, 50),
    p95: percentile(v, 95),
    max: Math.max(...v),
  });
  const result = {
    startedAt,
    what: "ms from navigation to the point page's first line, two builds' loads alternating, nearest rank",
    command: `node --import tsx scripts/bench-page-start.ts --before ${args.before} --after ${args.after} --rounds ${rounds}`,
    chromium: chromiumVersion,
    cpus: os.cpus().length,
    loadAverage1m: loadAverage.map((x) => Math.round(x * 10) / 10),
    builds: Object.fromEntries(NAMES.map((k) => [k, { dir: builds[k].dir, checkout: builds[k].checkout }])),
    kib: { before: builds.before.kib, after: builds.after.kib },
    figures: { before: figure(scriptMs.before), after: figure(scriptMs.after) },
    afterSoonerInRounds: scriptMs.after.filter((a, i) => a < scriptMs.before[i]!).length,
    scriptMs,
  };
  for (const k of NAMES) {
    const f = result.figures[k];
    const built = describeCheckout(builds[k].checkout);
    process.stdout.write(
      `${k} (${built}): ${result.kib[k]} KiB, first line p50 ${f.p50} / p95 ${f.p95} / max ${f.max} ms\n`,
    );
  }
  process.stdout.write(`after sooner in ${result.afterSoonerInRounds} of ${rounds} rounds\n`);
  if (args.out) fs.writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => process.exit(exitCodeFor('bench-page-start', USAGE, err)),
);
