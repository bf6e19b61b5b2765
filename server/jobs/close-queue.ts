// The shutdown order every BullMQ queue of ours follows: the worker first (a running
// job finishes), then the queue, then the Redis connections they used.
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export async function closeQueue(parts: {
  worker: Worker | undefined;
  queue: Queue;
  connections: Redis[];
  log: Logger;
}): Promise<void> {
  await parts.worker?.close().catch((err: unknown) => parts.log.warn({ err }, 'closing the worker'));
  await parts.queue.close().catch((err: unknown) => parts.log.warn({ err }, 'closing the queue'));
  await Promise.all(parts.connections.map((c) => c.quit().catch(() => c.disconnect())));
}
