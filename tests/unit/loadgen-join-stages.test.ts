// The load generator's join storm in stages (scripts/loadgen/join-stages.ts) and its last
// stage, the first key frame complete: its last packet read and every packet of it there
// (scripts/loadgen/stream-stats.ts keyFrameComplete), not merely its first packet. And a
// Chromium page's own join in stages (client/src/rtc/join-stages.ts): what its statistics
// show reached, each stage at its first instant, the order checked, the pages' figures.
import {
  JOIN_PAGE_STAGES,
  JoinStages,
  joinStageProblems,
  readsJoinStages,
  type JoinPageStages,
} from '../../client/src/rtc/join-stages';
import { pageStagesOf } from '../../scripts/loadgen/chromium-points';
import { JOIN_STAGES, joinStagesOf, pointStagesOf, type JoinStage } from '../../scripts/loadgen/join-stages';
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

describe("a page's join stages", () => {
  const inOrder = (): JoinPageStages => Object.fromEntries(JOIN_PAGE_STAGES.map((k, i) => [k, 10 * (i + 1)]));

  test("only a page opened with ?stages reads its statistics for them (a delegates' screen does not)", () => {
    expect(readsJoinStages('?stages=1')).toBe(true);
    expect(readsJoinStages('?home=x&stages')).toBe(true);
    expect(readsJoinStages('')).toBe(false);
    expect(readsJoinStages('?home=https%3A%2F%2Fa')).toBe(false);
  });

  test('every stage present and in order: no problem', () => {
    expect(joinStageProblems(inOrder())).toEqual([]);
    // ICE and DTLS may come before the hall camera's consumer (another consumer started them).
    expect(joinStageProblems({ ...inOrder(), ice: 45, dtls: 48 })).toEqual([]);
  });

  test('a stage missing or out of order is named', () => {
    const { firstRtp: _dropped, ...missing } = inOrder();
    expect(joinStageProblems(missing)).toEqual(['firstRtp missing']);
    expect(joinStageProblems({ ...inOrder(), device: 5 })).toEqual(['socket 20 > device 5']);
    expect(joinStageProblems({ ...inOrder(), firstFrame: 85 })).toEqual(['firstRtp 90 > firstFrame 85']);
    expect(joinStageProblems({ ...inOrder(), consumer: 95 })).toEqual([
      'consumer 95 > resumed 60',
      'consumer 95 > firstRtp 90',
    ]);
  });

  test("the recorder keeps each stage's first instant and reads ICE, DTLS, RTP and frames from statistics", () => {
    let now = 100;
    const target: Record<string, unknown> = {};
    const rec = new JoinStages(target, () => now);
    expect(target.__joinStages).toBe(rec.at);
    rec.mark('socket');
    now = 200;
    rec.mark('socket');
    expect(rec.at.socket).toBe(100);
    const report = (stats: Record<string, unknown>[]) => ({
      forEach: (cb: (s: Record<string, unknown>) => void) => stats.forEach(cb),
    });
    now = 300;
    rec.read(report([{ type: 'transport', iceState: 'checking', dtlsState: 'new' }]), 'hall');
    expect(rec.at.ice).toBeUndefined();
    now = 310;
    rec.read(report([{ type: 'transport', iceState: 'connected', dtlsState: 'connecting' }]), 'hall');
    now = 320;
    rec.read(
      report([
        { type: 'inbound-rtp', trackIdentifier: 'slides', packetsReceived: 5, framesDecoded: 1 },
        { type: 'inbound-rtp', trackIdentifier: 'hall', packetsReceived: 3, framesDecoded: 0 },
        { type: 'transport', iceState: 'connected', dtlsState: 'connected' },
      ]),
      'hall',
    );
    now = 330;
    rec.read(report([{ type: 'inbound-rtp', trackIdentifier: 'hall', packetsReceived: 9, framesDecoded: 1 }]), 'hall');
    expect(rec.at).toMatchObject({ socket: 100, ice: 310, dtls: 320, firstRtp: 320, firstFrame: 330 });
  });

  test("the pages' figures: p50 / p95 / max of each stage over the pages that reached it", () => {
    const s = pageStagesOf([{ stages: inOrder() }, { stages: { script: 30, socket: 400 } }, { stages: {} }]);
    expect(s.script).toEqual({ points: 2, p50: 10, p95: 30, max: 30 });
    expect(s.socket).toEqual({ points: 2, p50: 20, p95: 400, max: 400 });
    expect(s.firstFrame).toEqual({ points: 1, p50: 100, p95: 100, max: 100 });
  });
});
