// Free space on the recordings' filesystem, read with statfs (the space an unprivileged
// writer may use: blocks available, not blocks free). Below the warning threshold it is
// `low` (the desk is told); below the floor it is `full` (recording stops before ffmpeg
// meets a full disk mid-segment). Only a change of level is announced.
import fs from 'node:fs/promises';

export type DiskLevel = 'ok' | 'low' | 'full';

export interface DiskThresholds {
  /** Under this many free bytes: an alert for the desk. */
  warnBytes: number;
  /** Under this many free bytes: recording stops. */
  stopBytes: number;
  /** How often free space is read while something records. */
  everyMs: number;
}

export interface DiskReading {
  level: DiskLevel;
  freeBytes: number;
}

export const levelOf = (freeBytes: number, t: Pick<DiskThresholds, 'warnBytes' | 'stopBytes'>): DiskLevel =>
  freeBytes < t.stopBytes ? 'full' : freeBytes < t.warnBytes ? 'low' : 'ok';

export async function freeBytes(dir: string): Promise<number> {
  const s = await fs.statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

export class DiskWatch {
  #timer: NodeJS.Timeout | undefined;
  #last: DiskReading | undefined;
  #checking: Promise<DiskReading | undefined> | undefined;

  constructor(
    private readonly dir: string,
    private readonly t: DiskThresholds,
    /** A change of level (and the first reading). Must not throw. */
    private readonly onChange: (r: DiskReading) => void,
    private readonly onError: (err: unknown) => void,
    private readonly read: (dir: string) => Promise<number> = freeBytes,
  ) {}

  get last(): DiskReading | undefined {
    return this.#last;
  }

  /** Reads now (one read at a time; callers during a read share it). */
  check(): Promise<DiskReading | undefined> {
    this.#checking ??= this.read(this.dir)
      .then((free) => {
        const r = { level: levelOf(free, this.t), freeBytes: free };
        const changed = r.level !== this.#last?.level;
        this.#last = r;
        if (changed) this.onChange(r);
        return r;
      })
      .catch((err: unknown) => {
        this.onError(err);
        return undefined;
      })
      .finally(() => (this.#checking = undefined));
    return this.#checking;
  }

  /** Reads every `everyMs` until stopped. Idempotent. */
  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.check(), this.t.everyMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
