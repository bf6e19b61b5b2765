// Spreads DOM updates over animation frames. A monitor delta can carry half of 420 tiles;
// painting them in the socket's message task blocked the main thread for up to 150 ms
// (docs/benchmarks/control-plane.md, "The monitor page"). Updates wait here keyed by tile,
// so a tile updated twice before it is painted is painted once with its latest state, and
// each frame applies as many as fit in a small time budget and under a count cap. The cap
// is there because most of a tile's cost is the style, layout and paint that Chromium does
// after our callback, where the time budget cannot see it: with `frameTargetMs` the cap
// adapts to the frames actually seen (halved after a slow frame, raised a little after a
// good one that used it all), so an old office PC gets small slices and a fast one large
// ones. No DOM in this module: the clock is handed in, so the scheduling is unit-tested.

export interface FrameClock {
  now(): number;
  /**
   * Calls `run` once, at the next frame. `budgeted` is false when no frame is coming soon
   * (a hidden tab): then nobody watches and the whole queue may go at once. Returns a
   * cancel function.
   */
  nextFrame(run: (budgeted: boolean) => void): () => void;
}

export interface FrameBatchOptions<K, V> {
  apply: (key: K, value: V) => void;
  /** After each slice, with the number applied (e.g. to plan one re-sort for the lot). */
  afterSlice?: (applied: number) => void;
  clock: FrameClock;
  /** Time for our own work per frame; half a 60 Hz frame leaves the rest for rendering. */
  budgetMs?: number;
  /** At most this many per frame, whatever the clock says. */
  maxPerFrame?: number;
  /** Adaptive cap: never fewer than this per frame. */
  minPerFrame?: number;
  /** Adaptive cap: the cap to start from (else maxPerFrame). */
  startPerFrame?: number;
  /**
   * Adaptive cap: a frame interval longer than this (from one slice to the next, so it
   * includes the rendering of the slice) halves the cap. Unset: the cap stays put.
   */
  frameTargetMs?: number;
}

export class FrameBatch<K, V> {
  readonly #pending = new Map<K, V>();
  readonly #apply: (key: K, value: V) => void;
  readonly #afterSlice: ((applied: number) => void) | undefined;
  readonly #clock: FrameClock;
  readonly #budgetMs: number;
  readonly #maxPerFrame: number;
  readonly #minPerFrame: number;
  readonly #frameTargetMs: number | undefined;
  #cap: number;
  /** When the previous slice started, if the queue has not drained since. */
  #lastSliceAt: number | undefined;
  #lastSliceFull = false;
  #cancel: (() => void) | undefined;

  constructor(o: FrameBatchOptions<K, V>) {
    this.#apply = o.apply;
    this.#afterSlice = o.afterSlice;
    this.#clock = o.clock;
    this.#budgetMs = o.budgetMs ?? 8;
    this.#maxPerFrame = Math.max(1, o.maxPerFrame ?? Number.POSITIVE_INFINITY);
    this.#minPerFrame = Math.min(this.#maxPerFrame, Math.max(1, o.minPerFrame ?? 1));
    this.#frameTargetMs = o.frameTargetMs;
    this.#cap = Math.min(this.#maxPerFrame, Math.max(this.#minPerFrame, o.startPerFrame ?? this.#maxPerFrame));
  }

  /** Waiting updates. */
  get size(): number {
    return this.#pending.size;
  }

  /** How many updates the next frame may apply at most. */
  get perFrame(): number {
    return this.#cap;
  }

  /** The value waiting for `key`, if any (the latest pushed). */
  pending(key: K): V | undefined {
    return this.#pending.get(key);
  }

  /**
   * Queues an update. A key already waiting keeps its place in the queue and takes the
   * new value: the latest state wins and an older tile is not pushed back by a newer one.
   */
  push(key: K, value: V): void {
    this.#pending.set(key, value);
    this.#schedule();
  }

  /** Applies everything now, in order (e.g. before a full re-render that reads the state). */
  flush(): void {
    this.#unschedule();
    this.#slice(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  }

  /** Drops the waiting updates for which `keep` is false (e.g. older than a snapshot). */
  retain(keep: (key: K, value: V) => boolean): void {
    for (const [k, v] of this.#pending) if (!keep(k, v)) this.#pending.delete(k);
    if (this.#pending.size === 0) this.#unschedule();
  }

  /** Drops every waiting update (another session is watched). */
  clear(): void {
    this.#pending.clear();
    this.#unschedule();
  }

  #schedule(): void {
    if (this.#cancel || this.#pending.size === 0) return;
    this.#cancel = this.#clock.nextFrame((budgeted) => {
      this.#cancel = undefined;
      try {
        if (budgeted) this.#frame();
        else {
          this.#lastSliceAt = undefined;
          this.#slice(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
        }
      } finally {
        // Also after a throwing apply: the rest must not wait for the next push.
        this.#schedule();
      }
    });
  }

  #frame(): void {
    const started = this.#clock.now();
    if (this.#frameTargetMs !== undefined && this.#lastSliceAt !== undefined) {
      // Slices of one burst run in consecutive frames, so this is the previous frame's
      // length with its rendering (and whatever else ran in it).
      if (started - this.#lastSliceAt > this.#frameTargetMs) {
        this.#cap = Math.max(this.#minPerFrame, Math.floor(this.#cap / 2));
      } else if (this.#lastSliceFull) {
        this.#cap = Math.min(this.#maxPerFrame, this.#cap + Math.max(1, Math.ceil(this.#cap / 8)));
      }
    }
    this.#lastSliceAt = undefined;
    this.#lastSliceFull = false;
    const applied = this.#slice(this.#budgetMs, this.#cap);
    if (this.#pending.size > 0) {
      this.#lastSliceAt = started;
      this.#lastSliceFull = applied >= this.#cap;
    }
  }

  #unschedule(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  #slice(budgetMs: number, max: number): number {
    const started = this.#clock.now();
    let applied = 0;
    try {
      // Deleting the current entry while iterating a Map is well defined; entries pushed
      // by an apply are visited too.
      for (const [k, v] of this.#pending) {
        this.#pending.delete(k);
        this.#apply(k, v);
        applied += 1;
        // At least one per frame, so the queue always drains.
        if (applied >= max || this.#clock.now() - started >= budgetMs) break;
      }
    } finally {
      if (applied > 0) this.#afterSlice?.(applied);
    }
    return applied;
  }
}

/**
 * The browser's clock: requestAnimationFrame, with a timer beside it because a hidden tab
 * gets no frames (its timers still run, throttled), and the wall must be current when the
 * technician comes back or a script reads it.
 */
export function browserFrameClock(hiddenAfterMs = 250): FrameClock {
  return {
    now: () => performance.now(),
    nextFrame(run) {
      let done = false;
      const finish = (budgeted: boolean) => {
        if (done) return;
        done = true;
        cancelAnimationFrame(raf);
        clearTimeout(timer);
        run(budgeted);
      };
      const raf = requestAnimationFrame(() => finish(true));
      const timer = setTimeout(() => finish(document.visibilityState === 'visible'), hiddenAfterMs);
      return () => {
        done = true;
        cancelAnimationFrame(raf);
        clearTimeout(timer);
      };
    },
  };
}
