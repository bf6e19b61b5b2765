import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { startTestRedis, type TestRedis } from '../helpers/redis';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';

describe('health, readiness and metrics', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url);
  });
  afterAll(async () => {
    await o?.stop();
    await r?.cleanup();
  });

  test('/healthz answers alive', async () => {
    const res = await request(o.baseUrl).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('alive');
  });

  test('/readyz goes 503 when Redis is killed and back to 200 when it returns', async () => {
    expect((await request(o.baseUrl).get('/readyz')).status).toBe(200);
    await r.redis.kill();
    const down = await waitFor(async () => {
      const res = await request(o.baseUrl).get('/readyz');
      return res.status === 503 ? res : undefined;
    }, 'readyz 503');
    expect(down.body.checks.redis).not.toBe('ok');
    expect(down.body.checks.mediasoup).toBe('ok');
    await r.redis.restart();
    await waitFor(async () => (await request(o.baseUrl).get('/readyz')).status === 200, 'readyz 200 again', 15_000);
  });

  test("/readyz names the failing check, never Redis's own error text", async () => {
    const admin = new Redis(r.url);
    try {
      // PING now fails with NOPERM and a message naming the ACL user.
      await admin.call('ACL', 'SETUSER', 'default', '-ping');
      const res = await waitFor(async () => {
        const x = await request(o.baseUrl).get('/readyz');
        return x.status === 503 ? x : undefined;
      }, 'readyz 503');
      expect(res.body.checks.redis).toBe('redis did not answer');
      expect(res.text).not.toMatch(/NOPERM|default|permission|ping/i);
    } finally {
      await admin.call('ACL', 'SETUSER', 'default', '+ping');
      admin.disconnect();
    }
    await waitFor(async () => (await request(o.baseUrl).get('/readyz')).status === 200, 'readyz 200 again');
  });

  test('/readyz reflects a dead mediasoup worker until it is replaced', async () => {
    const pool = o.orchestrator.pool;
    const pid = pool.status()[0]!.pid!;
    const died = new Promise((resolve) => pool.once('workerDied', resolve));
    process.kill(pid, 'SIGKILL');
    await died;
    const res = await request(o.baseUrl).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.checks.mediasoup).toMatch(/worker\(s\) down: 0/);
    await waitFor(async () => (await request(o.baseUrl).get('/readyz')).status === 200, 'worker replaced');
  });

  test('/metrics exposes process, event loop, workers and sockets in Prometheus format', async () => {
    const res = await request(o.baseUrl).get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    for (const name of [
      'process_cpu_user_seconds_total',
      'nodejs_eventloop_lag_p99_seconds',
      'mediasoup_workers_alive 1',
      'mediasoup_worker_cpu_seconds{worker="0",mode="user"}',
      'mediasoup_worker_max_rss_bytes{worker="0"}',
      'socketio_connected_sockets 0',
    ]) {
      expect(res.text).toContain(name);
    }
  });

  test('unknown routes get problem+json', async () => {
    const res = await request(o.baseUrl).get('/api/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('not_found');
  });

  test('bundles are gzipped; content-hashed chunks are cached for good, entries revalidated', async () => {
    const page = await request(o.baseUrl).get('/join/abcdefghijklmnopqrstuvwxyz');
    expect(page.status).toBe(200);
    const entry = await request(o.baseUrl).get('/bundle/join.js').set('Accept-Encoding', 'gzip');
    expect(entry.status).toBe(200);
    expect(entry.headers['content-encoding']).toBe('gzip');
    expect(entry.headers['cache-control']).toBe('no-cache');
    const chunk = /from"\.\/(chunk-[A-Z0-9]+\.js)"/.exec(entry.text)?.[1];
    expect(chunk).toBeDefined();
    const c = await request(o.baseUrl).get(`/bundle/${chunk}`).set('Accept-Encoding', 'gzip');
    expect(c.headers['cache-control']).toMatch(/immutable/);
  });

  test('source maps are served in development', async () => {
    await request(o.baseUrl).get('/bundle/join.js.map').expect(200);
  });

  test('pages are served with a strict CSP', async () => {
    const res = await request(o.baseUrl).get('/host');
    expect(res.status).toBe(200);
    expect(res.text).toContain('/bundle/host.js');
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
  });
});

describe('/metrics and source maps as configured', () => {
  let r: TestRedis;
  let prod: TestOrchestrator;
  let open: TestOrchestrator;
  const token = randomBytes(32).toString('base64url');
  beforeAll(async () => {
    r = await startTestRedis();
    prod = await startTestOrchestrator(r.url, { NODE_ENV: 'production', METRICS_TOKEN: token, METRICS_ALLOW: 'none' });
    open = await startTestOrchestrator(r.url, { METRICS_ALLOW: '127.0.0.0/8' });
  });
  afterAll(async () => {
    await prod?.stop();
    await open?.stop();
    await r?.cleanup();
  });

  test('with a token and no allowed address: the bearer token and nothing else', async () => {
    const none = await request(prod.baseUrl).get('/metrics');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(none.text).not.toContain('mediasoup_workers_alive');
    const wrong = await request(prod.baseUrl)
      .get('/metrics')
      .set('Authorization', `Bearer ${token.slice(1)}x`);
    expect(wrong.status).toBe(401);
    const ok = await request(prod.baseUrl).get('/metrics').set('Authorization', `Bearer ${token}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('mediasoup_workers_alive 1');
  });

  test('an allowed address needs no token; an address outside the list without a token is refused', async () => {
    await request(open.baseUrl).get('/metrics').expect(200);
    const other = await startTestOrchestrator(r.url, { METRICS_ALLOW: '192.0.2.0/24' });
    try {
      const res = await request(other.baseUrl).get('/metrics');
      expect([res.status, res.body.code]).toEqual([403, 'forbidden']);
    } finally {
      await other.stop();
    }
  });

  test('production serves the bundles without their source maps', async () => {
    await request(prod.baseUrl).get('/bundle/join.js').expect(200);
    const map = await request(prod.baseUrl).get('/bundle/join.js.map');
    expect(map.status).toBe(404);
    expect(map.text).not.toContain('sourcesContent');
  });
});
