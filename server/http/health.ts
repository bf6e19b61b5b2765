// Liveness and readiness for load balancers and orchestrators.
import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { WorkerPool } from '../../sfu/worker-pool';

export interface ReadinessCheck {
  name: string;
  /** Resolves with a failure reason, or undefined when ready. */
  check: () => Promise<string | undefined>;
}

export function redisCheck(redis: Redis, timeoutMs = 1000): ReadinessCheck {
  return {
    name: 'redis',
    check: async () => {
      if (redis.status !== 'ready') return `redis connection is ${redis.status}`;
      try {
        const pong = await Promise.race([
          redis.ping(),
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref(),
          ),
        ]);
        return pong === 'PONG' ? undefined : `unexpected PING answer ${String(pong)}`;
      } catch (err) {
        return `redis: ${(err as Error).message}`;
      }
    },
  };
}

export function workersCheck(pool: WorkerPool): ReadinessCheck {
  return {
    name: 'mediasoup',
    check: async () => {
      const down = pool.status().filter((w) => !w.alive);
      return down.length === 0 ? undefined : `mediasoup worker(s) down: ${down.map((w) => w.index).join(', ')}`;
    },
  };
}

export function healthRouter(checks: ReadinessCheck[]): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'alive', uptimeSeconds: Math.round(process.uptime()) });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(checks.map(async (c) => ({ name: c.name, reason: await c.check() })));
    const failing = results.filter((r) => r.reason !== undefined);
    res.status(failing.length ? 503 : 200).json({
      status: failing.length ? 'not ready' : 'ready',
      checks: Object.fromEntries(results.map((r) => [r.name, r.reason ?? 'ok'])),
    });
  });
  return router;
}
