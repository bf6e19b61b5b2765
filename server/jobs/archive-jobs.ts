// The BullMQ queue of the recordings' archives: `archive` makes the one playable file of a
// session's recording after its end (server/recording/archive.ts). Its id is
// `archive__<session>` when the recording stops (once), `archive__<session>__<time>` when
// asked again. One at a time per process: an archive is a long encode, and it runs at the
// lowest CPU priority beside live work. Progress (0 to 100) is the job's own, read by the
// recordings' routes. Job data is validated.
//
// Keys: BullMQ's own, under `bull:archive-jobs:*`.
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import { JobQueue } from './job-queue';

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

export class ArchiveJobs extends JobQueue {
  /** Ends a running encode at shutdown: its job is retried rather than waited for. */
  readonly #abort = new AbortController();

  constructor(redisUrl: string, logger: Logger) {
    super({
      name: ARCHIVE_QUEUE,
      redisUrl,
      logger,
      component: 'archive-jobs',
      defaultJobOptions: {
        attempts: 2,
        backoff: { type: 'fixed', delay: 5000 },
        removeOnComplete: { count: 200 },
        removeOnFail: { count: 200 },
      },
    });
  }

  /**
   * Runs archives in this process (only where the recordings' files are); `name` (the
   * node's) is the worker's, as BullMQ lists the queue's workers and the job that ran.
   */
  start(name: string, handler: ArchiveHandler): void {
    this.startWorker(
      async (job) => {
        const { sessionId } = ArchiveJobSchema.parse(job.data);
        return handler(sessionId, (percent) => job.updateProgress(percent), this.#abort.signal);
      },
      // A long encode: BullMQ's lock is renewed while it runs; one at a time.
      { concurrency: 1, lockDuration: 60_000, name, failed: 'archive job failed' },
    );
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
  override close(): Promise<void> {
    this.#abort.abort();
    return super.close();
  }
}
