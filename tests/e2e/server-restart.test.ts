// The server process is SIGKILLed in the middle of a live briefing and started again on
// the same port with the same Redis, as a supervisor (systemd, Docker) would: the point
// pages and the host console come back by themselves, the session is still live, the
// attendance and health history recorded before the crash are intact, and a session
// whose lobby was due while the server was down opens on time.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { launchChromium } from '../helpers/browser';
import { ADMIN_ENV, login, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { decoding, hostGoesLive, markPage, notReloaded, openPointPage } from '../helpers/media';
import { waitFor } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';
import { tiedSpawn } from '../../server/platform/tied-spawn';

const ROOT = path.resolve(__dirname, '..', '..');
const POINTS = ['HT-CX', 'HT-DT'];
const log = (line: string) => process.stderr.write(`[fault] ${line}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

interface Server {
  child: ChildProcess;
  out: () => string;
  exited: Promise<void>;
}

function startServer(env: Record<string, string>): Server {
  const child = tiedSpawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_PRETTY: 'false', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (b) => (text += b));
  child.stderr!.on('data', (b) => (text += b));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, out: () => text, exited };
}

describe('the server process is SIGKILLed and restarted mid-briefing', () => {
  let r: TestRedis;
  let server: Server | undefined;
  let env: Record<string, string>;
  /** No APP_SECRET: the server keeps its generated one here, and the restart reads it back. */
  let dataDir: string;
  let base: string;
  let b: PreparedBriefing;
  let browser: Browser;
  let hostCtx: BrowserContext;
  let host: Page;
  const pages = new Map<string, Page>();

  const ready = async (timeoutMs = 60_000) => {
    await waitFor(
      async () => (await fetch(`${base}/readyz`).catch(() => undefined))?.status === 200,
      'the server ready',
      timeoutMs,
      200,
    );
  };
  /**
   * How long the restarted server may take to be ready: a lobby due this long after the
   * respawn falls after the server is back, or the test fails on the restart's time.
   */
  const RESTART_WITHIN_MS = 60_000;

  beforeAll(async () => {
    r = await startTestRedis();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-restart-data-'));
    env = {
      ...ADMIN_ENV,
      DATA_DIR: dataDir,
      REDIS_URL: r.url,
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: base,
      RTC_LISTEN_IP: '127.0.0.1',
      RTC_PORT: '0',
      MEDIASOUP_WORKERS: '1',
    };
    server = startServer(env);
    await ready();
    b = await prepareBriefing(base, POINTS);
    browser = await launchChromium();
    hostCtx = await browser.newContext();
    const [name, ...value] = b.cookie.split('=');
    await hostCtx.addCookies([{ name: name!, value: value.join('='), url: base }]);
    host = await hostCtx.newPage();
    await hostGoesLive(host, base);
    for (const link of b.links) {
      const page = await (await browser.newContext()).newPage();
      await openPointPage(page, `${base}/join/${link.token}`, { until: 'receiving' });
      pages.set(link.pointId, page);
    }
    for (const page of pages.values()) {
      await decoding(page, 'host-camera');
      await markPage(page);
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    server?.child.kill('SIGTERM');
    await Promise.race([server?.exited, new Promise((res) => setTimeout(res, 10_000))]);
    server?.child.kill('SIGKILL');
    await r?.cleanup();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  test('points and host come back by themselves; the session is live; attendance, history and jobs survive', async () => {
    const http = request(base);
    // Before: a headcount from a page, some health history, a second session whose lobby
    // is due while the server will be down and a third whose lobby is due after it is back.
    const speaker = pages.get(POINTS[0]!)!;
    await speaker.fill('[data-testid=headcount-input]', '73');
    await speaker.click('[data-testid=headcount-send]');
    const attendanceUrl = `/api/v1/attendance/${b.sessionId}`;
    await waitFor(async () => {
      const a = await http.get(attendanceUrl).set('Cookie', b.cookie);
      return a.status === 200 && JSON.stringify(a.body).includes('73') ? a.body : undefined;
    }, 'the headcount stored');
    const schedule = async (title: string, lobbyAt: number) => {
      const created = await http
        .post('/api/v1/sessions')
        .set('Cookie', b.cookie)
        .send({
          title,
          scheduledStart: new Date(lobbyAt + 3600_000).toISOString(),
          lobbyOpensAt: new Date(lobbyAt).toISOString(),
          plannedEnd: new Date(lobbyAt + 7200_000).toISOString(),
          invite: { mode: 'points', pointIds: POINTS },
        })
        .expect(201);
      await http.post(`/api/v1/sessions/${created.body.id}/schedule`).set('Cookie', b.cookie).expect(200);
      return created.body.id as string;
    };
    // A few health reports (one every 2 s) in the history.
    const detailBefore = await waitFor(
      async () => {
        const d = await pointDetail(POINTS[0]!);
        return d.history.length >= 2 ? d : undefined;
      },
      `two health reports of ${POINTS[0]} in its history`,
      30_000,
      500,
    );
    const attendanceBefore = (await http.get(attendanceUrl).set('Cookie', b.cookie).expect(200)).body;
    const consumers = new Map<string, string>();
    for (const [p, page] of pages) consumers.set(p, (await decoding(page, 'host-camera')).id);
    // One lobby due while the server is down: the crash follows at once, and the server
    // is started again only once that time has passed, at `respawnAt`.
    const lobbyAt = Date.now() + 5000;
    const respawnAt = lobbyAt + 500;
    // One lobby due after the server is back: a second past the time the restarted server
    // has to be ready, so that it falls after the restart however long that takes here.
    const laterAt = respawnAt + RESTART_WITHIN_MS + 1000;
    const later = await schedule('Phiên sau nữa', laterAt);
    const next = { body: { id: await schedule('Phiên kế tiếp', lobbyAt) } };

    // The crash: no shutdown, no leave recorded, the workers die with their parent.
    const t0 = Date.now();
    server!.child.kill('SIGKILL');
    await server!.exited;
    if (t0 >= lobbyAt) throw new Error(`the crash came ${t0 - lobbyAt} ms after the lobby's time, not before`);
    // The pages say they lost the server (`<html data-point>`) while it is down.
    await Promise.all(
      [...pages.values()].map((page) =>
        page.waitForSelector('html[data-point="starting"]', { state: 'attached', timeout: 15_000 }),
      ),
    );
    // Down past the lobby's time (a time of day to pass, no event to wait on).
    await new Promise((res) => setTimeout(res, Math.max(0, respawnAt - Date.now())));
    server = startServer(env);
    const restartedAt = Date.now();
    await ready(laterAt - 1000 - restartedAt);
    log(`server restart: ready ${Date.now() - restartedAt} ms after the new process was spawned`);

    // Every page decodes the hall again on a new consumer, without a reload.
    const back = await Promise.all(
      [...pages].map(async ([p, page]) => {
        await decoding(page, 'host-camera', { notId: consumers.get(p), timeoutMs: 60_000 });
        return Date.now() - t0;
      }),
    );
    log(
      `server restart: points decoding again ${back.map((ms) => `${ms} ms`).join(', ')} after the SIGKILL ` +
        `(${back.map((ms) => `${ms - (restartedAt - t0)} ms`).join(', ')} after the respawn)`,
    );
    for (const page of pages.values()) {
      expect(await notReloaded(page)).toBe(true);
      await page.waitForSelector('html[data-point="receiving"]', { state: 'attached', timeout: 10_000 });
    }
    await host.waitForSelector('[data-testid=host-status]:has-text("ĐANG PHÁT TRỰC TIẾP")');

    // The session is still live; what was recorded before is intact.
    const cookie = await login(base);
    const s = (await request(base).get(`/api/v1/sessions/${b.sessionId}`).set('Cookie', cookie).expect(200)).body;
    expect(s.state).toBe('live');
    const after = await pointDetail(POINTS[0]!, cookie);
    expect(after.presence.firstJoin).toBe(detailBefore.presence.firstJoin);
    expect(after.headcount?.count).toBe(73);
    expect(after.history.length).toBeGreaterThanOrEqual(detailBefore.history.length);
    const attendanceAfter = (await request(base).get(attendanceUrl).set('Cookie', cookie).expect(200)).body;
    expect(attendanceAfter.province.delegates).toBe(attendanceBefore.province.delegates);
    await waitFor(
      async () =>
        (await request(base).get(attendanceUrl).set('Cookie', cookie)).body.province?.connected === POINTS.length,
      'both points connected again in the totals',
      30_000,
      500,
    );

    // The job due while the server was down fired, on time or as soon as it could.
    const opened = await waitFor(
      async () => {
        const cur = (await request(base).get(`/api/v1/sessions/${next.body.id}`).set('Cookie', cookie)).body;
        return cur.state === 'lobby' ? cur : undefined;
      },
      'the next session in its lobby',
      30_000,
      250,
    );
    const openedAt = Date.parse(opened.history.at(-1).at);
    log(`server restart: the lobby due at +${lobbyAt - t0} ms opened ${openedAt - lobbyAt} ms after its time`);
    expect(openedAt).toBeGreaterThanOrEqual(lobbyAt - 1000);
    // The clock: scheduled before the crash, due after the restart: opens on time.
    const laterOpened = await waitFor(
      async () => {
        const cur = (await request(base).get(`/api/v1/sessions/${later}`).set('Cookie', cookie)).body;
        return cur.state === 'lobby' ? cur : undefined;
      },
      'the later session in its lobby',
      Math.max(15_000, laterAt + 15_000 - Date.now()),
      250,
    );
    const laterOpenedAt = Date.parse(laterOpened.history.at(-1).at);
    log(
      `server restart: the lobby due at +${laterAt - t0} ms (after the restart) opened ${laterOpenedAt - laterAt} ms from its time`,
    );
    expect(laterOpenedAt).toBeGreaterThanOrEqual(laterAt - 1000);
    expect(laterOpenedAt).toBeLessThan(laterAt + 5000);
  }, 180_000);

  async function pointDetail(pointId: string, cookie = b.cookie) {
    const { io } = await import('socket.io-client');
    const s = io(`${base}/monitor`, { transports: ['websocket'], reconnection: false, extraHeaders: { cookie } });
    try {
      await s.timeout(10_000).emitWithAck('monitor:watch', { sessionId: b.sessionId });
      const res = (await s.timeout(10_000).emitWithAck('monitor:detail', { sessionId: b.sessionId, pointId })) as {
        ok: boolean;
        data: {
          presence: { firstJoin: string | null; disconnects: number };
          headcount: { count: number } | null;
          history: unknown[];
        };
      };
      if (!res.ok) throw new Error(JSON.stringify(res));
      return res.data;
    } finally {
      s.close();
    }
  }
});
