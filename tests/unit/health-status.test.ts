// The point status machine: grading of one report, and hysteresis over a sequence.
import { loadConfig } from '../../server/config';
import type { HealthReport } from '../../server/contract/attendance';
import { gradeReport, initialHealth, nextHealth, PointHealth, type Grade } from '../../server/domain/health/status';
import { isSilent, observeFlow } from '../../server/domain/health/media-silence';

const cfg = loadConfig({}).health; // documented defaults: rtt 250/600, loss 2/8, 2 worse, 3 better

const report = (over: Partial<HealthReport> = {}): HealthReport => ({
  transportState: 'connected',
  protocol: 'udp',
  rttMs: 20,
  signalRttMs: 30,
  lossPct: 0,
  jitterMs: 5,
  bitrateKbps: 1200,
  consumers: 2,
  framesDecoded: 50,
  framesDropped: 0,
  freezeCount: 0,
  freezeMs: 0,
  width: 640,
  height: 360,
  audioConcealedPct: 0,
  ...over,
});

describe('gradeReport', () => {
  test.each<[string, Partial<HealthReport>, Grade]>([
    ['clean link', {}, 'good'],
    ['rtt at the degraded threshold', { rttMs: 250 }, 'degraded'],
    ['rtt at the poor threshold', { rttMs: 600 }, 'poor'],
    ['3 % loss', { lossPct: 3 }, 'degraded'],
    ['10 % loss', { lossPct: 10 }, 'poor'],
    ['frozen for 1.5 s of 2', { freezeMs: 1500 }, 'poor'],
    ['consumers but nothing received', { bitrateKbps: 0 }, 'poor'],
    ['transport failed', { transportState: 'failed' }, 'lost'],
    ['transport disconnected', { transportState: 'disconnected' }, 'poor'],
    ['media still connecting', { transportState: 'connecting' }, 'connecting'],
    ['lobby: no consumers, no transport, fast signalling', { transportState: null, consumers: 0, rttMs: null }, 'good'],
    [
      'lobby: slow signalling',
      { transportState: null, consumers: 0, rttMs: null, signalRttMs: 700, lossPct: 50 },
      'poor',
    ],
  ])('%s → %s', (_name, over, grade) => {
    expect(gradeReport(report(over), null, cfg).grade).toBe(grade);
  });

  test('the SFU score is taken into account', () => {
    expect(
      gradeReport(report(), { score: 6, spatialLayer: 1, bytesSent: 1, availableOutgoingBitrate: 1 }, cfg).grade,
    ).toBe('degraded');
    expect(
      gradeReport(report(), { score: 3, spatialLayer: 0, bytesSent: 1, availableOutgoingBitrate: 1 }, cfg).grade,
    ).toBe('poor');
    expect(
      gradeReport(report(), { score: 10, spatialLayer: 2, bytesSent: 1, availableOutgoingBitrate: 1 }, cfg).grade,
    ).toBe('good');
  });

  test('quality falls as the link worsens', () => {
    const q = (over: Partial<HealthReport>) => gradeReport(report(over), null, cfg).quality!;
    expect(q({})).toBeGreaterThan(90);
    expect(q({ rttMs: 300 })).toBeLessThan(q({}));
    expect(q({ rttMs: 600 })).toBeLessThanOrEqual(50);
    expect(q({ lossPct: 20 })).toBe(0);
  });
});

describe('status with hysteresis', () => {
  const run = (events: [string, number][]) => {
    const h = new PointHealth(cfg);
    const out: string[] = [];
    for (const [what, at] of events) {
      if (what === 'connect' || what === 'disconnect' || what === 'tick' || what === 'end') {
        h.apply({ type: what, at });
      } else if (what === 'silent' || what === 'flowing') {
        h.apply({ type: 'media', at, silent: what === 'silent' });
      } else {
        h.apply({ type: 'report', at, grade: what as Grade });
      }
      out.push(h.status);
    }
    return { out, h };
  };

  test('connect → connecting, first report decides at once', () => {
    expect(
      run([
        ['connect', 0],
        ['connecting', 2000],
        ['good', 4000],
      ]).out,
    ).toEqual(['connecting', 'connecting', 'good']);
  });

  test('one bad sample does not change a good point; two in a row do', () => {
    const { out } = run([
      ['connect', 0],
      ['good', 2000],
      ['poor', 4000],
      ['good', 6000],
      ['poor', 8000],
      ['poor', 10_000],
    ]);
    expect(out).toEqual(['connecting', 'good', 'good', 'good', 'good', 'poor']);
  });

  test('worsening goes to the mildest grade of the streak', () => {
    const { out } = run([
      ['connect', 0],
      ['good', 2000],
      ['poor', 4000],
      ['degraded', 6000],
    ]);
    expect(out.at(-1)).toBe('degraded');
  });

  test('recovery needs three better samples and goes to the worst of them', () => {
    const { out } = run([
      ['connect', 0],
      ['poor', 2000],
      ['good', 4000],
      ['good', 6000],
      ['poor', 8000], // breaks the streak
      ['good', 10_000],
      ['degraded', 12_000],
      ['good', 14_000],
    ]);
    expect(out).toEqual(['connecting', 'poor', 'poor', 'poor', 'poor', 'poor', 'poor', 'degraded']);
  });

  test('socket gone → lost at once; back → connecting → status', () => {
    const { out, h } = run([
      ['connect', 0],
      ['good', 2000],
      ['disconnect', 3000],
      ['connect', 9000],
      ['good', 10_000],
    ]);
    expect(out).toEqual(['connecting', 'good', 'lost', 'connecting', 'good']);
    expect(h.state.worst).toBe('lost');
  });

  test('reports that stop while the socket stays up → lost after the stale time', () => {
    const { out } = run([
      ['connect', 0],
      ['good', 2000],
      ['tick', 2000 + cfg.staleMs],
      ['tick', 2001 + cfg.staleMs],
      ['good', 20_000],
    ]);
    expect(out).toEqual(['connecting', 'good', 'good', 'lost', 'good']);
  });

  test('silent media → lost at once, reports do not lift it; media back → the next report decides', () => {
    const { out, h } = run([
      ['connect', 0],
      ['good', 2000],
      ['silent', 9000],
      ['good', 10_000],
      ['good', 12_000],
      ['flowing', 14_000],
      ['good', 14_000],
    ]);
    expect(out).toEqual(['connecting', 'good', 'lost', 'lost', 'lost', 'lost', 'good']);
    expect(h.state.mediaSilent).toBeUndefined();
  });

  test('silent media before any connection, or a new socket, leaves no mark behind', () => {
    const { out, h } = run([
      ['silent', 0],
      ['connect', 1000],
      ['good', 2000],
      ['silent', 3000],
      ['disconnect', 4000],
      ['connect', 5000],
      ['good', 6000],
    ]);
    expect(out).toEqual(['offline', 'connecting', 'good', 'lost', 'lost', 'connecting', 'good']);
    expect(h.state.mediaSilent).toBeUndefined();
  });

  test('a session that ends puts everyone offline', () => {
    let s = initialHealth();
    s = nextHealth(s, { type: 'connect', at: 0 }, cfg);
    s = nextHealth(s, { type: 'report', at: 1, grade: 'good' }, cfg);
    s = nextHealth(s, { type: 'end', at: 2 }, cfg);
    expect(s.status).toBe('offline');
    expect(s.connected).toBe(false);
  });

  test('a replay of recorded samples flips only on sustained change', () => {
    // A minute of a rural link: good, a 10-second bad patch with one good blip, good again.
    const grades: Grade[] = [
      ...Array<Grade>(10).fill('good'),
      'poor',
      'poor',
      'good',
      'poor',
      'poor',
      ...Array<Grade>(8).fill('good'),
    ];
    const h = new PointHealth(cfg);
    h.apply({ type: 'connect', at: 0 });
    const changes: string[] = [];
    grades.forEach((g, i) => {
      const r = h.apply({ type: 'report', at: (i + 1) * 2000, grade: g });
      if (r.changed) changes.push(`${i}:${r.to}`);
    });
    expect(changes).toEqual(['0:good', '11:poor', '17:good']);
  });
});

describe('media silence', () => {
  test('silent once the bytes received have not grown for the silent time; a new link starts over', () => {
    const ms = cfg.mediaSilentMs;
    let w = observeFlow(undefined, { link: 'a', bytesReceived: 100 }, 0);
    expect(isSilent(w, 0, ms)).toBe(false);
    w = observeFlow(w, { link: 'a', bytesReceived: 180 }, 2000);
    w = observeFlow(w, { link: 'a', bytesReceived: 180 }, 2000 + ms - 1);
    expect(isSilent(w, 2000 + ms - 1, ms)).toBe(false);
    w = observeFlow(w, { link: 'a', bytesReceived: 180 }, 2000 + ms);
    expect(isSilent(w, 2000 + ms, ms)).toBe(true);
    // The page rebuilt its transport: a new count, not silent yet.
    w = observeFlow(w, { link: 'b', bytesReceived: 180 }, 3000 + ms);
    expect(isSilent(w, 3000 + ms, ms)).toBe(false);
    // No transport that ever connected, or no SFU view: nothing to judge.
    expect(isSilent(observeFlow(w, null, 4000 + ms), 4000 + ms, ms)).toBeUndefined();
    expect(isSilent(observeFlow(w, { link: '', bytesReceived: 0 }, 4000 + ms), 4000 + ms, ms)).toBeUndefined();
  });
});
