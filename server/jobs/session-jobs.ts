// The BullMQ queue and worker that move sessions at their times: open the lobby, warn the
// host at the start time, flag an overrun. Jobs live in Redis (delayed jobs survive a
// restart); each has the id `<sessionId>__<kind>`, so rescheduling replaces it and
// cancelling removes it. The work itself is the session service's `runJob`, which is
// idempotent. Every server process runs a worker; BullMQ gives each job to one of them.
//
// Keys: BullMQ's own, under `bull:session-jobs:*`.
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { PlannedJob, SessionJobKind } from '../domain/sessions/model';
import { JobQueue } from './job-queue';

export const SESSION_QUEUE = 'session-jobs';
const KINDS = ['open-lobby', 'start-reached', 'overrun'] as const satisfies readonly SessionJobKind[];

const JobDataSchema = z.object({
  sessionId: z.string().min(1),
  kind: z.enum(KINDS),
  /** When it was meant to run (ISO), to tell a moved job from an unchanged one. */
  at: z.iso.datetime(),
});
type JobData = z.infer<typeof JobDataSchema>;

export const sessionJobId = (sessionId: string, kind: SessionJobKind) => `${sessionId}__${kind}`;

export type JobHandler = (kind: SessionJobKind, sessionId: string) => Promise<unknown>;

export interface SessionJobsOptions {
  redisUrl: string;
  logger: Logger;
  /** Run jobs in this process (default true). */
  worker?: boolean;
  concurrency?: number;
}

export class SessionJobs extends JobQueue<JobData> {
  #handler: JobHandler | undefined;

  constructor(private readonly opts: SessionJobsOptions) {
    super({
      name: SESSION_QUEUE,
      redisUrl: opts.redisUrl,
      logger: opts.logger,
      component: 'jobs',
      defaultJobOptions: {
        // Redis may blink; the work is idempotent, so retrying is safe.
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
        // Removed once done so the same id can be queued again; failures kept for a look.
        removeOnComplete: true,
        removeOnFail: { count: 200 },
      },
    });
  }

  /** Starts the worker; jobs due while no worker ran are picked up at once. */
  start(handler: JobHandler): void {
    this.#handler = handler;
    if (this.opts.worker === false) return;
    this.startWorker((job) => this.#process(job), {
      concurrency: this.opts.concurrency ?? 4,
      failed: 'session job failed',
    });
  }

  async #process(job: Job<JobData>): Promise<unknown> {
    // Job data crosses Redis: checked like any other untrusted input.
    const data = JobDataSchema.parse(job.data);
    if (!this.#handler) throw new Error('no job handler');
    return this.#handler(data.kind, data.sessionId);
  }

  /** Makes the session's queued jobs exactly `jobs` (see SessionScheduler). */
  async sync(sessionId: string, jobs: PlannedJob[]): Promise<void> {
    for (const kind of KINDS) {
      const id = sessionJobId(sessionId, kind);
      const want = jobs.find((j) => j.kind === kind);
      const existing = await this.queue.getJob(id);
      if (existing) {
        const state = await existing.getState();
        if (want && existing.data.at === want.at.toISOString() && (state === 'delayed' || state === 'waiting')) {
          continue;
        }
        if (state !== 'active') {
          await this.queue.remove(id);
        } else if (want) {
          // It is running now; the run is idempotent and checks the session's current times.
          this.log.warn({ sessionId, kind }, 'job is running while being moved; it will not be re-queued');
          continue;
        }
      }
      if (want) {
        const delay = Math.max(0, want.at.getTime() - Date.now());
        await this.queue.add(kind, { sessionId, kind, at: want.at.toISOString() }, { jobId: id, delay });
        this.log.debug({ sessionId, kind, at: want.at.toISOString(), delayMs: delay }, 'job queued');
      }
    }
  }
}
