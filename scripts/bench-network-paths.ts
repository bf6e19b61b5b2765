// Time from opening a point's link to its first decoded frame of the hall, by media path:
// direct UDP, ICE-TCP (the site drops all UDP) and the TURN relay over TLS (the site lets
// out only TCP 443), in the namespace topology of the network test (server as `npm start`
// runs it, HTTPS with a local CA, embedded coturn). Needs root.
//
//   node --import tsx scripts/bench-network-paths.ts [--repeats 7] [--out docs/results/<date>-network-paths.json]
//
// Each repeat opens the link in a fresh browser context (no cache, no earlier ICE state)
// and polls the page's consumer stats every 25 ms. Paths take turns within a repeat so a
// burst of load from elsewhere spreads over all three. The result lists every sample, the
// median, min, max and spread, the path each page really took, and the machine's load.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { spkiSha256 } from '../server/net/tls';
import { CHROMIUM, chromiumArgs } from './lib/chromium';
import { prepareBriefing, trustCa } from './lib/briefing-api';
import { hostGoesLive, mediaStats } from './lib/briefing-pages';
import {
  canBuildTopology,
  createTopology,
  NO_UDP,
  ONLY_TCP_443,
  startServerIn,
  type Topology,
} from './lib/netns-topology';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const REPEATS = Number(arg('repeats', '7'));
const PATHS = { udp: 'HT-CX', tcp: 'HT-DT', relay: 'HT-VQ' } as const;
type PathName = keyof typeof PATHS;
const ADMIN = { username: 'bench', password: 'bench-password-123456' };

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]!;
};

async function main(): Promise<void> {
  const cannot = canBuildTopology();
  if (cannot) throw new Error(`bench-network-paths ${cannot}`);
  const loadBefore = os.loadavg();
  const net: Topology = createTopology(Object.keys(PATHS));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-paths-'));
  const browsers: Browser[] = [];
  const server = await startServerIn(net, dataDir);
  try {
    net.sites.get('tcp')!.firewall(NO_UDP);
    net.sites.get('relay')!.firewall(ONLY_TCP_443);
    const base = `https://${net.serverIp}`;
    const caPem = fs.readFileSync(path.join(dataDir, 'tls', 'ca.crt'), 'utf8');
    trustCa(caPem);
    const spki = `--ignore-certificate-errors-spki-list=${spkiSha256(caPem)}`;
    const token = server.line('Setup link:')!.split('/').pop()!;
    const made = await fetchJson(`${base}/api/v1/setup`, caPem, { token, ...ADMIN });
    if (made.status !== 201) throw new Error(`setup: ${made.status}`);
    const b = await prepareBriefing(base, Object.values(PATHS), { user: ADMIN });
    const hostBrowser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs([spki]) });
    browsers.push(hostBrowser);
    const hostCtx = await hostBrowser.newContext();
    const [name, ...value] = b.cookie.split('=');
    await hostCtx.addCookies([{ name: name!, value: value.join('='), url: base }]);
    const host = await hostCtx.newPage();
    await hostGoesLive(host, base);
    const siteBrowsers = new Map<PathName, Browser>();
    for (const p of Object.keys(PATHS) as PathName[]) {
      const br = await net.sites.get(p)!.launchChromium([spki]);
      browsers.push(br);
      siteBrowsers.set(p, br);
    }
    // Let the host's send side settle (bandwidth ramp) before measuring.
    await new Promise((r) => setTimeout(r, 10_000));
    const samples: Record<PathName, number[]> = { udp: [], tcp: [], relay: [] };
    const taken: Record<PathName, string[]> = { udp: [], tcp: [], relay: [] };
    for (let r = 0; r < REPEATS; r++) {
      for (const p of Object.keys(PATHS) as PathName[]) {
        const ctx = await siteBrowsers.get(p)!.newContext();
        const page = await ctx.newPage();
        const url = b.links.find((l) => l.pointId === PATHS[p])!.url;
        const t0 = Date.now();
        await page.goto(url, { waitUntil: 'commit' });
        for (;;) {
          const s = await mediaStats(page).catch(() => []);
          if (s.some((x) => x.source === 'host-camera' && x.frames > 0)) break;
          if (Date.now() - t0 > 60_000) throw new Error(`${p}: no frame in 60 s`);
          await new Promise((res) => setTimeout(res, 25));
        }
        samples[p].push(Date.now() - t0);
        const el = await page.waitForSelector('[data-testid=health-status][data-path]:not([data-path=""])', {
          timeout: 20_000,
        });
        taken[p].push((await el.getAttribute('data-path')) ?? '?');
        await ctx.close();
        process.stderr.write(`[paths] repeat ${r + 1}/${REPEATS} ${p}: ${samples[p].at(-1)} ms (${taken[p].at(-1)})\n`);
      }
    }
    const loadAfter = os.loadavg();
    const summary = Object.fromEntries(
      (Object.keys(PATHS) as PathName[]).map((p) => {
        const xs = samples[p];
        return [
          p,
          {
            n: xs.length,
            medianMs: quantile(xs, 0.5),
            minMs: Math.min(...xs),
            maxMs: Math.max(...xs),
            p90Ms: quantile(xs, 0.9),
            spreadMs: Math.max(...xs) - Math.min(...xs),
            pathTaken: [...new Set(taken[p])],
          },
        ];
      }),
    );
    const result = {
      benchmark: 'network-paths',
      at: new Date().toISOString(),
      command: `node --import tsx scripts/bench-network-paths.ts --repeats ${REPEATS}`,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) },
      load: { before: loadBefore, after: loadAfter },
      summary,
      samplesMs: samples,
    };
    const out = arg('out', path.join('docs', 'results', `${result.at.slice(0, 10)}-network-paths.json`));
    fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      `${JSON.stringify(summary, null, 2)}\nload before ${loadBefore.map((x) => x.toFixed(2))}, after ${loadAfter.map((x) => x.toFixed(2))}\nwritten to ${out}\n`,
    );
  } finally {
    for (const br of browsers) await br.close().catch(() => undefined);
    await server.stop();
    net.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function fetchJson(url: string, ca: string, body: unknown): Promise<{ status: number }> {
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca, headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode! }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
