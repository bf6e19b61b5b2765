// The first run against a real Redis and a whole server with no account: the one-time
// setup token (kept only as its hash, expiring, replaced by the next start's), the routes
// that create the first admin with it, and their refusals. The browser side (the printed
// link, the page, the login page's hint) is in tests/e2e/real-networks.test.ts.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

const PASSWORD = 'a-long-setup-password-1';

describe('first run: the setup link', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let redis: Redis;

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url);
    redis = new Redis(r.url);
  }, 60_000);
  afterAll(async () => {
    redis?.disconnect();
    await o?.stop();
    await r?.cleanup();
  });

  const issue = async () => (await o.orchestrator.firstRun.issue())!.token;
  const setup = (body: object, headers: Record<string, string> = {}) =>
    request(o.baseUrl).post('/api/v1/setup').set(headers).send(body);
  const keys = () => redis.keys('setup:*');

  test('no account yet: the server says so, and a token is random, kept only as its hash, for an hour', async () => {
    expect((await request(o.baseUrl).get('/api/v1/setup')).body).toEqual({ needed: true });
    const token = await issue();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await issue()).not.toBe(token);
    const [key] = await keys();
    const stored = await redis.get(key!);
    expect(stored).not.toContain(token);
    const ttl = await redis.pttl(key!);
    expect(ttl).toBeGreaterThan(59 * 60_000);
    expect(ttl).toBeLessThanOrEqual(60 * 60_000);
  });

  test("a later start's link replaces the earlier one; a made-up or expired token is refused", async () => {
    const older = await issue();
    const newer = await issue();
    const who = { username: 'chief', password: PASSWORD };
    const replaced = await setup({ token: older, ...who });
    expect(replaced.status).toBe(401);
    expect(replaced.body.code).toBe('token_invalid');
    expect((await setup({ token: 'x'.repeat(32), ...who })).body.code).toBe('token_invalid');
    // The hour is over.
    await redis.pexpire((await keys())[0]!, 1);
    await new Promise((res) => setTimeout(res, 20));
    const expired = await setup({ token: newer, ...who });
    expect(expired.status).toBe(410);
    expect(expired.body.code).toBe('token_expired');
    expect((await request(o.baseUrl).get('/api/v1/setup')).body).toEqual({ needed: true });
  });

  test('a link that lost its expiry and then a refused account: kept, with the full hour', async () => {
    const token = await issue();
    const [key] = await keys();
    await redis.persist(key!);
    await o.orchestrator.control.accounts.create({ username: 'held', password: PASSWORD, role: 'technician' });
    expect((await setup({ token, username: 'Held', password: PASSWORD })).status).toBe(409);
    await new Promise((res) => setTimeout(res, 20));
    expect(await redis.get(key!)).toBe(createHash('sha256').update(token).digest('hex'));
    expect(await redis.pttl(key!)).toBeGreaterThan(59 * 60_000);
  });

  test('bad input or a refused account leaves the link usable; a cross-site submission is refused', async () => {
    const token = await issue();
    const short = await setup({ token, username: 'chief', password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.code).toBe('bad_request');
    expect((await setup({ token, username: 'chief', password: PASSWORD, role: 'admin' })).status).toBe(400);
    const foreign = await setup({ token, username: 'chief', password: PASSWORD }, { Origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    // A technician account made from the command line holds the name: refused, link kept.
    await o.orchestrator.control.accounts.create({ username: 'taken', password: PASSWORD, role: 'technician' });
    const taken = await setup({ token, username: 'Taken', password: PASSWORD });
    expect(taken.status).toBe(409);
    expect(await redis.get((await keys())[0]!)).toBe(createHash('sha256').update(token).digest('hex'));
    expect((await setup({ token, username: 'chief', password: PASSWORD })).status).toBe(201);
  });

  test('the first admin logs in; the link is used up and no start issues another', async () => {
    const login = await request(o.baseUrl).post('/api/v1/auth/login').send({ username: 'chief', password: PASSWORD });
    expect(login.status).toBe(200);
    expect((await request(o.baseUrl).get('/api/v1/setup')).body).toEqual({ needed: false });
    expect(await keys()).toEqual([]);
    expect(await o.orchestrator.firstRun.issue()).toBeUndefined();
    const again = await setup({ token: 'y'.repeat(32), username: 'second', password: PASSWORD });
    expect(again.status).toBe(409);
  });
});
