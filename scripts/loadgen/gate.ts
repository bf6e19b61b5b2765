// At most `limit` tasks at a time, the others queued in order (0: no limit).
export class Gate {
  #running = 0;
  /** The most tasks that ran at once. */
  highWater = 0;
  readonly #queue: (() => void)[] = [];

  constructor(public limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.limit > 0 && this.#running >= this.limit) await new Promise<void>((resolve) => this.#queue.push(resolve));
    this.#running += 1;
    this.highWater = Math.max(this.highWater, this.#running);
    try {
      return await task();
    } finally {
      this.#running -= 1;
      this.#queue.shift()?.();
    }
  }
}
