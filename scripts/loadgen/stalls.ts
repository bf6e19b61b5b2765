// The generator's own pauses over a whole run: a timer that notices when it fires late
// (the event loop was busy or blocked) and the garbage collector's pauses. A point's
// packets that wait in its socket through such a pause arrive together afterwards: a
// gap measured in the generator that was never on the wire. The same timer sums the time
// the loop was behind, which the media watchdogs discount (./watch-judge.ts).
import { PerformanceObserver, performance } from 'node:perf_hooks';

const TICK_MS = 20;
/** The loop counts as behind when the timer fires later than this (ms): the lateness counts whole. */
export const LAG_TOLERANCE_MS = 50;

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
  #behindMs = 0;

  constructor(readonly minMs = 200) {
    this.#timer = setInterval(() => {
      const now = performance.now();
      const late = now - this.#last - TICK_MS;
      if (late > LAG_TOLERANCE_MS) this.#behindMs += late;
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

  /** Total time the event loop was behind since the start (ms): each lateness over LAG_TOLERANCE_MS, whole. */
  get behindMs(): number {
    // A stall still going on (the caller runs late) counts too, not only past ones.
    const late = performance.now() - this.#last - TICK_MS;
    return this.#behindMs + (late > LAG_TOLERANCE_MS ? late : 0);
  }

  /** Total time the event loop was busy since the process started (ms; its utilization's active time). */
  get busyMs(): number {
    return performance.eventLoopUtilization().active;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#gcObserver.disconnect();
  }
}
