// The BullMQ queue of the recordings' archives: `archive` makes the one playable file of a
// session's recording after its end (server/recording/archive.ts). Its id is
// `archive__<session>` when the recording stops (once), `archive__<session>__<time>` when
// asked again. One at a time per process: an archive is a long encode, and it runs at the
// lowest CPU priority beside live work. Progress (0 to 100) is the job's own, read by the
// recordings' routes. Job data is validated.
//
// Keys: BullMQ's own, under `bull:archive-jobs:*`.
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { connectRedis } from '../redis/connect';
import { closeQueue } from './close-queue';

export const ARCHIVE_QUEUE = 'archive-jobs';

const ArchiveJobSchema = z.object({ sessionId: z.string().min(1).max(64) });

export type ArchiveHandler = (
  sessionId: string,
  progress: (percent: number) => Promise<void>,
  signal: AbortSignal,
) => Promise<unknown>;

export interface ArchiveJobState {
  state: 'queued' | 'running' | 'done' | 'failed';
  progress: number;
  error: string | null;
}

export class ArchiveJobs {
  readonly queue: Queue;
  #worker: Worker | undefined;
  readonly #connections: Redis[] = [];
  readonly #log: Logger;
  /** Ends a running encode at shutdown: its job is retried rather than waited for. */
  readonly #abort = new AbortController();
  #closing: Promise<void> | undefined;

  constructor(
    private readonly redisUrl: string,
    logger: Logger,
  ) {
    this.#log = logger.child({ component: 'archive-jobs' });
    const conn = connectRedis(redisUrl, 'bullmq', this.#log);
    this.#connections.push(conn);
    this.queue = new Queue(ARCHIVE_QUEUE, {
      connection: conn,
      defaultJobOptions: {
        attempts: 2,
        backoff: { type: 'fixed', delay: 5000 },
        removeOnComplete: { count: 200 },
        removeOnFail: { count: 200 },
      },
    });
    this.queue.on('error', (err) => this.#log.warn({ err: err.message }, 'queue error'));
  }

  /** Runs archives in this process (only where the recordings' files are). */
  start(handler: ArchiveHandler): void {
    if (this.#worker) return;
    const conn = connectRedis(this.redisUrl, 'bullmq', this.#log);
    this.#connections.push(conn);
    this.#worker = new Worker(
      ARCHIVE_QUEUE,
      async (job: Job) => {
        const { sessionId } = ArchiveJobSchema.parse(job.data);
        return handler(sessionId, (percent) => job.updateProgress(percent), this.#abort.signal);
      },
      // A long encode: BullMQ's lock is renewed while it runs; one at a time.
      { connection: conn, concurrency: 1, lockDuration: 60_000 },
    );
    this.#worker.on('failed', (job, err) =>
      this.#log.error({ err, jobId: job?.id, attempts: job?.attemptsMade }, 'archive job failed'),
    );
    this.#worker.on('error', (err) => this.#log.warn({ err: err.message }, 'worker error'));
  }

  /** Once at the end of a recording; `again` always queues a new run. Returns the job id. */
  async queueArchive(sessionId: string, again = false): Promise<string> {
    const jobId = again ? `archive__${sessionId}__${Date.now()}` : `archive__${sessionId}`;
    await this.queue.add('archive', { sessionId }, { jobId });
    return jobId;
  }

  /** The newest archive job of the session, as the host sees it; null when none is known. */
  async stateOf(sessionId: string): Promise<ArchiveJobState | null> {
    const jobs = await this.queue.getJobs(
      ['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed'],
      0,
      500,
    );
    const mine = jobs
      .filter((j): j is Job => !!j && (j.data as { sessionId?: string }).sessionId === sessionId)
      .sort((a, b) => b.timestamp - a.timestamp);
    const job = mine[0];
    if (!job) return null;
    const state = await job.getState();
    const progress = typeof job.progress === 'number' ? job.progress : 0;
    if (state === 'completed') return { state: 'done', progress: 100, error: null };
    if (state === 'failed') return { state: 'failed', progress, error: job.failedReason?.slice(0, 300) ?? null };
    return { state: state === 'active' ? 'running' : 'queued', progress, error: null };
  }

  /** A running encode ended, then the worker, the queue and their connections. Idempotent. */
  close(): Promise<void> {
    this.#abort.abort();
    this.#closing ??= closeQueue({
      worker: this.#worker,
      queue: this.queue,
      connections: this.#connections,
      log: this.#log,
    });
    return this.#closing;
  }
}
