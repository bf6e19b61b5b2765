// Accounts and logins against a real Redis: argon2id hashes, the cookie, logout,
// slow-down per username and address together, the cap per address, the first admin (env
// and CLI), role changes, and the open sockets of logins that end.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';
import { io as connect, type Socket } from 'socket.io-client';
import request from 'supertest';
import { AUTH_KEYS, LOGIN_TTL_S } from '../../server/auth/auth';
import { ACCOUNT_KEYS } from '../../server/domain/accounts/accounts';
import { LOGIN_LIMIT } from '../../server/http/api/auth-routes';
import { capturingLogger } from '../helpers/logs';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

const ROOT = path.join(__dirname, '..', '..');
const PASSWORD = 'correct horse battery';
const ENV = { ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: PASSWORD };

describe('accounts and logins', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let redis: Redis;
  let admin: string;
  /** The server's warnings and errors, as pino JSON lines. */
  const { logger, lines: logLines } = capturingLogger();

  /** Clients behind the server's (trusted, loopback) proxy: `from` is their address. */
  const login = (username: string, password = PASSWORD, from?: string) => {
    const req = request(o.baseUrl).post('/api/v1/auth/login');
    if (from) req.set('X-Forwarded-For', from);
    return req.send({ username, password });
  };
  const cookieOf = (res: request.Response) => String(res.headers['set-cookie']).split(';')[0]!;
  const me = (cookie: string) => request(o.baseUrl).get('/api/v1/auth/me').set('Cookie', cookie);
  const asAdmin = () => ({
    post: (p: string, body?: object) => request(o.baseUrl).post(`/api/v1${p}`).set('Cookie', admin).send(body),
    patch: (p: string, body: object) => request(o.baseUrl).patch(`/api/v1${p}`).set('Cookie', admin).send(body),
    delete: (p: string) => request(o.baseUrl).delete(`/api/v1${p}`).set('Cookie', admin),
  });

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, ENV, logger);
    redis = new Redis(r.url);
    admin = cookieOf(await login('admin'));
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await o?.stop();
    await r?.cleanup();
  });

  test('the first admin comes from the environment; passwords are stored as argon2id only', async () => {
    const stored = Object.values(await redis.hgetall(ACCOUNT_KEYS.byId)).map((j) => JSON.parse(j));
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ username: 'admin', role: 'admin' });
    expect(stored[0].passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(JSON.stringify(stored)).not.toContain(PASSWORD);
  });

  test('login sets an httpOnly SameSite=Strict cookie; me; logout ends it', async () => {
    const res = await login('ADMIN'); // usernames are case-insensitive
    expect(res.status).toBe(200);
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^briefing_sid=[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{22};/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toMatch(/Secure/);
    const cookie = cookieOf(res);
    expect((await me(cookie)).body.user).toMatchObject({ username: 'admin', role: 'admin' });

    const user = await o.orchestrator.control.auth.authenticateCookie(`other=1; ${cookie}`);
    expect(user).toMatchObject({ username: 'admin', role: 'admin' });
    expect(await o.orchestrator.control.auth.authenticateCookie(undefined)).toBeUndefined();
    expect(await o.orchestrator.control.auth.authenticateCookie('briefing_sid=forged.value')).toBeUndefined();

    const out = await request(o.baseUrl).post('/api/v1/auth/logout').set('Cookie', cookie);
    expect(out.status).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/briefing_sid=;/);
    expect((await me(cookie)).body.user).toBeNull();
    expect(await o.orchestrator.control.auth.authenticateCookie(cookie)).toBeUndefined();
    expect((await request(o.baseUrl).get('/api/v1/points').set('Cookie', cookie)).status).toBe(401);
  });

  test('a login lasts LOGIN_TTL_S from when it was made, however much it is used', async () => {
    const cookie = cookieOf(await login('admin'));
    const key = AUTH_KEYS.session(cookie.split('=')[1]!.split('.')[0]!);
    // Made a second ago, with the key's TTL set at login.
    await new Promise((r) => setTimeout(r, 1100));
    const before = await redis.ttl(key);
    expect(before).toBeGreaterThan(LOGIN_TTL_S - 5);
    expect(before).toBeLessThan(LOGIN_TTL_S);
    // Using it does not push its end back.
    expect((await me(cookie)).body.user).toMatchObject({ username: 'admin' });
    expect(await redis.ttl(key)).toBeLessThanOrEqual(before);
    // A session made longer ago than that is refused, even while its key lives on (a key
    // whose TTL was renewed would).
    const session = JSON.parse((await redis.get(key))!) as { createdAt: string };
    const made = new Date(Date.now() - LOGIN_TTL_S * 1000 - 60_000).toISOString();
    await redis.set(key, JSON.stringify({ ...session, createdAt: made }), 'KEEPTTL');
    expect((await me(cookie)).body.user).toBeNull();
    expect((await request(o.baseUrl).get('/api/v1/points').set('Cookie', cookie)).status).toBe(401);
  });

  test('wrong passwords: 401; five in a row slow that username down from that address only, and the lock is logged with it', async () => {
    await asAdmin().post('/accounts', { username: 'slow', role: 'host', password: PASSWORD });
    const attacker = '198.51.100.66';
    for (let i = 0; i < 9; i++) {
      const res = await login('slow', 'wrong password!!', attacker);
      expect([res.status, res.body.code]).toEqual(i < 5 ? [401, 'unauthenticated'] : [429, 'rate_limited']);
    }
    const locked = await login('slow', PASSWORD, attacker);
    expect([locked.status, locked.body.code]).toEqual([429, 'rate_limited']);
    // The real owner, from an address with no failures, logs in at once; so does another username.
    expect((await login('slow', PASSWORD, '203.0.113.10')).status).toBe(200);
    expect((await login('slow', PASSWORD)).status).toBe(200);
    expect((await login('admin', PASSWORD, attacker)).status).toBe(200);
    const locks = logLines.filter((l) => /failed logins/.test(String(l.msg)));
    expect(locks.length).toBeGreaterThan(0);
    expect(locks.every((l) => l.address === attacker && l.username === 'slow')).toBe(true);
    // The first wait is one second: after it the attacker's address may try again.
    await new Promise((res) => setTimeout(res, 1100));
    expect((await login('slow', PASSWORD, attacker)).status).toBe(200);
  });

  test("disabling, demoting or logging out closes that login's open sockets at once", async () => {
    await asAdmin().post('/accounts', { username: 'live-host', role: 'host', password: PASSWORD });
    const id = (await o.orchestrator.control.accounts.list({ limit: 500, offset: 0 })).items.find(
      (a) => a.username === 'live-host',
    )!.id;
    const open = (ns: '/host' | '/monitor', cookie: string) =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect(`${o.baseUrl}${ns}`, {
          forceNew: true,
          reconnection: false,
          transports: ['websocket'],
          extraHeaders: { cookie },
        });
        s.once('connect', () => resolve(s));
        s.once('connect_error', reject);
      });
    const closes = (s: Socket) =>
      new Promise<number>((resolve) => {
        const t0 = Date.now();
        s.once('disconnect', () => resolve(Date.now() - t0));
      });
    const stays = async (s: Socket) => {
      await new Promise((res) => setTimeout(res, 300));
      return s.connected;
    };

    // Logout: the sockets of that login close, another login of the same user stays.
    const a = cookieOf(await login('live-host'));
    const b = cookieOf(await login('live-host'));
    const [hostA, monA, monB] = await Promise.all([open('/host', a), open('/monitor', a), open('/monitor', b)]);
    const aClosed = Promise.all([closes(hostA), closes(monA)]);
    await request(o.baseUrl).post('/api/v1/auth/logout').set('Cookie', a).expect(204);
    expect(Math.max(...(await aClosed))).toBeLessThan(2000);
    expect(await stays(monB)).toBe(true);

    // Demoted: every login's sockets close (the monitor reconnects as a technician, the console cannot).
    const hostB = await open('/host', b);
    const bClosed = Promise.all([closes(hostB), closes(monB)]);
    await asAdmin().patch(`/accounts/${id}`, { role: 'technician' }).expect(200);
    expect(Math.max(...(await bClosed))).toBeLessThan(2000);

    // Disabled: the technician's monitor closes and cannot come back.
    const c = cookieOf(await login('live-host'));
    const monC = await open('/monitor', c);
    await expect(open('/host', c)).rejects.toMatchObject({ data: { code: 'forbidden' } });
    const cClosed = closes(monC);
    await asAdmin().patch(`/accounts/${id}`, { disabled: true }).expect(200);
    expect(await cClosed).toBeLessThan(2000);
    await expect(open('/monitor', c)).rejects.toMatchObject({ data: { code: 'unauthenticated' } });
  });

  test('a password change, role change or disabling ends the logins; disabled accounts cannot log in', async () => {
    const created = await asAdmin().post('/accounts', { username: 'tech1', role: 'technician', password: PASSWORD });
    expect(created.status).toBe(201);
    const id = created.body.id;
    let cookie = cookieOf(await login('tech1'));
    await asAdmin().patch(`/accounts/${id}`, { password: 'another long password' });
    expect((await me(cookie)).body.user).toBeNull();
    expect((await login('tech1')).status).toBe(401);
    cookie = cookieOf(await login('tech1', 'another long password'));
    await asAdmin().patch(`/accounts/${id}`, { role: 'host' });
    expect((await me(cookie)).body.user).toBeNull();
    cookie = cookieOf(await login('tech1', 'another long password'));
    expect((await me(cookie)).body.user.role).toBe('host');
    await asAdmin().patch(`/accounts/${id}`, { disabled: true });
    expect((await me(cookie)).body.user).toBeNull();
    expect((await login('tech1', 'another long password')).status).toBe(401);
    expect((await asAdmin().delete(`/accounts/${id}`)).status).toBe(204);
  });

  test('usernames are unique (any case); the last admin and yourself cannot be removed', async () => {
    const dup = await asAdmin().post('/accounts', { username: 'Admin', role: 'host', password: PASSWORD });
    expect([dup.status, dup.body.code]).toEqual([409, 'conflict']);
    const weak = await asAdmin().post('/accounts', { username: 'weak', role: 'host', password: 'short' });
    expect(weak.status).toBe(400);
    const adminId = (await me(admin)).body.user.id;
    expect((await asAdmin().patch(`/accounts/${adminId}`, { role: 'host' })).status).toBe(409);
    expect((await asAdmin().patch(`/accounts/${adminId}`, { disabled: true })).status).toBe(409);
    expect((await asAdmin().delete(`/accounts/${adminId}`)).status).toBe(409);
  });

  test('the first admin is made only once: a restart with another password changes nothing', async () => {
    await o.stop();
    o = await startTestOrchestrator(r.url, { ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'a different password' });
    expect((await login('admin', 'a different password')).status).toBe(401);
    expect((await login('admin')).status).toBe(200);
    admin = cookieOf(await login('admin'));
  });

  test('the cookie is Secure when PUBLIC_URL is https', async () => {
    const secure = await startTestOrchestrator(r.url, { PUBLIC_URL: 'https://briefing.example.vn' });
    try {
      const res = await request(secure.baseUrl)
        .post('/api/v1/auth/login')
        .send({ username: 'admin', password: PASSWORD });
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
    } finally {
      await secure.stop();
    }
  });

  test('scripts/create-admin.ts reads the password from stdin and refuses a short one', () => {
    const run = (args: string[], input: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'create-admin.ts'), ...args], {
        cwd: ROOT,
        input,
        env: { ...process.env, REDIS_URL: r.url, LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 30_000,
      });
    const ok = run(['--username', 'cliadmin'], 'a long enough password\n');
    expect([ok.status, ok.stdout.trim()]).toEqual([0, 'created admin account cliadmin']);
    const short = run(['--username', 'cli2', '--role', 'host'], 'short\n');
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/password: at least 12 characters/);
    const taken = run(['--username', 'cliadmin'], 'a long enough password\n');
    expect(taken.stderr).toMatch(/taken/);
    const noName = run([], '');
    expect(noName.status).toBe(2);
  }, 60_000);

  test('the CLI account can log in', async () => {
    const res = await login('cliadmin', 'a long enough password');
    expect(res.body.user).toMatchObject({ role: 'admin' });
  });

  // Last: it uses up this address's allowance.
  test(`more than ${LOGIN_LIMIT.limit} failed logins from one address are refused for a while`, async () => {
    let last: request.Response | undefined;
    for (let i = 0; i <= LOGIN_LIMIT.limit + 1; i++) {
      last = await login(`nobody${i}`, 'wrong password!!');
      if (last.status === 429) break;
    }
    expect([last!.status, last!.body.code]).toEqual([429, 'rate_limited']);
    expect(last!.headers['ratelimit-policy'] ?? last!.headers['ratelimit']).toBeDefined();
    // When to try again, in seconds: the problem answered keeps it (server/http/problem.ts).
    expect(last!.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  });
});
