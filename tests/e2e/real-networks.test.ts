// A briefing over a network of real addresses, not loopback: the server process (as
// `npm start` runs it, with its local CA and its embedded coturn) in a namespace of its own,
// three connection points in three "site" namespaces and a delegate's phone in a fourth,
// Chromium inside each (scripts/lib/netns-topology.ts). The sites open the https links and
// trust the server's CA by its key hash only. One site's firewall drops all UDP and the
// relay's address: its media comes over ICE-TCP and its tile says "TCP". Another's lets out
// nothing but TCP to port 443: it receives through the TURN relay over TLS and its tile
// says "relay".
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { spkiSha256 } from '../../server/net/tls';
import { CHROMIUM, chromiumArgs } from '../helpers/browser';
import { login, prepareBriefing, trustCa, type PreparedBriefing } from '../helpers/briefing';
import { decoding, hostGoesLive } from '../helpers/media';
import { requireNetnsInCi } from '../helpers/netns';
import {
  canBuildTopology,
  createTopology,
  noUdpNorRelay,
  ONLY_TCP_443,
  startServerIn,
  type ServerInTopology,
  type Topology,
} from '../../scripts/lib/netns-topology';

const SITES = { a: 'HT-CX', b: 'HT-DT', c: 'HT-VQ' } as const; // b: no UDP, no relay; c: only TCP 443 out
const ADMIN = { username: 'chief', password: 'a-long-setup-password-1' };
const cannot = canBuildTopology();

(cannot ? describe.skip : describe)('a briefing across real addresses (namespaces, HTTPS, TURN)', () => {
  let net: Topology;
  let server: ServerInTopology | undefined;
  let line: ServerInTopology['line'];
  let base: string;
  let caPem: string;
  let spkiFlag: string;
  let b: PreparedBriefing;
  let hostBrowser: Browser;
  let hostCtx: BrowserContext;
  let host: Page;
  const browsers: Browser[] = [];
  const pages = new Map<string, Page>();
  const errors: string[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'real-networks-'));

  beforeAll(async () => {
    net = createTopology(['a', 'b', 'c', 'phone']);
    // Not the relay either: Chromium keeps the first pair that answers until a better one
    // does, and a site that may reach the relay can stay on it (docs/deploying.md).
    net.sites.get('b')!.firewall(noUdpNorRelay(net.turnIp));
    net.sites.get('c')!.firewall(ONLY_TCP_443);
    base = `https://${net.serverIp}`;
    // A check-in QR code is valid for its window, the next one and the grace; the phone's
    // browser starts after the code is read, and a loaded test machine can take longer than
    // that to start Chromium and load the page over HTTPS.
    server = await startServerIn(net, dataDir, { CHECKIN_GRACE_SECONDS: '120' });
    line = server.line;
    const caFile = path.join(dataDir, 'tls', 'ca.crt');
    caPem = fs.readFileSync(caFile, 'utf8');
    // Trust the server's CA by its key hash, for this test process and the browsers alike.
    https.globalAgent.options.ca = caPem;
    trustCa(caPem);
    spkiFlag = `--ignore-certificate-errors-spki-list=${spkiSha256(caPem)}`;
    hostBrowser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumArgs([spkiFlag]) });
  }, 120_000);

  afterAll(async () => {
    try {
      for (const br of [...browsers, hostBrowser]) await br?.close().catch(() => undefined);
      // A clean stop: the server stops its coturn and Redis (remove() kills what is left).
      await server?.stop();
    } finally {
      trustCa(undefined);
      net?.remove();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  test('the start-up lines name the address, the CA and its fingerprint, the relay and a setup link', () => {
    expect(line('Address points reach:')).toContain(`${net.serverIp} (from PUBLIC_URL)`);
    expect(line('Media announced on:')).toContain(net.serverIp);
    expect(line('Certificate authority:')).toContain(`${path.join(dataDir, 'tls', 'ca.crt')} (created now)`);
    expect(line('CA fingerprint:')).toMatch(/SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    expect(line('TURN relay:')).toContain(`turns:${net.turnIp}:443?transport=tcp`);
    expect(line('Setup link:')).toMatch(new RegExp(`^\\s*Setup link:\\s+${base}/setup/[A-Za-z0-9_-]{20,}$`));
  });

  test('plain HTTP is redirected to HTTPS; the CA page and file answer over both', async () => {
    const get = (url: string) =>
      new Promise<{ status: number; location?: string; body: string }>((resolve, reject) => {
        (url.startsWith('https') ? https : http)
          .get(url, (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location, body }));
          })
          .on('error', reject);
      });
    const plain = await get(`http://${net.serverIp}:443/host?x=1`);
    expect(plain.status).toBe(308);
    expect(plain.location).toBe(`${base}/host?x=1`);
    const fingerprint = line('CA fingerprint:')!.split('SHA-256 ')[1]!.trim();
    expect((await get(`http://${net.serverIp}:443/ca`)).body).toContain(fingerprint);
    expect((await get(`${base}/ca`)).body).toContain(fingerprint);
    expect((await get(`http://${net.serverIp}:443/ca.crt`)).body).toBe(caPem);
  });

  test('first run: the login page says what to do; the setup link creates the first admin, once', async () => {
    hostCtx = await hostBrowser.newContext();
    host = await hostCtx.newPage();
    host.on('pageerror', (e) => errors.push(`host: ${e.message}`));
    await host.goto(`${base}/host`);
    await host.waitForSelector('[data-testid=login-no-account]:has-text("setup")');
    const link = line('Setup link:')!.split(/\s+/).pop()!;
    await host.goto(link);
    await host.fill('[data-testid=setup-username]', ADMIN.username);
    await host.fill('[data-testid=setup-password]', ADMIN.password);
    await host.fill('[data-testid=setup-password-again]', ADMIN.password);
    await host.click('button:has-text("Tạo tài khoản")');
    await host.waitForSelector('[data-testid=setup-done]');
    // Used once: the same link is refused now.
    const again = await host.evaluate(async (token) => {
      const r = await fetch('/api/v1/setup', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token, username: 'second', password: 'another-password-12' }),
      });
      return r.status;
    }, link.split('/').pop()!);
    expect(again).toBe(409);
  }, 60_000);

  test('every site decodes the hall and hears it, over UDP, ICE-TCP or the TLS relay, and its tile says which', async () => {
    // A retried attempt starts over, without the browsers of the first decoding beside it.
    for (const br of browsers.splice(0)) await br.close().catch(() => undefined);
    pages.clear();
    b = await prepareBriefing(base, [...Object.values(SITES), 'HT-KA'], { user: ADMIN });
    const cookie = await login(base, ADMIN);
    const [name, ...value] = cookie.split('=');
    await hostCtx.addCookies([{ name: name!, value: value.join('='), url: base }]);
    await hostGoesLive(host, base);
    for (const [site, pointId] of Object.entries(SITES)) {
      const browser = await net.sites.get(site)!.launchChromium([spkiFlag]);
      browsers.push(browser);
      const page = await (await browser.newContext()).newPage();
      page.on('pageerror', (e) => errors.push(`${site}: ${e.message}`));
      await page.goto(b.links.find((l) => l.pointId === pointId)!.url);
      pages.set(site, page);
    }
    for (const [site, page] of pages) {
      await decoding(page, 'host-camera', { timeoutMs: 60_000 }).catch((e: unknown) => {
        throw new Error(`${site}: ${String(e)}; errors: ${errors.join(' | ')}`);
      });
      // The page starts muted (autoplay rules); the operator clicks once to hear the hall.
      await page.click('[data-testid=unmute]');
      await decoding(page, 'host-mic', { what: 'energy', timeoutMs: 30_000 });
    }
    // The page says how its media arrives (its selected ICE pair, read every 2 s), and
    // reports it; a pair that answers first may be replaced by a better one, so each page
    // is waited on.
    const pagePath = async (site: string) => pages.get(site)!.getAttribute('[data-testid=health-status]', 'data-path');
    const pathBecomes = async (site: string, path: string) => {
      await pages
        .get(site)!
        .waitForSelector(`[data-testid=health-status][data-path="${path}"]`, { timeout: 60_000 })
        .catch(async () => {
          throw new Error(`${site}: media path ${String(await pagePath(site))}, not ${path}`);
        });
    };
    await pathBecomes('a', 'udp');
    await pathBecomes('b', 'tcp');
    await pathBecomes('c', 'relay');
    const relayProtocol = await pages.get('c')!.evaluate(async () => {
      const w = window as unknown as { briefing: { receiver: { transport: { getStats(): Promise<RTCStatsReport> } } } };
      const stats = [...(await w.briefing.receiver.transport.getStats()).values()] as Record<string, unknown>[];
      const t = stats.find((s) => s.type === 'transport');
      const pair = stats.find((s) => s.id === t?.selectedCandidatePairId);
      return stats.find((s) => s.id === pair?.localCandidateId)?.relayProtocol;
    });
    expect(relayProtocol).toBe('tls');
    // The monitor's tiles: relay for the point behind TCP 443 only, TCP without UDP, else UDP.
    const monitor = await hostCtx.newPage();
    await monitor.goto(`${base}/monitor`);
    await monitor.waitForSelector(`[data-testid=path-${SITES.c}]:has-text("relay")`, { timeout: 30_000 });
    await monitor.waitForSelector(`[data-testid=path-${SITES.b}]:has-text("TCP")`, { timeout: 30_000 });
    expect(await monitor.textContent(`[data-testid=path-${SITES.a}]`)).toBe('UDP');
    await monitor.close();
  }, 240_000);

  test('a site given the floor publishes its camera from its secure remote origin; the others decode it', async () => {
    const speaker = pages.get('a')!;
    expect(await speaker.evaluate(() => window.isSecureContext && location.protocol)).toBe('https:');
    await speaker.click('[data-testid=raise-hand]');
    await host.click(`[data-testid=give-floor-${SITES.a}]`);
    await speaker.waitForSelector('[data-testid=on-air]:not(.hidden)', { timeout: 15_000 });
    await decoding(pages.get('b')!, 'floor-camera', { timeoutMs: 45_000 });
    await decoding(pages.get('c')!, 'floor-camera', { timeoutMs: 45_000 });
  }, 90_000);

  test("a delegate's phone on its own network checks in", async () => {
    const qr = await pages.get('b')!.evaluate(async () => {
      const w = window as unknown as {
        briefing: { socket: { timeout(ms: number): { emitWithAck(e: string, p: unknown): Promise<unknown> } } };
      };
      return (await w.briefing.socket.timeout(10_000).emitWithAck('checkin:qr', {})) as {
        ok: boolean;
        data: { url: string };
      };
    });
    expect(qr.ok).toBe(true);
    expect(qr.data.url.startsWith(`${base}/checkin/`)).toBe(true);
    const phone = await net.sites.get('phone')!.launchChromium([spkiFlag]);
    browsers.push(phone);
    const page = await (await phone.newContext({ viewport: { width: 390, height: 800 }, isMobile: true })).newPage();
    await page.goto(qr.data.url);
    await page.waitForSelector('[data-testid=checkin-form]:not(.hidden)');
    await page.fill('[data-testid=checkin-name]', 'Nguyễn Văn An');
    await page.click('[data-testid=checkin-submit]');
    await page.waitForSelector('[data-testid=checkin-done]:not(.hidden)');
    const mine = await pages.get('b')!.evaluate(async () => {
      const w = window as unknown as {
        briefing: { socket: { timeout(ms: number): { emitWithAck(e: string, p: unknown): Promise<unknown> } } };
      };
      return (await w.briefing.socket.timeout(10_000).emitWithAck('attendance:mine', {})) as {
        data: { checkedIn: number };
      };
    });
    expect(mine.data.checkedIn).toBe(1);
  }, 120_000);

  test('no page error through all of it', () => {
    expect(errors).toEqual([]);
  });
});

requireNetnsInCi('real-networks', cannot);
