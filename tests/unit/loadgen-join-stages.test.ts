// The load generator's join storm in stages (scripts/loadgen/join-stages.ts) and its last
// stage, the first key frame complete: its last packet read and every packet of it there
// (scripts/loadgen/receiver.ts keyFrameComplete), not merely its first packet.
import { JOIN_STAGES, type JoinStage } from '../../scripts/loadgen/point';
import { joinStagesOf, pointStagesOf } from '../../scripts/loadgen/join-stages';
import { keyFrameComplete, newStream } from '../../scripts/loadgen/receiver';

describe('keyFrameComplete', () => {
  const assembling = (startExt: number, ts: number) => {
    const s = newStream('video', 1, 90000);
    s.keyFrame = { ts, startExt, endExt: undefined, packets: 1 };
    return s;
  };

  test('complete at the marker only when every packet from the first is there', () => {
    const s = assembling(100, 9000);
    expect(keyFrameComplete(s, 101, 9000, false)).toBe(false);
    // The last packet arrives before the one in between: not complete yet.
    expect(keyFrameComplete(s, 103, 9000, true)).toBe(false);
    expect(keyFrameComplete(s, 102, 9000, false)).toBe(true);
  });

  test('a one-packet key frame is complete at its first packet', () => {
    const s = assembling(7, 3000);
    expect(keyFrameComplete(s, 7, 3000, true)).toBe(true);
  });

  test("another frame's packets and packets before the first do not count", () => {
    const s = assembling(100, 9000);
    expect(keyFrameComplete(s, 99, 9000, false)).toBe(false);
    expect(keyFrameComplete(s, 101, 12000, true)).toBe(false);
    expect(keyFrameComplete(s, 101, 9000, true)).toBe(true);
  });
});

describe('joinStagesOf', () => {
  const point = (id: string, at: Partial<Record<JoinStage, number>>) => ({ o: { pointId: id }, stages: at });

  test('ms since the storm started, over the points that reached each stage', () => {
    const t0 = 1_000_000;
    const all = Object.fromEntries(JOIN_STAGES.map((k, i) => [k, t0 + 100 * (i + 1)]));
    const points = [
      point('A', all),
      point('B', { ...all, socket: t0 + 300 }),
      point('C', { socket: t0 + 50, transport: t0 + 400 }),
    ];
    const s = joinStagesOf(points, t0);
    expect(s.socket).toEqual({ points: 3, p50: 100, p95: 300, max: 300 });
    expect(s.keyFrame).toEqual({ points: 2, p50: 600, p95: 600, max: 600 });
    expect(s.ice.points).toBe(2);
    const rows = pointStagesOf(points as never, t0);
    expect(rows[2]).toEqual({
      pointId: 'C',
      socket: 50,
      transport: 400,
      ice: null,
      dtls: null,
      firstRtp: null,
      keyFrame: null,
    });
  });

  test('no point reached a stage: 0 points, no figure', () => {
    expect(joinStagesOf([], 0).dtls).toEqual({ points: 0, p50: NaN, p95: NaN, max: NaN });
  });
});
