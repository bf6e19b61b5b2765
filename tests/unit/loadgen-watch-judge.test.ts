// The load generator's media watchdog judged against the generator's own lag
// (scripts/loadgen/watch-judge.ts): how much of a look's interval counts toward a point's
// silence, which other points count as receiving, and the silences most points share.
import {
  MAX_SHARED_HOLD_MS,
  MIN_PEERS,
  RECEIVING_WINDOW_MS,
  WatchFleet,
  countedSilence,
  type LookInterval,
} from '../../scripts/loadgen/watch-judge';
import { GeneratorPauses } from '../../scripts/loadgen/stalls';
import { MediaWatchdog } from '../../client/src/point/media-watchdog';

const peers = (watched: number, receiving: number) => ({ watched, receiving });
const interval = (i: Partial<LookInterval>): LookInterval => ({
  elapsedMs: 2000,
  behindMs: 0,
  busyMs: 200,
  peers: peers(400, 398),
  sharedHeldMs: 0,
  ...i,
});

describe('countedSilence', () => {
  test('the generator keeping up and the others receiving: the whole interval counts', () => {
    expect(countedSilence(interval({}))).toEqual({ countedMs: 2000, heldMs: 0, reason: null, shared: false });
  });

  test('the time the generator loop was behind does not count', () => {
    expect(countedSilence(interval({ elapsedMs: 2500, behindMs: 1800, peers: peers(400, 390) }))).toEqual({
      countedMs: 700,
      heldMs: 1800,
      reason: 'generatorBehind',
      shared: false,
    });
    // Behind for longer than the interval (a stall that began before it): none counts.
    expect(countedSilence(interval({ behindMs: 5000 })).countedMs).toBe(0);
  });

  test('most others silent while the generator is saturated: nothing counts', () => {
    // Its loop behind at all, or busy 90 % of the interval.
    expect(countedSilence(interval({ behindMs: 100, peers: peers(400, 150) }))).toEqual({
      countedMs: 0,
      heldMs: 2000,
      reason: 'peersSilent',
      shared: true,
    });
    expect(countedSilence(interval({ busyMs: 1800, peers: peers(400, 150) })).countedMs).toBe(0);
    // Half of them receiving is enough to say the silence is this point's own.
    expect(countedSilence(interval({ busyMs: 1900, peers: peers(400, 200) })).countedMs).toBe(2000);
  });

  test('most others silent while the generator keeps up: the hall or the SFU stopped, and it counts', () => {
    expect(countedSilence(interval({ busyMs: 1000, peers: peers(400, 0) }))).toEqual({
      countedMs: 2000,
      heldMs: 0,
      reason: null,
      shared: true,
    });
  });

  test('a hold for a shared silence ends at the cap, then the silence counts', () => {
    const saturatedSilent = { busyMs: 2000, peers: peers(400, 0) };
    expect(countedSilence(interval({ ...saturatedSilent, sharedHeldMs: MAX_SHARED_HOLD_MS - 500 }))).toEqual({
      countedMs: 1500,
      heldMs: 500,
      reason: 'peersSilent',
      shared: true,
    });
    expect(countedSilence(interval({ ...saturatedSilent, sharedHeldMs: MAX_SHARED_HOLD_MS })).countedMs).toBe(2000);
  });

  test('too few other points to judge by: only the loop lag is discounted', () => {
    expect(countedSilence(interval({ busyMs: 2000, peers: peers(MIN_PEERS - 1, 0) })).countedMs).toBe(2000);
    expect(countedSilence(interval({ busyMs: 2000, peers: peers(0, 0) })).countedMs).toBe(2000);
  });

  test('a clock running backwards counts nothing', () => {
    expect(countedSilence(interval({ elapsedMs: -5 })).countedMs).toBe(0);
  });

  // The storm the judgement is for: every look of every point falls 2 s apart, the
  // generator's loop behind for most of each, the others' reads late too. On the wall
  // clock the page's watchdog rebuilds after two stalls; on the judged clock it does not,
  // and a point whose media truly stopped while the others receive is still rebuilt.
  test('the watchdog on the judged clock: a storm rebuilds nothing, a real stop still rebuilds', () => {
    const look = (w: MediaWatchdog, clock: number, progress: number) =>
      w.observe(clock, true, [{ key: 'v', progress }]).type;
    const wall = new MediaWatchdog();
    const judged = new MediaWatchdog();
    let clock = 0;
    let held = 0;
    const wallActions: string[] = [];
    const judgedActions: string[] = [];
    for (let t = 0; t <= 30_000; t += 2000) {
      const c = countedSilence(
        interval({ behindMs: 1500, busyMs: 500, peers: peers(400, t < 20_000 ? 100 : 300), sharedHeldMs: held }),
      );
      held = c.reason === 'peersSilent' ? held + c.heldMs : 0;
      clock += c.countedMs;
      wallActions.push(look(wall, t, 1));
      judgedActions.push(look(judged, clock, 1));
    }
    expect(wallActions).toContain('rebuild');
    expect(judgedActions).not.toContain('rebuild');

    const stopped = new MediaWatchdog();
    clock = 0;
    const actions: string[] = [];
    for (let t = 0; t <= 30_000; t += 2000) {
      clock += countedSilence(interval({ peers: peers(400, 399) })).countedMs;
      actions.push(look(stopped, clock, 1));
    }
    expect(actions).toContain('rebuild');
  });
});

describe('WatchFleet', () => {
  const load = { behindMs: 0, busyMs: 0 };

  test('the other watched points and which of them read lately; a point not watching is left out', () => {
    const fleet = new WatchFleet(load);
    const now = 100_000;
    fleet.add('a', () => now - 100);
    fleet.add('b', () => now - RECEIVING_WINDOW_MS - 1);
    fleet.add('c', () => 0); // watching, nothing read yet
    fleet.add('d', () => undefined); // not watching (lobby, rejoining)
    expect(fleet.peersOf('a', now)).toEqual({ watched: 2, receiving: 0 });
    expect(fleet.peersOf('b', now)).toEqual({ watched: 2, receiving: 1 });
    expect(fleet.peersOf('d', now)).toEqual({ watched: 3, receiving: 1 });
  });

  test('the silences most points share: how long, how many, and whether the generator kept up', () => {
    const l = { behindMs: 0, busyMs: 0 };
    const fleet = new WatchFleet(l);
    const lastRead = new Map<string, number>();
    for (let i = 0; i < 6; i++) fleet.add(`p${i}`, () => lastRead.get(`p${i}`) ?? 0);
    // The points receive until 10 s; all stop (the SFU), the generator idle; all receive
    // again from 20 s; then all but one stop while the generator is saturated.
    for (let t = 0; t <= 40_000; t += 500) {
      const stopped = (t >= 10_000 && t < 20_000) || t >= 30_000;
      for (let i = 0; i < 6; i++) if (!stopped || (t >= 30_000 && i === 0)) lastRead.set(`p${i}`, t);
      l.busyMs += t >= 30_000 ? 500 : 100;
      fleet.peersOf('p0', t);
    }
    const s = fleet.sharedSilences();
    expect(s.episodes).toBe(2);
    expect(s.generatorKeptUp).toBe(1);
    expect(s.pointsAtPeak).toBe(6);
    // Seen from the others' last read 2 s old to their first read again.
    expect(s.longestMs).toBeGreaterThanOrEqual(7500);
    expect(s.longestMs).toBeLessThanOrEqual(10_000);
  });

  test('points that never read media are not a shared silence (a join)', () => {
    const fleet = new WatchFleet(load);
    for (let i = 0; i < 6; i++) fleet.add(`p${i}`, () => 0);
    for (let t = 0; t <= 10_000; t += 500) fleet.peersOf('p0', t);
    expect(fleet.sharedSilences().episodes).toBe(0);
  });
});

describe('GeneratorPauses', () => {
  test('counts the time its own loop was blocked', () => {
    const pauses = new GeneratorPauses();
    try {
      const before = pauses.behindMs;
      const busyBefore = pauses.busyMs;
      const until = performance.now() + 300;
      while (performance.now() < until) {
        // The generator's loop held up, as a burst of DTLS handshakes holds it.
      }
      expect(pauses.behindMs - before).toBeGreaterThanOrEqual(200);
      expect(pauses.busyMs - busyBefore).toBeGreaterThanOrEqual(250);
    } finally {
      pauses.stop();
    }
  });
});
