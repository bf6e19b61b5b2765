// A health sample as kept in Redis: the compact form round-trips, and older keyed entries
// still read.
import type { HealthSample } from '../../server/contract/attendance';
import { decodeSample, encodeSample, SAMPLE_FIELD } from '../../server/domain/health/sample-codec';

const sample = (over: Partial<HealthSample> = {}): HealthSample => ({
  at: '2022-01-18T01:30:02.123Z',
  status: 'good',
  quality: 92,
  rttMs: 21,
  lossPct: 0.25,
  jitterMs: 3.5,
  bitrateKbps: 1210.4,
  freezeMs: 0,
  freezeCount: 0,
  framesDecoded: 50,
  width: 1280,
  height: 720,
  audioConcealedPct: 0,
  protocol: 'udp',
  sfuScore: 10,
  sfuLayer: 2,
  mediaRebuilds: 1,
  ...over,
});

const roundTrip = (s: HealthSample) => decodeSample([SAMPLE_FIELD.compact, encodeSample(s)]);

describe('health sample codec', () => {
  test('a sample comes back as it was stored', () => {
    expect(roundTrip(sample())).toEqual(sample());
  });

  test('nulls, and a sample from before mediaRebuilds, come back as null', () => {
    const s = sample({ rttMs: null, protocol: null, sfuLayer: null });
    delete s.mediaRebuilds;
    expect(roundTrip(s)).toEqual({ ...s, mediaRebuilds: null });
  });

  test('fractions are kept at two decimals, whole numbers as they are', () => {
    const back = roundTrip(sample({ lossPct: 0.123456, jitterMs: 2.005, bitrateKbps: 987654, quality: 87.3333 }));
    expect(back).toMatchObject({ lossPct: 0.12, bitrateKbps: 987654, quality: 87.33 });
    expect(back!.jitterMs).toBeCloseTo(2.01, 1);
  });

  test('the stored form is well under half the keyed JSON', () => {
    const s = sample();
    expect(encodeSample(s).length).toBeLessThan(JSON.stringify(s).length / 2);
  });

  test('an entry in the older keyed form is read as it was written', () => {
    const s = sample();
    expect(decodeSample([SAMPLE_FIELD.keyed, JSON.stringify(s)])).toEqual(s);
  });

  test('an entry in neither form, or that does not parse, is skipped', () => {
    expect(decodeSample(['x', '[]'])).toBeNull();
    expect(decodeSample([SAMPLE_FIELD.compact, '{"a":1}'])).toBeNull();
    expect(decodeSample([SAMPLE_FIELD.compact, '[1,'])).toBeNull();
    expect(decodeSample([SAMPLE_FIELD.keyed, 'null'])).toBeNull();
    expect(decodeSample([])).toBeNull();
  });

  test('a time that does not parse is kept as written', () => {
    expect(roundTrip(sample({ at: 'not a time' }))!.at).toBe('not a time');
  });
});
