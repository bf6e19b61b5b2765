// A virtual point's media watchdog (scripts/loadgen/point-watch.ts) on a run's fleet
// (scripts/loadgen/watch-judge.ts), on a simulated clock: the reason of each rebuild, the
// silence held and why, a storm against a real stop, a silence all points share, the
// drill with most points stalled, and the watchdog's timings a test gives.
import type { MediaWatchdogOptions } from '../../client/src/point/media-watchdog';
import { PointWatch, type WatchdogRebuild } from '../../scripts/loadgen/point-watch';
import { newStream, type StreamStats } from '../../scripts/loadgen/stream-stats';
import { MAX_SHARED_HOLD_MS, WatchFleet } from '../../scripts/loadgen/watch-judge';

/** What a point's media does in a 100 ms step: flows, arrives but never decrypts, or stops. */
type Flow = 'flows' | 'undecryptable' | 'stopped';

interface Scenario {
  points: number;
  seconds: number;
  /** A point's media at time t (ms); a rebuilt point's media flows again unless this says otherwise. */
  flow: (i: number, t: number, rebuilt: boolean) => Flow;
  /** The generator's loop in the step: busy share, and ms behind. */
  loop?: (t: number) => { busy: number; behindMs: number };
  /** Points whose first receiver drops its media on purpose (the drill). */
  drilled?: (i: number) => boolean;
  /** The watchdog's timings, when not the page's. */
  watchdog?: Partial<MediaWatchdogOptions>;
}

interface SimPoint {
  watch: PointWatch;
  streams: Map<number, StreamStats>;
  drilled: boolean;
  rebuiltAt: number[];
}

const STEP = 100;

function simulate(s: Scenario): { points: SimPoint[]; fleet: WatchFleet } {
  let now = 0;
  const load = { behindMs: 0, busyMs: 0 };
  const fleet = new WatchFleet(load);
  const receiver = (p: Omit<SimPoint, 'streams'> & { streams?: Map<number, StreamStats> }) => {
    p.watch.newReceiver();
    p.streams = new Map([
      [1, newStream('video', 1, 90_000)],
      [2, newStream('audio', 2, 48_000)],
    ]);
    p.watch.add(1, 'video');
    p.watch.add(2, 'audio');
  };
  const points: SimPoint[] = [];
  for (let i = 0; i < s.points; i++) {
    const p = {
      watch: new PointWatch({ pointId: `p${i}`, log: () => undefined, fleet, now: () => now, watchdog: s.watchdog }),
      drilled: s.drilled?.(i) ?? false,
      rebuiltAt: [],
    } as unknown as SimPoint;
    receiver(p);
    points.push(p);
  }
  const lookEvery = 2000;
  for (now = 0; now <= s.seconds * 1000; now += STEP) {
    const l = s.loop?.(now) ?? { busy: 0.1, behindMs: 0 };
    load.busyMs += STEP * l.busy;
    load.behindMs += l.behindMs;
    points.forEach((p, i) => {
      const flow = p.drilled ? 'stopped' : s.flow(i, now, p.rebuiltAt.length > 0);
      if (flow !== 'stopped')
        for (const st of p.streams.values()) {
          st.received += 1;
          if (flow === 'flows') st.decrypted += 1;
          st.lastArrival = now;
        }
      // The looks spread over the 2 s, as the points' timers are.
      if ((now - Math.round((i * lookEvery) / s.points / STEP) * STEP) % lookEvery !== 0) return;
      const rebuild = p.watch.look({
        active: true,
        paused: { video: false, audio: false },
        streams: p.streams,
        sinceJoinMs: now,
        drilled: p.drilled,
      });
      if (rebuild) {
        p.rebuiltAt.push(now);
        p.drilled = false;
        receiver(p);
      }
    });
  }
  return { points, fleet };
}

const reasons = (p: SimPoint) => p.watch.rebuilds.map((b: WatchdogRebuild) => b.reason);

describe('PointWatch on the fleet', () => {
  test('each rebuild reason: no packets, packets that never decrypt, the drill', () => {
    const { points } = simulate({
      points: 10,
      seconds: 40,
      flow: (i, t, rebuilt) =>
        rebuilt || t < 10_000 ? 'flows' : i === 0 ? 'stopped' : i === 1 ? 'undecryptable' : 'flows',
      drilled: (i) => i === 2,
    });
    expect(reasons(points[0]!)[0]).toBe('noPackets');
    expect(reasons(points[1]!)[0]).toBe('undecryptable');
    expect(reasons(points[2]!)[0]).toBe('drill');
    // The others read packets throughout (the drilled point again once rebuilt): the rebuild says so.
    expect(points[2]!.rebuiltAt[0]).toBeLessThan(points[0]!.rebuiltAt[0]!);
    expect(points[0]!.watch.rebuilds[0]!.peers).toEqual({ watched: 9, receiving: 9 });
    expect(points[0]!.watch.rebuilds[0]!.stalled.map((x) => x.kind).sort()).toEqual(['audio', 'video']);
    for (const p of points.slice(3)) expect(p.watch.rebuilds).toEqual([]);
  });

  test('held by reason: the generator behind, and the others silent too while it is saturated', () => {
    // One point silent 10 s while the loop is behind 50 ms in every 100 ms step.
    const behind = simulate({
      points: 5,
      seconds: 20,
      flow: (i, t) => (i === 0 && t >= 5000 && t < 15_000 ? 'stopped' : 'flows'),
      loop: () => ({ busy: 1, behindMs: 50 }),
    }).points[0]!;
    expect(behind.watch.held.generatorBehind).toBeGreaterThan(3000);
    expect(behind.watch.held.peersSilent).toBe(0);
    expect(behind.watch.rebuilds).toEqual([]);

    // All points silent 10 s, the loop saturated but on time.
    const shared = simulate({
      points: 5,
      seconds: 20,
      flow: (_i, t) => (t >= 5000 && t < 15_000 ? 'stopped' : 'flows'),
      loop: (t) => ({ busy: t >= 5000 && t < 15_000 ? 0.95 : 0.1, behindMs: 0 }),
    }).points[0]!;
    expect(shared.watch.held.peersSilent).toBeGreaterThan(4000);
    expect(shared.watch.held.generatorBehind).toBe(0);
    expect(shared.watch.rebuilds).toEqual([]);
  });

  test('a storm rebuilds nothing; a real stop while the others receive is rebuilt', () => {
    // The storm: every point's reads wait 20 s, the loop behind through it.
    const storm = simulate({
      points: 20,
      seconds: 40,
      flow: (_i, t) => (t >= 5000 && t < 25_000 ? 'stopped' : 'flows'),
      loop: (t) => ({ busy: 1, behindMs: t >= 5000 && t < 25_000 ? 30 : 0 }),
    });
    expect(storm.points.flatMap((p) => p.watch.rebuilds)).toEqual([]);

    const stop = simulate({
      points: 20,
      seconds: 40,
      flow: (i, t, rebuilt) => (i === 3 && t >= 5000 && !rebuilt ? 'stopped' : 'flows'),
    });
    expect(stop.points.map((p) => p.rebuiltAt.length)).toEqual(stop.points.map((_p, i) => (i === 3 ? 1 : 0)));
  });

  test('all points lose media, the generator on time: reported as shared, and rebuilt after the cap', () => {
    // The SFU stops sending to everyone at 5 s for good; the loop never late.
    const flow = (_i: number, t: number): Flow => (t >= 5000 ? 'stopped' : 'flows');
    // Saturated (busy 95 %), never behind: held, but not past the cap.
    const busy = simulate({
      points: 10,
      seconds: 70,
      flow,
      loop: (t) => ({ busy: t >= 5000 ? 0.95 : 0.1, behindMs: 0 }),
    });
    for (const p of busy.points) {
      expect(p.rebuiltAt.length).toBeGreaterThan(0);
      expect(p.rebuiltAt[0]).toBeGreaterThan(5000 + MAX_SHARED_HOLD_MS);
      expect(p.watch.held.peersSilent).toBeGreaterThanOrEqual(MAX_SHARED_HOLD_MS - 2000);
    }
    const s = busy.fleet.sharedSilences();
    expect(s.episodes).toBeGreaterThanOrEqual(1);
    expect(s.pointsAtPeak).toBe(10);
    expect(s.longestMs).toBeGreaterThan(MAX_SHARED_HOLD_MS);
    expect(s.generatorKeptUp).toBe(0);

    // Keeping up: the silence counts at once, as on the page, and is reported.
    const idle = simulate({ points: 10, seconds: 40, flow });
    for (const p of idle.points) {
      expect(p.rebuiltAt.length).toBeGreaterThan(0);
      expect(p.rebuiltAt[0]).toBeLessThan(5000 + 20_000);
      expect(p.watch.held.peersSilent).toBe(0);
    }
    expect(idle.fleet.sharedSilences()).toMatchObject({ pointsAtPeak: 10, generatorKeptUp: 1 });
  });

  test('the drill with most points stalled: each stalled point is rebuilt', () => {
    const { points, fleet } = simulate({
      points: 20,
      seconds: 40,
      flow: () => 'flows',
      drilled: (i) => i < 12,
      loop: () => ({ busy: 0.95, behindMs: 0 }),
    });
    for (const p of points.slice(0, 12)) {
      expect(reasons(p)).toEqual(['drill']);
      // The others watched are the 8 not drilled, all receiving.
      expect(p.watch.rebuilds[0]!.peers).toEqual({ watched: 8, receiving: 8 });
      expect(p.rebuiltAt[0]).toBeLessThan(20_000);
    }
    for (const p of points.slice(12)) expect(p.watch.rebuilds).toEqual([]);
    expect(fleet.sharedSilences().episodes).toBe(0);
  });

  test("a test's watchdog timings: the drill's two strikes stallMs apart, the page's 6 s by default", () => {
    for (const watchdog of [undefined, { stallMs: 12_000 }]) {
      const stallMs = watchdog?.stallMs ?? 6000;
      const { points } = simulate({ points: 4, seconds: 40, flow: () => 'flows', drilled: (i) => i === 0, watchdog });
      const p = points[0]!;
      expect(reasons(p)).toEqual(['drill']);
      // Stalled from its first look: a strike after stallMs, the rebuild at the second.
      expect(p.watch.watchdog.stalls).toBe(2);
      expect(p.rebuiltAt[0]).toBeGreaterThanOrEqual(2 * stallMs);
      expect(p.rebuiltAt[0]).toBeLessThan(2 * stallMs + 2000);
    }
  });
});
