// Messages between scripts/bench-national.ts and its generator processes
// (./national-worker.ts), over Node's IPC channel.
import type { LoadResult } from './result';

export interface GeneratorStart {
  type: 'start';
  /** Where each point asks its node (GET /cluster/v1/join/:token/node). */
  controlUrl: string;
  points: { id: string; token: string; headcount: number }[];
  /** Points joined per second by this process. */
  joinRate: number;
  /** Check-in phones' addresses start at this index (127.1.x.y). */
  firstAddress: number;
  /** Points some monitor watches: their reports' markers go to the parent. */
  watched: string[];
}

export type ToGenerator =
  GeneratorStart | { type: 'checkins'; base: string; checkins: number; windowSeconds: number } | { type: 'stop' };

export interface GeneratorCounters {
  connected: number;
  headcounts: number;
  reportsSent: number;
  reportsFailed: number;
  disconnects: number;
  healthAckP95: number;
  checkinsDone: number;
  /** This generator's own event-loop p99 over the last 5 s (ms). */
  loopP99Ms: number;
}

export type FromGenerator =
  | { type: 'markers'; markers: [string, number, number][] }
  | ({ type: 'progress' } & GeneratorCounters)
  | ({ type: 'joined'; ms: number } & GeneratorCounters)
  | { type: 'ready' }
  | { type: 'checkinsDone' }
  | { type: 'failed'; error: string }
  | ({
      type: 'result';
      healthAcks: number[];
      checkins: LoadResult['checkins'] | undefined;
      perNode: Record<string, number>;
      moves: number;
      errors: string[];
      errorCount: number;
    } & GeneratorCounters);
