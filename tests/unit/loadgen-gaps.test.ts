// The load generator's reading of a silence in a point's stream (scripts/loadgen/assemble-media.ts
// gapCause) and the gate that keeps its DTLS handshakes few at a time (scripts/loadgen/gate.ts).
import { gapCause } from '../../scripts/loadgen/assemble-media';
import { Gate } from '../../scripts/loadgen/gate';

describe('gapCause', () => {
  const stall = (at: number, ms: number) => ({ stalls: [{ at, ms }] });

  test('nothing missing and the generator stalled through it: the generator', () => {
    expect(gapCause({ endedAt: 10_000, seqStep: 1, rtpMs: 33 }, 1267, stall(8_700, 1_300))).toBe('generator');
  });

  test('nothing missing and the generator running: late, held up before it', () => {
    expect(gapCause({ endedAt: 10_000, seqStep: 1, rtpMs: 33 }, 1267, stall(2_000, 1_300))).toBe('late');
    expect(gapCause({ endedAt: 10_000, seqStep: 1, rtpMs: 33 }, 1267, { stalls: [] })).toBe('late');
  });

  test('frames skipped or packets lost: on the wire, whatever the generator did', () => {
    // A consumer waiting for a key frame: sequence numbers go on, timestamps jump.
    expect(gapCause({ endedAt: 10_000, seqStep: 1, rtpMs: 1267 }, 1267, stall(8_700, 1_300))).toBe('wire');
    expect(gapCause({ endedAt: 10_000, seqStep: 40, rtpMs: 33 }, 1267, stall(8_700, 1_300))).toBe('wire');
  });
});

describe('Gate', () => {
  test('runs at most its limit at once, the rest in order', async () => {
    const gate = new Gate(2);
    const order: number[] = [];
    const release: (() => void)[] = [];
    const runs = [0, 1, 2, 3].map((i) =>
      gate.run(async () => {
        order.push(i);
        await new Promise<void>((r) => release.push(r));
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([0, 1]);
    release.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([0, 1, 2]);
    while (release.length) {
      release.shift()!();
      await new Promise((r) => setImmediate(r));
    }
    await expect(Promise.all(runs)).resolves.toEqual([0, 1, 2, 3]);
    expect(gate.highWater).toBe(2);
  });

  test('a failing task frees its place', async () => {
    const gate = new Gate(1);
    await expect(gate.run(() => Promise.reject(new Error('no')))).rejects.toThrow('no');
    await expect(gate.run(() => Promise.resolve(7))).resolves.toBe(7);
  });

  test('0 is no limit', async () => {
    const gate = new Gate(0);
    const pending: (() => void)[] = [];
    const runs = Array.from({ length: 5 }, () => gate.run(() => new Promise<void>((r) => pending.push(r))));
    await new Promise((r) => setImmediate(r));
    expect(gate.highWater).toBe(5);
    for (const p of pending) p();
    await Promise.all(runs);
  });
});
