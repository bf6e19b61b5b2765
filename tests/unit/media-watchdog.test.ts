// The point page's media watchdog decisions (client/src/point/media-watchdog.ts), the
// same ones the load generator's virtual points follow: strikes, backoff, and what it
// must leave alone (the lobby, a paused producer, a track that comes back).
import { MediaWatchdog, type WatchdogAction } from '../../client/src/point/media-watchdog';

const OPTS = { stallMs: 6000, backoffBaseMs: 12_000, backoffMaxMs: 48_000, healthyResetMs: 60_000 };

/** Drives a watchdog every 2 s with fixed progress per track; returns the non-idle actions. */
function run(
  w: MediaWatchdog,
  from: number,
  to: number,
  tracks: (t: number) => { key: string; progress: number }[],
  active: (t: number) => boolean = () => true,
): { at: number; action: WatchdogAction }[] {
  const out: { at: number; action: WatchdogAction }[] = [];
  for (let t = from; t <= to; t += 2000) {
    const action = w.observe(t, active(t), tracks(t));
    if (action.type !== 'none') out.push({ at: t, action });
  }
  return out;
}

describe('media watchdog', () => {
  test('flowing media: never acts', () => {
    const w = new MediaWatchdog(OPTS);
    const acts = run(w, 0, 120_000, (t) => [
      { key: 'v1', progress: t / 40 },
      { key: 'a1', progress: t / 20 },
    ]);
    expect(acts).toEqual([]);
    expect(w.rebuilds).toBe(0);
  });

  test('a stalled track: an ICE restart after N s, a rebuild after another N s', () => {
    const w = new MediaWatchdog(OPTS);
    const acts = run(w, 0, 14_000, (t) => [
      { key: 'v1', progress: Math.min(t, 2000) / 40 }, // stops growing at 2 s
      { key: 'a1', progress: t / 20 },
    ]);
    expect(acts).toEqual([
      { at: 8000, action: { type: 'restart-ice', stalled: ['v1'] } },
      { at: 14_000, action: { type: 'rebuild', stalled: ['v1'], attempt: 1 } },
    ]);
    expect(w.rebuilds).toBe(1);
    expect(w.stalls).toBe(2);
  });

  test('a rebuild names every track still silent since its strike, not only the last to stall', () => {
    // Video's last progress is one look before audio's (its counter moves in coarser
    // steps): video is struck first, audio trips the rebuild a look later.
    const w = new MediaWatchdog(OPTS);
    const acts = run(w, 0, 10_000, (t) => [
      { key: 'v1', progress: Math.min(t, 2000) / 40 },
      { key: 'a1', progress: Math.min(t, 4000) / 20 },
    ]);
    expect(acts).toEqual([
      { at: 8000, action: { type: 'restart-ice', stalled: ['v1'] } },
      { at: 10_000, action: { type: 'rebuild', stalled: ['v1', 'a1'], attempt: 1 } },
    ]);
  });

  test('a track that never received anything counts from when it was consumed', () => {
    const w = new MediaWatchdog(OPTS);
    const acts = run(w, 10_000, 34_000, () => [{ key: 'v1', progress: 0 }]);
    expect(acts.map((a) => [a.at, a.action.type])).toEqual([
      [16_000, 'restart-ice'],
      [22_000, 'rebuild'],
      // Still nothing after the rebuild: the next one waits out the 12 s backoff.
      [34_000, 'rebuild'],
    ]);
  });

  test('rebuilds that do not cure back off exponentially up to the cap', () => {
    const w = new MediaWatchdog(OPTS);
    // Each rebuild brings new consumers (new keys); none of them ever progresses.
    let gen = 0;
    const acts: number[] = [];
    for (let t = 0; t <= 300_000; t += 2000) {
      const a = w.observe(t, true, [{ key: `v${gen}`, progress: 0 }]);
      if (a.type === 'rebuild') {
        acts.push(t);
        gen += 1;
      }
    }
    const gaps = acts.slice(1).map((t, i) => t - acts[i]!);
    expect(acts[0]).toBe(12_000);
    // A fresh consumer is judged after 6 s; the backoff decides the gap: 12, 24, 48, 48 (capped).
    expect(gaps.slice(0, 4)).toEqual([12_000, 24_000, 48_000, 48_000]);
    expect(w.rebuilds).toBe(acts.length);
  });

  test('a cure resets the strikes; media flowing for a while resets the backoff', () => {
    const w = new MediaWatchdog(OPTS);
    let frames = 0;
    let flowing = false;
    let key = 'v0';
    const acts: { at: number; type: string }[] = [];
    const step = (t: number) => {
      if (flowing) frames += 50;
      const a = w.observe(t, true, [{ key, progress: frames }]);
      if (a.type !== 'none') acts.push({ at: t, type: a.type });
      if (a.type === 'rebuild') {
        key = `v${t}`;
        frames = 0;
        flowing = true; // the rebuild cured it
      }
    };
    for (let t = 0; t <= 12_000; t += 2000) step(t);
    expect(acts).toEqual([
      { at: 6000, type: 'restart-ice' },
      { at: 12_000, type: 'rebuild' },
    ]);
    // Flowing for 10 s, then stalled again: the strikes start over with an ICE restart,
    // and the rebuild waits out the backoff (12 s after the previous rebuild: already so);
    // the one after that would wait 24 s.
    for (let t = 14_000; t <= 22_000; t += 2000) step(t);
    flowing = false;
    for (let t = 24_000; t <= 40_000; t += 2000) step(t);
    expect(acts.slice(2)).toEqual([
      { at: 28_000, type: 'restart-ice' },
      { at: 34_000, type: 'rebuild' },
    ]);
    expect(w.backoffMs).toBe(24_000);
    // Flowing for over a minute: the next trouble starts from no backoff again.
    for (let t = 42_000; t <= 120_000; t += 2000) step(t);
    expect(w.backoffMs).toBe(0);
  });

  test('the lobby and paused producers are left alone; a track back from a pause starts afresh', () => {
    const w = new MediaWatchdog(OPTS);
    // Lobby for a minute with nothing flowing: inactive, no action.
    expect(
      run(
        w,
        0,
        60_000,
        () => [{ key: 'v1', progress: 0 }],
        () => false,
      ),
    ).toEqual([]);
    // Live: the hall pauses its camera from 70 s to 100 s (the page leaves the track out).
    const paused = (t: number) => t >= 70_000 && t < 100_000;
    const acts = run(w, 62_000, 110_000, (t) =>
      paused(t) ? [] : [{ key: 'v1', progress: t < 70_000 ? t / 40 : t >= 104_000 ? t / 40 : 1750 }],
    );
    // Back at 100 s with the count of before: 4 s for the key frame is within the grace.
    expect(acts).toEqual([]);
    expect(w.rebuilds).toBe(0);
  });

  test('the socket going down mid-strike starts the judgement over', () => {
    const w = new MediaWatchdog(OPTS);
    const acts = run(
      w,
      0,
      20_000,
      () => [{ key: 'v1', progress: 0 }],
      (t) => t < 8000 || t >= 10_000,
    );
    // Strike at 6 s; inactive at 8 s (reset); active again at 10 s: strike again at 16 s.
    expect(acts.map((a) => [a.at, a.action.type])).toEqual([
      [6000, 'restart-ice'],
      [16_000, 'restart-ice'],
    ]);
  });

  test('says when it last judged media: only looks while active count', () => {
    const w = new MediaWatchdog(OPTS);
    expect(w.lastJudgedAt).toBeUndefined();
    run(
      w,
      0,
      4000,
      () => [{ key: 'a1', progress: 1 }],
      (t) => t < 4000,
    );
    expect(w.lastJudgedAt).toBe(2000);
    w.observe(5000, true, []);
    expect(w.lastJudgedAt).toBe(5000);
  });
});
