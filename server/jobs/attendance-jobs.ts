// The BullMQ queue of the attendance work:
// - `alert-check`: queued when a point turns poor or lost, delayed by ALERT_AFTER_MS; when
//   it runs and the point has stayed bad since, an alert is raised. Its id is
//   `alert__<session>__<point>__<badSince>`, so every process that saw the same change
//   queues the same job once; a recovery removes it.
// - `report`: writes the session's attendance and quality report; id `report__<session>`
//   at the session's end (once), `report__<session>__<time>` when regenerated on demand.
// Every process runs a worker; BullMQ gives each job to one. Job data is validated.
//
// Keys: BullMQ's own, under `bull:attendance-jobs:*`.
import type { Logger } from 'pino';
import { z } from 'zod';
import { JobQueue } from './job-queue';

export const ATTENDANCE_QUEUE = 'attendance-jobs';

const AlertCheckSchema = z.object({ sessionId: z.string().min(1), pointId: z.string().min(1), badSince: z.number() });
const ReportSchema = z.object({ sessionId: z.string().min(1), reason: z.enum(['ended', 'requested']) });
type AlertCheck = z.infer<typeof AlertCheckSchema>;
type ReportJob = z.infer<typeof ReportSchema>;

export interface AttendanceJobHandlers {
  alertCheck: (d: AlertCheck) => Promise<unknown>;
  report: (d: ReportJob) => Promise<unknown>;
}

export const alertJobId = (s: string, p: string, badSince: number) => `alert__${s}__${p}__${badSince}`;

export class AttendanceJobs extends JobQueue {
  constructor(redisUrl: string, logger: Logger) {
    super({
      name: ATTENDANCE_QUEUE,
      redisUrl,
      logger,
      component: 'attendance-jobs',
      defaultJobOptions: {
        attempts: 5,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { count: 500 },
        removeOnFail: { count: 200 },
      },
    });
  }

  start(handlers: AttendanceJobHandlers): void {
    this.startWorker(
      async (job) => {
        if (job.name === 'alert-check') return handlers.alertCheck(AlertCheckSchema.parse(job.data));
        if (job.name === 'report') return handlers.report(ReportSchema.parse(job.data));
        throw new Error(`unknown job ${job.name}`);
      },
      { concurrency: 4, failed: 'attendance job failed' },
    );
  }

  async scheduleAlertCheck(d: AlertCheck, delayMs: number): Promise<void> {
    await this.queue.add('alert-check', d, { jobId: alertJobId(d.sessionId, d.pointId, d.badSince), delay: delayMs });
  }

  async cancelAlertCheck(d: AlertCheck): Promise<void> {
    // A running or finished job is left alone: it re-checks the state itself.
    const job = await this.queue.getJob(alertJobId(d.sessionId, d.pointId, d.badSince));
    if (job && (await job.getState()) === 'delayed') await job.remove().catch(() => undefined);
  }

  /** At the end (once per session) or on demand (always a new run). Returns the job id. */
  async queueReport(sessionId: string, reason: ReportJob['reason']): Promise<string> {
    const jobId = reason === 'ended' ? `report__${sessionId}` : `report__${sessionId}__${Date.now()}`;
    await this.queue.add('report', { sessionId, reason }, { jobId });
    return jobId;
  }

  async reportQueued(sessionId: string): Promise<boolean> {
    const jobs = await this.queue.getJobs(['waiting', 'active', 'delayed', 'prioritized'], 0, 200);
    return jobs.some((j) => j?.name === 'report' && (j.data as ReportJob).sessionId === sessionId);
  }
}
