// What every BullMQ queue of ours shares: a queue on its own Redis connection with its
// retry and retention defaults, at most one worker per process on another connection,
// failures and Redis errors logged, and one shutdown order: the worker first (a running
// job finishes), then the queue, then the connections they used. The queues themselves
// (session-jobs.ts, attendance-jobs.ts, archive-jobs.ts) add their jobs' ids and data.
import { Queue, Worker, type DefaultJobOptions, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { connectRedis } from '../redis/connect';

// Job data crosses Redis and is validated by each queue's schema when read.
type Data = Record<string, unknown>;

export interface JobQueueOptions {
  /** BullMQ's queue name; its keys are under `bull:<name>:*`. */
  name: string;
  redisUrl: string;
  logger: Logger;
  /** The `component` of its log lines. */
  component: string;
  defaultJobOptions: DefaultJobOptions;
}

export interface WorkerOptions {
  concurrency: number;
  /** How long a job's lock lasts before BullMQ renews it (a long encode). */
  lockDuration?: number;
  /** The worker's name, as BullMQ lists the queue's workers and records the one that ran a job. */
  name?: string;
  /** In the log line of a failed job, e.g. 'session job failed'. */
  failed: string;
}

export class JobQueue<D extends Data = Data> {
  readonly queue: Queue<D>;
  protected readonly log: Logger;
  readonly #redisUrl: string;
  readonly #connections: Redis[] = [];
  #worker: Worker<D> | undefined;
  #closing: Promise<void> | undefined;

  constructor(o: JobQueueOptions) {
    this.log = o.logger.child({ component: o.component });
    this.#redisUrl = o.redisUrl;
    this.queue = new Queue<D>(o.name, { connection: this.#connect(), defaultJobOptions: o.defaultJobOptions });
    this.queue.on('error', (err) => this.log.warn({ err: err.message }, 'queue error'));
  }

  #connect(): Redis {
    const conn = connectRedis(this.#redisUrl, 'bullmq', this.log);
    this.#connections.push(conn);
    return conn;
  }

  /** Starts this process's worker (once; a second call does nothing). */
  protected startWorker(processor: (job: Job<D>) => Promise<unknown>, o: WorkerOptions): void {
    if (this.#worker) return;
    this.#worker = new Worker<D>(this.queue.name, processor, {
      connection: this.#connect(),
      concurrency: o.concurrency,
      ...(o.lockDuration !== undefined ? { lockDuration: o.lockDuration } : {}),
      ...(o.name !== undefined ? { name: o.name } : {}),
    });
    this.#worker.on('failed', (job, err) =>
      this.log.error({ err, jobId: job?.id, attempts: job?.attemptsMade }, o.failed),
    );
    this.#worker.on('error', (err) => this.log.warn({ err: err.message }, 'worker error'));
  }

  /** Worker first (a running job finishes), then the queue, then their connections. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#worker?.close().catch((err: unknown) => this.log.warn({ err }, 'closing the worker'));
      await this.queue.close().catch((err: unknown) => this.log.warn({ err }, 'closing the queue'));
      await Promise.all(this.#connections.map((c) => c.quit().catch(() => c.disconnect())));
    })();
    return this.#closing;
  }
}
