// Keeps a child process the whole server depends on (the embedded redis-server, the
// embedded coturn) running after its start-up: when it ends on its own, an error is
// logged with its exit code, signal and last lines of output, and it is started again
// the same way after 0.5 s, 1, 2, 4, 8, then every 10 s until it is up; a run of a
// minute starts the delays again at 0.5 s. A line says when it is back. The owner starts
// the process (restart included) and calls watch() once it is ready; stop() before the
// owner stops it, so an ordered shutdown is not taken for a crash.
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { RestartBackoff, type RestartPolicy } from './restart-backoff';

/** 0.5, 1, 2, 4, 8, 10, 10 … s, without end; a run of a minute starts again at 0.5 s. */
export const SERVICE_RESTARTS: RestartPolicy = {
  firstMs: 500,
  longestMs: 10_000,
  max: Number.POSITIVE_INFINITY,
  stableMs: 60_000,
  level: 'error',
};

/** How long after its exit a process's output may take to drain before it is restarted anyway. */
export const DRAIN_MS = 1000;

/** The last `n` non-empty lines of a process's output. */
export function lastLines(output: string, n = 10): string {
  return output
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-n)
    .join('\n');
}

export class ProcessSupervisor {
  readonly #what: string;
  readonly #log: Logger;
  readonly #start: () => Promise<void>;
  readonly #backoff: RestartBackoff;
  #restarts = 0;
  #stopped = false;
  #downSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #starting: Promise<void> | undefined;

  /** `start` starts the process again (and calls watch() once it is ready) or throws. */
  constructor(what: string, log: Logger, start: () => Promise<void>, policy: RestartPolicy = SERVICE_RESTARTS) {
    this.#what = what;
    this.#log = log;
    this.#start = start;
    this.#backoff = new RestartBackoff(what, log, policy);
  }

  /** Times it was started again and came up. */
  get restarts(): number {
    return this.#restarts;
  }

  /** Between an end of its own and being back. */
  get down(): boolean {
    return this.#downSince !== undefined;
  }

  /** The process is ready: an end of its own from now on is restarted. */
  watch(child: ChildProcess, output: () => string): void {
    this.#backoff.started();
    let drain: NodeJS.Timeout | undefined;
    let done = false;
    const ended = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      clearTimeout(drain);
      if (this.#stopped) return;
      this.#downSince ??= Date.now();
      this.#schedule(this.#backoff.ended({ pid: child.pid, code, signal, output: lastLines(output()) }));
    };
    if (child.exitCode !== null || child.signalCode !== null) return ended(child.exitCode, child.signalCode);
    // 'close' comes once stdout and stderr are drained, so the last lines logged are all
    // there; but a process of its own that outlives it (redis-server's rewrite or snapshot
    // fork) holds them open: at most DRAIN_MS after 'exit', it is restarted all the same.
    child.once('close', ended);
    child.once('exit', (code, signal) => {
      this.#downSince ??= Date.now();
      drain = setTimeout(() => ended(code, signal), DRAIN_MS).unref();
    });
  }

  #schedule(delayMs: number | undefined): void {
    if (delayMs === undefined || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#starting = this.#again().finally(() => (this.#starting = undefined));
    }, delayMs);
  }

  async #again(): Promise<void> {
    try {
      await this.#start();
    } catch (err) {
      if (!this.#stopped) this.#schedule(this.#backoff.ended({ err: (err as Error).message }));
      return;
    }
    // Started while stop() waited for it: the owner stops it next; no restart to count.
    if (this.#stopped) return;
    this.#restarts += 1;
    const downMs = Date.now() - (this.#downSince ?? Date.now());
    this.#downSince = undefined;
    this.#log.info({ restarts: this.#restarts, downMs }, `${this.#what} is back`);
  }

  /** No restart from now on; resolves once a start under way has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#starting;
  }
}
