// Liveness and readiness for load balancers and orchestrators.
import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WorkerPool } from '../../sfu';

export interface ReadinessCheck {
  name: string;
  /** Resolves with a failure reason, or undefined when ready. */
  check: () => Promise<string | undefined>;
}

/**
 * Redis answers PING. The answer to the probe names the state only: Redis's own error
 * text (addresses, ACL user names, versions) goes to the log, once per change.
 */
export function redisCheck(redis: Redis, logger: Logger, timeoutMs = 1000): ReadinessCheck {
  const log = logger.child({ component: 'readiness' });
  let lastLogged: string | undefined;
  const fail = (reason: string, err?: unknown) => {
    if (reason !== lastLogged) log.warn({ err, status: redis.status }, `not ready: ${reason}`);
    lastLogged = reason;
    return reason;
  };
  return {
    name: 'redis',
    check: async () => {
      if (redis.status !== 'ready') return fail('redis not connected');
      try {
        const pong = await Promise.race([
          redis.ping(),
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs).unref(),
          ),
        ]);
        if (pong !== 'PONG') return fail('redis gave an unexpected answer');
        lastLogged = undefined;
        return undefined;
      } catch (err) {
        return fail('redis did not answer', err);
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

/** A child process the server runs (the embedded coturn) is up: not while it is restarted. */
export function processCheck(name: string, up: () => boolean, down: string): ReadinessCheck {
  return { name, check: async () => (up() ? undefined : down) };
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
