import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Connections by purpose:
 * - 'store': application state. Commands fail at once while Redis is unreachable
 *   (no offline queue), so a write is refused with an error the client can retry
 *   instead of hanging; acknowledged means stored.
 * - 'bullmq': BullMQ requires maxRetriesPerRequest null and keeps retrying.
 * - 'pubsub': the Socket.IO adapter's publisher and subscriber.
 */
export type RedisPurpose = 'store' | 'bullmq' | 'pubsub';

export function connectRedis(url: string, purpose: RedisPurpose, logger: Logger): Redis {
  const options: RedisOptions = {
    connectionName: `briefing:${purpose}`,
    // Reconnect quickly at first, then every 2 s at most, forever.
    retryStrategy: (times) => Math.min(50 * times, 2000),
    ...(purpose === 'store'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true }
      : { maxRetriesPerRequest: null }),
  };
  const redis = new Redis(url, options);
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger.warn({ purpose, err: err.message }, 'redis connection error');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info({ purpose }, 'redis connection restored');
    down = false;
  });
  return redis;
}

/** Waits for the first connection of a lazy 'store' client, with a clear error. */
export async function waitForRedis(redis: Redis, url: string, timeoutMs = 15_000): Promise<void> {
  if (redis.status === 'ready') return;
  if (redis.status === 'wait') redis.connect().catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Redis at ${url.replace(/\/\/[^@]*@/, '//***@')} is not reachable after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off('ready', onReady);
    };
    redis.on('ready', onReady);
  });
}
