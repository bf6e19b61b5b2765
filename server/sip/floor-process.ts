// One ffmpeg of a room system's floor (server/sip/floor-feed.ts runs one for its sound
// and one for its picture): started on its taps' ports, started again after a growing
// delay when it dies while the floor is held, and left stopped after several deaths in a
// row (platform/restart-backoff.ts, as the hall's transcoder). Its arguments, so its
// fixed local sending ports, are the same for every restart.
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { AppError } from '../errors';
import { RestartBackoff, TRANSCODER_RESTARTS, type RestartPolicy } from '../platform/restart-backoff';
import { tiedSpawn } from '../platform/tied-spawn';
import { waitListening } from './hall-feed';

export interface FloorProcessDeps {
  /** What it carries, in its log lines: `floor audio transcoder`, `floor video transcoder`. */
  what: string;
  ffmpegPath: string;
  args: string[];
  /** Where it listens (the taps' destination) and on which ports. */
  ip: string;
  inputs: number[];
  logger: Logger;
  /** After a restart: its taps' sources are asked for key frames. */
  restarted(): void;
  /** False once the floor ended: no start, no restart. */
  live(): boolean;
  /** It kept dying and is left stopped: the floor is to end (the host sees it go). */
  gaveUp(err: AppError): void;
  /** Default TRANSCODER_RESTARTS. */
  restarts?: RestartPolicy;
}

export class FloorProcess {
  readonly #d: FloorProcessDeps;
  readonly #restarts: RestartBackoff;
  #proc: ChildProcess | undefined;
  /** Set once the first start is done: an end after it is restarted. */
  #up = false;

  constructor(deps: FloorProcessDeps) {
    this.#d = deps;
    this.#restarts = new RestartBackoff(deps.what, deps.logger, deps.restarts ?? TRANSCODER_RESTARTS);
  }

  get running(): boolean {
    return this.#d.live() && this.#proc !== undefined && this.#proc.exitCode === null && this.#proc.signalCode === null;
  }

  /** The first start: resolves once it listens on its inputs; throws if it ends first. */
  async start(): Promise<void> {
    await this.#run();
    this.#up = true;
  }

  kill(): void {
    this.#proc?.kill('SIGKILL');
  }

  async #run(): Promise<void> {
    const { ffmpegPath, args, ip, inputs, logger: log, what } = this.#d;
    const proc = tiedSpawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'], log });
    this.#proc = proc;
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    proc.on('error', (err) => log.error({ err }, `cannot run ffmpeg as the ${what}`));
    proc.on('close', (code, signal) => {
      // The first start's failure is start()'s to report.
      if (!this.#d.live() || this.#proc !== proc || !this.#up) return;
      const delay = this.#restarts.ended({ code, signal, stderr: stderr.trim() });
      if (delay !== undefined) setTimeout(() => void this.#restart(), delay).unref();
      else
        this.#d.gaveUp(
          new AppError('unavailable', `the room system's ${this.#d.what} keeps failing; the floor is taken back`),
        );
    });
    for (const port of inputs) {
      await waitListening(ip, port, proc);
      if (!this.#d.live())
        throw new AppError('unavailable', 'the floor of the room system ended while its media started');
    }
    this.#restarts.started();
  }

  async #restart(): Promise<void> {
    if (!this.#d.live()) return;
    try {
      await this.#run();
      this.#d.restarted();
      this.#d.logger.info(`${this.#d.what} restarted`);
    } catch (err) {
      if (!this.#d.live()) return;
      // Ended at start (its end is counted), or alive but not listening: ending it counts it.
      this.#d.logger.warn({ err }, `the ${this.#d.what} did not start again`);
      this.#proc?.kill('SIGKILL');
    }
  }
}
