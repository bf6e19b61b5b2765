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

  test('pages are served with a strict CSP', async () => {
    const res = await request(o.baseUrl).get('/host');
    expect(res.status).toBe(200);
    expect(res.text).toContain('/bundle/host.js');
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
  });
});
