// Web security as a browser sees it: every page works under the strict Content-Security-
// Policy (no `securitypolicyviolation`, no console error), and user text with markup in
// it (a point's name, a session title, agenda titles, roster names, an operator's name,
// a problem note) shows as text on /host, /join, /checkin, /monitor and the printable
// pages, never as HTML. Cookies (HttpOnly, SameSite=Strict) and cross-site writes are
// covered by accounts-auth.test.ts and control-plane-api.test.ts; the headers are
// checked here once more on pages and API answers. A page of another origin on the same
// site (so the browser does send the SameSite=Strict cookie) cannot open a Socket.IO
// connection with it: the handshake's Origin is checked (docs/security.md).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { launchChromium } from '../helpers/browser';
import { ADMIN_ENV, REFERENCE_AGENDA, TEST_ADMIN, connectSocket, login, publishHall } from '../helpers/briefing';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { openPointPage } from '../helpers/media';
import { startTestRedis, type TestRedis } from '../helpers/redis';

const MARKED = 'HT-CX';
const PLAIN = 'HT-DT';
const POINT_NAME = `<img src=x onerror="window.__xss='point'">Huyện ủy <b>Cẩm Xuyên</b>`;
const TITLE = `<svg onload="window.__xss='title'"></svg>Hội nghị <i>thử</i>`;
const AGENDA_TITLE = `<script>window.__xss='agenda'</script><img src=x onerror="window.__xss='agenda2'">Nghị quyết`;
const ROSTER_NAME = `<img src=x onerror="window.__xss='roster'">Nguyễn Văn <u>A</u>`;
const OPERATOR = `<iframe src="javascript:window.__xss='by'"></iframe>Kỹ thuật`;
const NOTE = `<a href="javascript:window.__xss='note'">bấm</a> mất hình`;

interface Watched {
  page: Page;
  problems: string[];
}

describe('web security in Chromium', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let browser: Browser;
  let cookie: string;
  let sessionId: string;
  const tokens = new Map<string, string>();
  const http = () => request(o.baseUrl);

  /** A page that records CSP violations, console errors and page errors. */
  async function watched(withCookie = false): Promise<Watched> {
    const ctx = await browser.newContext();
    if (withCookie) {
      const [name, ...value] = cookie.split('=');
      await ctx.addCookies([{ name: name!, value: value.join('='), url: o.baseUrl }]);
    }
    await ctx.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        const w = window as unknown as { __csp?: string[] };
        (w.__csp ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    const page = await ctx.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()} ${m.location().url}`);
    });
    page.on('response', (res) => {
      if (res.status() >= 400) problems.push(`response: ${res.status()} ${res.url()}`);
    });
    return { page, problems };
  }

  /** No markup ran or became elements, the text is there literally, nothing was blocked. */
  async function checkPage(w: Watched, literal: string[]): Promise<void> {
    const found = await w.page.evaluate(() => {
      const win = window as unknown as { __xss?: string; __csp?: string[] };
      return {
        xss: win.__xss ?? null,
        csp: win.__csp ?? [],
        handlers: document.querySelectorAll('[onerror],[onload],iframe,img[src="x"],a[href^="javascript:"]').length,
        text: document.body.innerText + ' ' + [...document.querySelectorAll('input')].map((i) => i.value).join(' '),
      };
    });
    expect(found.xss).toBeNull();
    expect(found.handlers).toBe(0);
    expect(found.csp).toEqual([]);
    for (const l of literal) expect(found.text).toContain(l);
    expect(w.problems).toEqual([]);
  }

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, ADMIN_ENV);
    browser = await launchChromium();
    cookie = await login(o.baseUrl);
    await http().patch(`/api/v1/points/${MARKED}`).set('Cookie', cookie).send({ name: POINT_NAME }).expect(200);
    await http()
      .put(`/api/v1/rosters/${MARKED}`)
      .set('Cookie', cookie)
      .send({ entries: [{ name: ROSTER_NAME, position: '<b>Bí thư</b>' }] })
      .expect(200);
    const now = Date.now();
    const created = await http()
      .post('/api/v1/sessions')
      .set('Cookie', cookie)
      .send({
        title: TITLE,
        scheduledStart: new Date(now + 30 * 60_000).toISOString(),
        plannedEnd: new Date(now + 180 * 60_000).toISOString(),
        agenda: [{ ...REFERENCE_AGENDA[0]!, title: AGENDA_TITLE, speaker: '<b>Lê</b> Ngọc Châu' }],
        invite: { mode: 'points', pointIds: [MARKED, PLAIN] },
      })
      .expect(201);
    sessionId = created.body.id;
    await http().post(`/api/v1/sessions/${sessionId}/schedule`).set('Cookie', cookie).expect(200);
    await http().post(`/api/v1/sessions/${sessionId}/open-lobby`).set('Cookie', cookie);
    const links = await http().get(`/api/v1/sessions/${sessionId}/links`).set('Cookie', cookie).expect(200);
    for (const l of links.body.items as { pointId: string; token: string }[]) tokens.set(l.pointId, l.token);
    const host = await connectSocket(o.baseUrl, '/host', { cookie });
    await host.timeout(10_000).emitWithAck('host:attach', { sessionId });
    await publishHall(host);
    await host.timeout(10_000).emitWithAck('session:goLive', {});
    host.close();
    // The operator's name and a problem note, from the point itself.
    const p = await connectSocket(o.baseUrl, '/point', { token: tokens.get(MARKED)! });
    await p.timeout(10_000).emitWithAck('headcount:report', { count: 40, by: OPERATOR });
    await p.timeout(10_000).emitWithAck('problem:report', { kind: 'no-video', note: NOTE });
    p.close();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  test('security headers on pages and API answers', async () => {
    for (const path of ['/host', '/monitor', `/join/${tokens.get(MARKED)}`, '/api/v1/auth/me', '/api/openapi.json']) {
      const res = await http().get(path);
      const h = res.headers;
      expect(h['content-security-policy']).toMatch(/default-src 'self'/);
      expect(h['content-security-policy']).toMatch(/script-src 'self'(;|$)/); // no inline, no eval
      expect(h['content-security-policy']).toMatch(/object-src 'none'/);
      expect(h['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(h['x-content-type-options']).toBe('nosniff');
      expect(h['x-frame-options']).toBe('SAMEORIGIN');
      expect(h['referrer-policy']).toBe('no-referrer');
      expect(h['cross-origin-opener-policy']).toBe('same-origin');
      expect(h['x-powered-by']).toBeUndefined();
    }
    const res = await http().post('/api/v1/auth/login').send(TEST_ADMIN).expect(200);
    const set = String(res.headers['set-cookie']);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
  });

  test('a page of another origin cannot open a monitor socket with the logged-in cookie', async () => {
    // Same site as the server (127.0.0.1, another port): the browser sends the cookie.
    const foreign = createServer((_req, res) => res.end('<!doctype html><title>elsewhere</title>'));
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    const { page } = await watched(true);
    const attempt = (url: string) =>
      page.evaluate(
        (u) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(u);
            ws.onmessage = (e) => {
              const m = String(e.data);
              if (m.startsWith('0')) ws.send('40/monitor,');
              else if (m.startsWith('40/monitor')) resolve('connected');
              else if (m.startsWith('44/monitor')) resolve(`refused by the namespace: ${m}`);
            };
            ws.onerror = () => resolve('handshake refused');
            setTimeout(() => resolve('no answer'), 5000);
          }),
        url,
      );
    const socketUrl = `${o.baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    try {
      // From the server's own page the same code connects (the cookie is valid).
      await page.goto(`${o.baseUrl}/monitor`);
      expect(await attempt(socketUrl)).toBe('connected');
      await page.goto(`http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`);
      expect(await attempt(socketUrl)).toBe('handshake refused');
    } finally {
      await page.context().close();
      foreign.close();
    }
  });

  test('/join: the point name and agenda title with markup show as text; no CSP violation', async () => {
    const w = await watched();
    await w.page.goto(`${o.baseUrl}/join/${tokens.get(MARKED)}`);
    await w.page.waitForSelector('[data-testid=caption]:has-text("Nghị quyết")');
    // What the page does by itself once shown: its first health report answered, and the
    // point's own headcount fetched into the extras; then the QR code, on demand.
    await w.page.waitForSelector('[data-testid=health-status][class*="st-"]', { timeout: 20_000 });
    await w.page.waitForSelector('[data-testid=headcount-now]:has-text("40")', { timeout: 20_000 });
    await w.page.click('[data-testid=qr-toggle]');
    await w.page.waitForSelector('[data-testid=qr-image][src]');
    await checkPage(w, [POINT_NAME, AGENDA_TITLE, TITLE]);
    await w.page.context().close();
  }, 60_000);

  test('/join: a link the server does not know is refused, and the page says so', async () => {
    const w = await watched();
    await openPointPage(w.page, `${o.baseUrl}/join/not-a-link-${Date.now()}`, { until: 'refused', timeoutMs: 10_000 });
    expect(await w.page.textContent('[role=status]')).toContain('Đường dẫn không hợp lệ');
    await w.page.context().close();
  });

  test('/checkin: the point name and the matched roster name show as text', async () => {
    const p = await connectSocket(o.baseUrl, '/point', { token: tokens.get(PLAIN)! });
    // The marked point's code: its own socket replaced by a new one, briefly.
    p.close();
    const m = await connectSocket(o.baseUrl, '/point', { token: tokens.get(MARKED)! });
    const qr = (await m.timeout(10_000).emitWithAck('checkin:qr', {})) as { ok: boolean; data: { url: string } };
    m.close();
    expect(qr.ok).toBe(true);
    const w = await watched();
    await w.page.goto(new URL(qr.data.url).pathname.replace(/^/, o.baseUrl));
    // The phone is not given the roster; the name typed in full is matched to its entry,
    // whose spelling and position come back (through the page's device cookie).
    await w.page.waitForSelector('[data-testid=checkin-form]:not(.hidden)');
    await w.page.fill('[data-testid=checkin-name]', ROSTER_NAME);
    await w.page.click('[data-testid=checkin-submit]');
    await w.page.waitForSelector('[data-testid=checkin-done]:not(.hidden)');
    await checkPage(w, [POINT_NAME, `${ROSTER_NAME} — <b>Bí thư</b>`]);
    // The phone is known by its HttpOnly cookie: opened again, it shows its own check-in.
    expect(await w.page.evaluate(() => document.cookie)).toBe('');
    await w.page.reload();
    await w.page.waitForSelector('[data-testid=checkin-done]:not(.hidden)');
    expect(await w.page.innerText('[data-testid=checkin-done]')).toContain('Bạn đã điểm danh trước đó');
    await checkPage(w, [`${ROSTER_NAME} — <b>Bí thư</b>`]);
    await w.page.context().close();
  });

  test('/host and /monitor: names, titles, the operator and the note show as text', async () => {
    const h = await watched(true);
    await h.page.goto(`${o.baseUrl}/host`);
    await h.page.waitForSelector('[data-testid=sessions-view]');
    await h.page.waitForFunction((t) => document.body.innerText.includes(t), TITLE);
    await h.page.click('[data-testid=sessions-view] button:has-text("Mở")');
    await h.page.click('button:has-text("Đường dẫn tham dự")');
    await h.page.waitForFunction((t) => document.body.innerText.includes(t), POINT_NAME);
    await checkPage(h, [TITLE, POINT_NAME]);
    await h.page.context().close();

    const w = await watched(true);
    await w.page.goto(`${o.baseUrl}/monitor`);
    await w.page.waitForSelector(`[data-testid="tile-${MARKED}"]`);
    await w.page.click(`[data-testid="tile-${MARKED}"]`);
    await w.page.waitForSelector('[data-testid="detail-events"]');
    await w.page.waitForFunction(() => document.body.innerText.includes('mất hình'));
    await checkPage(w, [POINT_NAME]);
    const body = await w.page.evaluate(() => document.body.innerText);
    expect(body.includes(NOTE) || body.includes(OPERATOR)).toBe(true);
    await w.page.context().close();
  }, 60_000);

  test('the printable links sheet and the report show user text as text', async () => {
    await http().post(`/api/v1/sessions/${sessionId}/end`).set('Cookie', cookie).expect(200);
    await waitFor(
      async () => (await http().get(`/api/v1/reports/${sessionId}`).set('Cookie', cookie)).body.state === 'ready',
      'the report',
      30_000,
      250,
    );
    for (const path of [`/api/v1/reports/${sessionId}/html`, `/api/v1/sessions/${sessionId}/links/print`]) {
      const w = await watched(true);
      await w.page.goto(`${o.baseUrl}${path}`);
      await checkPage(w, [POINT_NAME]);
      await w.page.context().close();
    }
  });
});
