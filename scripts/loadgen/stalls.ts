// The generator's own pauses over a whole run: a timer that notices when it fires late
// (the event loop was busy or blocked) and the garbage collector's pauses. A point's
// packets that wait in its socket through such a pause arrive together afterwards: a
// gap measured in the generator that was never on the wire.
import { PerformanceObserver, performance } from 'node:perf_hooks';

const TICK_MS = 20;

export interface Pause {
  /** When it started (epoch ms). */
  at: number;
  ms: number;
}

export class GeneratorPauses {
  /** The event loop late by more than `minMs`. */
  readonly stalls: Pause[] = [];
  /** Garbage collections longer than `minMs`. */
  readonly gc: (Pause & { kind: number })[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly #gcObserver: PerformanceObserver;
  #last = performance.now();

  constructor(readonly minMs = 200) {
    this.#timer = setInterval(() => {
      const now = performance.now();
      const late = now - this.#last - TICK_MS;
      if (late > minMs) this.stalls.push({ at: Date.now() - late, ms: late });
      this.#last = now;
    }, TICK_MS);
    this.#timer.unref();
    this.#gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        if (e.duration > minMs)
          this.gc.push({
            at: performance.timeOrigin + e.startTime,
            ms: e.duration,
            kind: (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0,
          });
    });
    this.#gcObserver.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#gcObserver.disconnect();
  }
}
