// The monitor's frame batching (client/src/monitor/frame-batch.ts) under a fake clock:
// slices within the time budget and the count cap, the latest state of a tile wins,
// nothing pushed is lost, a hidden tab drains at once, snapshots drop older updates.
import { FrameBatch, type FrameClock } from '../../client/src/monitor/frame-batch';

/** Frames run only when the test says so; each apply costs `costMs` of fake time. */
class FakeClock implements FrameClock {
  t = 0;
  queue: ((budgeted: boolean) => void)[] = [];
  now = () => this.t;
  nextFrame(run: (budgeted: boolean) => void): () => void {
    this.queue.push(run);
    return () => {
      this.queue = this.queue.filter((r) => r !== run);
    };
  }
  frame(budgeted = true): void {
    const due = this.queue;
    this.queue = [];
    for (const run of due) run(budgeted);
  }
}

function setup(o: { costMs?: number; budgetMs?: number; maxPerFrame?: number } = {}) {
  const clock = new FakeClock();
  const applied: [string, number][] = [];
  const slices: number[] = [];
  const batch = new FrameBatch<string, number>({
    clock,
    apply: (k, v) => {
      applied.push([k, v]);
      clock.t += o.costMs ?? 1;
    },
    afterSlice: (n) => slices.push(n),
    budgetMs: o.budgetMs ?? 8,
    ...(o.maxPerFrame ? { maxPerFrame: o.maxPerFrame } : {}),
  });
  return { clock, applied, slices, batch };
}

const keys = (n: number, prefix = 'p') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

describe('FrameBatch', () => {
  test('nothing is applied in the pushing task; one frame is asked for however many pushes', () => {
    const { clock, applied, batch } = setup();
    for (const k of keys(210)) batch.push(k, 1);
    expect(applied).toHaveLength(0);
    expect(clock.queue).toHaveLength(1);
    expect(batch.size).toBe(210);
  });

  test('each frame applies what fits in the budget, and every update arrives in order', () => {
    const { clock, applied, slices, batch } = setup({ costMs: 1, budgetMs: 8 });
    const all = keys(210);
    for (const k of all) batch.push(k, 1);
    let frames = 0;
    while (clock.queue.length) {
      clock.frame();
      frames += 1;
    }
    // 1 ms each, 8 ms per frame: 8 per frame, 27 frames for 210.
    expect(slices.every((n) => n <= 8)).toBe(true);
    expect(frames).toBe(Math.ceil(210 / 8));
    expect(applied.map(([k]) => k)).toEqual(all);
    expect(batch.size).toBe(0);
  });

  test('the count cap holds when the work is fast', () => {
    const { clock, slices, batch } = setup({ costMs: 0, maxPerFrame: 60 });
    for (const k of keys(210)) batch.push(k, 1);
    while (clock.queue.length) clock.frame();
    expect(slices).toEqual([60, 60, 60, 30]);
  });

  test('one slow update still goes alone, so the queue always drains', () => {
    const { clock, slices, batch } = setup({ costMs: 50, budgetMs: 8 });
    for (const k of keys(3)) batch.push(k, 1);
    while (clock.queue.length) clock.frame();
    expect(slices).toEqual([1, 1, 1]);
  });

  test('a tile updated again before it is painted is painted once, with its latest state, in its first place', () => {
    const { clock, applied, batch } = setup({ costMs: 1, budgetMs: 3 });
    for (const k of keys(6)) batch.push(k, 1);
    clock.frame(); // p0..p2 painted with 1
    // The next delta: p1 (painted) and p4 (waiting) change again.
    batch.push('p1', 2);
    batch.push('p4', 2);
    expect(batch.pending('p4')).toBe(2);
    expect(batch.size).toBe(4);
    while (clock.queue.length) clock.frame();
    expect(applied).toEqual([
      ['p0', 1],
      ['p1', 1],
      ['p2', 1],
      ['p3', 1],
      ['p4', 2],
      ['p5', 1],
      ['p1', 2],
    ]);
  });

  test('a hidden tab (no frame coming) applies the whole queue at once', () => {
    const { clock, slices, batch } = setup({ costMs: 1, maxPerFrame: 10 });
    for (const k of keys(100)) batch.push(k, 1);
    clock.frame(false);
    expect(slices).toEqual([100]);
    expect(clock.queue).toHaveLength(0);
  });

  test('retain drops older updates (a snapshot covers them) and keeps newer ones', () => {
    const { clock, applied, batch } = setup();
    batch.push('a', 1);
    batch.push('b', 5);
    batch.push('c', 2);
    batch.retain((_k, v) => v >= 2);
    while (clock.queue.length) clock.frame();
    expect(applied).toEqual([
      ['b', 5],
      ['c', 2],
    ]);
  });

  test('clear forgets everything and cancels the frame; flush applies everything now', () => {
    const { clock, applied, batch } = setup({ costMs: 1, maxPerFrame: 2 });
    for (const k of keys(5)) batch.push(k, 1);
    batch.clear();
    expect(clock.queue).toHaveLength(0);
    expect(batch.size).toBe(0);
    for (const k of keys(5, 'q')) batch.push(k, 1);
    batch.flush();
    expect(applied.map(([k]) => k)).toEqual(keys(5, 'q'));
    expect(clock.queue).toHaveLength(0);
  });

  test('the adaptive cap halves after a slow frame and grows back after good ones that used it all', () => {
    const clock = new FakeClock();
    const batch = new FrameBatch<string, number>({
      clock,
      apply: () => undefined,
      startPerFrame: 40,
      minPerFrame: 10,
      maxPerFrame: 60,
      frameTargetMs: 25,
    });
    const caps: number[] = [];
    /** One frame `ms` after the previous one (its rendering is the time that passed). */
    const frameAfter = (ms: number) => {
      clock.t += ms;
      clock.frame();
      caps.push(batch.perFrame);
    };
    for (const k of keys(1000)) batch.push(k, 1);
    frameAfter(16.7); // first slice of the burst: nothing to judge yet
    frameAfter(50); // the first slice's frame was slow
    frameAfter(33.3); // still slow (a missed vsync)
    frameAfter(33.3); // slow again: the floor holds
    frameAfter(16.7); // good and full: grows by an eighth
    frameAfter(16.7);
    expect(caps).toEqual([40, 20, 10, 10, 12, 14]);
    for (let i = 0; i < 30; i++) frameAfter(16.7);
    expect(batch.perFrame).toBe(60); // never past the ceiling
    // A new burst after the queue drained does not judge the idle gap as a slow frame.
    while (batch.size) frameAfter(16.7);
    const cap = batch.perFrame;
    for (const k of keys(100, 'n')) batch.push(k, 1);
    frameAfter(1000);
    expect(batch.perFrame).toBe(cap);
  });

  test('without a frame target the cap stays put', () => {
    const { clock, slices, batch } = setup({ costMs: 0, maxPerFrame: 20 });
    for (const k of keys(60)) batch.push(k, 1);
    while (clock.queue.length) {
      clock.t += 100;
      clock.frame();
    }
    expect(slices).toEqual([20, 20, 20]);
  });

  test('an apply that throws loses only its own update; the rest follow on the next frames', () => {
    const clock = new FakeClock();
    const applied: string[] = [];
    const batch = new FrameBatch<string, number>({
      clock,
      apply: (k) => {
        if (k === 'bad') throw new Error('boom');
        applied.push(k);
      },
      maxPerFrame: 10,
    });
    for (const k of ['a', 'bad', 'b', 'c']) batch.push(k, 1);
    expect(() => clock.frame()).toThrow('boom');
    while (clock.queue.length) clock.frame();
    expect(applied).toEqual(['a', 'b', 'c']);
  });
});
