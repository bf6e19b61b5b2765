// The load generator's media watchdog judged against the generator's own lag
// (scripts/loadgen/watch-judge.ts): how much of a look's interval counts toward a point's
// silence, and which other points count as receiving.
import { MIN_PEERS, RECEIVING_WINDOW_MS, WatchFleet, countedSilence } from '../../scripts/loadgen/watch-judge';
import { MediaWatchdog } from '../../client/src/point/media-watchdog';

const peers = (watched: number, receiving: number) => ({ watched, receiving });

describe('countedSilence', () => {
  test('the generator keeping up and the others receiving: the whole interval counts', () => {
    expect(countedSilence({ elapsedMs: 2000, behindMs: 0, peers: peers(400, 398) })).toEqual({
      countedMs: 2000,
      heldMs: 0,
      reason: null,
    });
  });

  test('the time the generator loop was behind does not count', () => {
    expect(countedSilence({ elapsedMs: 2500, behindMs: 1800, peers: peers(400, 390) })).toEqual({
      countedMs: 700,
      heldMs: 1800,
      reason: 'generatorBehind',
    });
    // Behind for longer than the interval (a stall that began before it): none counts.
    expect(countedSilence({ elapsedMs: 2000, behindMs: 5000, peers: peers(400, 390) }).countedMs).toBe(0);
  });

  test('most other watched points reading nothing either: nothing counts, whatever the loop did', () => {
    expect(countedSilence({ elapsedMs: 2000, behindMs: 0, peers: peers(400, 150) })).toEqual({
      countedMs: 0,
      heldMs: 2000,
      reason: 'peersSilent',
    });
    // Half of them receiving is enough to say the silence is this point's own.
    expect(countedSilence({ elapsedMs: 2000, behindMs: 0, peers: peers(400, 200) }).countedMs).toBe(2000);
  });

  test('too few other points to judge by: only the loop lag is discounted', () => {
    expect(countedSilence({ elapsedMs: 2000, behindMs: 0, peers: peers(MIN_PEERS - 1, 0) }).countedMs).toBe(2000);
    expect(countedSilence({ elapsedMs: 2000, behindMs: 0, peers: peers(0, 0) }).countedMs).toBe(2000);
  });

  test('a clock running backwards counts nothing', () => {
    expect(countedSilence({ elapsedMs: -5, behindMs: 0, peers: peers(10, 10) }).countedMs).toBe(0);
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
    const wallActions: string[] = [];
    const judgedActions: string[] = [];
    for (let t = 0; t <= 30_000; t += 2000) {
      const c = countedSilence({ elapsedMs: 2000, behindMs: 1500, peers: peers(400, t < 20_000 ? 100 : 300) });
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
      clock += countedSilence({ elapsedMs: 2000, behindMs: 0, peers: peers(400, 399) }).countedMs;
      actions.push(look(stopped, clock, 1));
    }
    expect(actions).toContain('rebuild');
  });
});

describe('WatchFleet', () => {
  test('the other watched points and which of them read lately; a point not watching is left out', () => {
    const fleet = new WatchFleet();
    try {
      const now = 100_000;
      fleet.add('a', () => now - 100);
      fleet.add('b', () => now - RECEIVING_WINDOW_MS - 1);
      fleet.add('c', () => 0); // watching, nothing read yet
      fleet.add('d', () => undefined); // not watching (lobby, rejoining)
      expect(fleet.peersOf('a', now)).toEqual({ watched: 2, receiving: 0 });
      expect(fleet.peersOf('b', now)).toEqual({ watched: 2, receiving: 1 });
      expect(fleet.peersOf('d', now)).toEqual({ watched: 3, receiving: 1 });
    } finally {
      fleet.stop();
    }
  });

  test('counts the time its own loop was blocked', () => {
    const fleet = new WatchFleet();
    try {
      const before = fleet.behindMs;
      const until = performance.now() + 300;
      while (performance.now() < until) {
        // The generator's loop held up, as a burst of DTLS handshakes holds it.
      }
      expect(fleet.behindMs - before).toBeGreaterThanOrEqual(200);
    } finally {
      fleet.stop();
    }
  });
});
