// When a process that must keep running (a transcoder) ends on its own, it is started
// again after a delay that doubles from the policy's first delay up to its longest, so a
// process that dies at once does not spin the CPU; after `max` restarts in a row the next
// end leaves it stopped, and an error says so. A run that lasted `stableMs` was healthy: the count starts
// again at the next end. Each end and the giving up are logged with what the owner passes
// (exit code, signal, the end of stderr).
import type { Logger } from 'pino';

export interface RestartPolicy {
  firstMs: number;
  longestMs: number;
  /** Restarts in a row; the end after the last of them leaves it stopped. */
  max: number;
  /** A run at least this long resets the count. */
  stableMs: number;
  /** How each end is logged: warn unless told (a process the whole server needs says error). */
  level?: 'warn' | 'error';
}

/** The transcoders of room systems (the hall's, a floor's): 0.5, 1, 2, 4, 8, 8 s, then given up. */
export const TRANSCODER_RESTARTS: RestartPolicy = { firstMs: 500, longestMs: 8000, max: 6, stableMs: 60_000 };

export class RestartBackoff {
  readonly #what: string;
  readonly #log: Logger;
  readonly #policy: RestartPolicy;
  readonly #now: () => number;
  #ends = 0;
  #startedAt: number | undefined;

  constructor(what: string, log: Logger, policy: RestartPolicy = TRANSCODER_RESTARTS, now: () => number = Date.now) {
    this.#what = what;
    this.#log = log;
    this.#policy = policy;
    this.#now = now;
  }

  /** The process started and works. */
  started(): void {
    this.#startedAt = this.#now();
  }

  /**
   * The process ended on its own, or failed to start: how long to wait before starting it
   * again, or undefined when it was restarted `max` times in a row already (then it stays
   * stopped until reset()).
   */
  ended(detail: Record<string, unknown> = {}): number | undefined {
    const ran = this.#startedAt === undefined ? 0 : this.#now() - this.#startedAt;
    this.#startedAt = undefined;
    if (ran >= this.#policy.stableMs) this.#ends = 0;
    this.#ends += 1;
    if (this.#ends > this.#policy.max) {
      this.#log.error({ ...detail, restarts: this.#policy.max }, `${this.#what} keeps ending; not restarted again`);
      return undefined;
    }
    const delayMs = Math.min(this.#policy.longestMs, this.#policy.firstMs * 2 ** (this.#ends - 1));
    this.#log[this.#policy.level ?? 'warn'](
      { ...detail, restart: this.#ends, delayMs },
      `${this.#what} ended; restarting it`,
    );
    return delayMs;
  }

  /** Its input changed: a new start, with no ends counted. */
  reset(): void {
    this.#ends = 0;
    this.#startedAt = undefined;
  }
}
