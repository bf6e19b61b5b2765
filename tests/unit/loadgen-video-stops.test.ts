// The load generator's matching of the points' video silences to the SFU's own stops
// (scripts/loadgen/video-stops.ts), its reading of the server's log (server-log.ts) and
// a receiver keeping each silence of its streams.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Receiver, readWithKeys } from '../../scripts/loadgen/receiver';
import { readSfuVideoLog } from '../../scripts/loadgen/server-log';
import { SrtpReferenceSender, rtpHeader } from '../helpers/srtp-reference';
import {
  VIDEO_AGAIN_MSG as AGAIN,
  VIDEO_STOP_MSG as STOP,
  VIDEO_STOPPED_CLOSE_MSG as CLOSED,
} from '../../sfu/video-stop-log';
import {
  coveredFraction,
  matchVideoStops,
  parseSfuLine,
  pointSilences,
  sfuStopsOf,
  type GeneratorSilence,
  type SfuStop,
  type SfuVideoEvent,
} from '../../scripts/loadgen/video-stops';

const T0 = Date.parse('2026-12-01T12:00:00.000Z');

/** A line as the server's pino writes it (sfu/room-consumers.ts). */
function line(msg: string, atMs: number, o: Record<string, unknown> = {}): string {
  return JSON.stringify({
    level: 30,
    time: new Date(T0 + atMs).toISOString(),
    pid: 4242,
    component: 'sfu',
    sessionId: 's1',
    peerId: 'P1',
    consumerId: 'c1',
    source: 'host-camera',
    availableBitrate: 96_000,
    msg,
    ...o,
  });
}

const ev = (kind: SfuVideoEvent['kind'], atMs: number, o: Partial<SfuVideoEvent> = {}): SfuVideoEvent => ({
  at: T0 + atMs,
  kind,
  pointId: 'P1',
  consumerId: 'c1',
  source: 'host-camera',
  bitrateBps: 100_000,
  ...o,
});
const stop = (pointId: string, from: number, to: number, o: Partial<SfuStop> = {}): SfuStop => ({
  pointId,
  consumerId: `c-${pointId}-${from}`,
  from: T0 + from,
  to: T0 + to,
  bitrateBps: 100_000,
  open: false,
  ...o,
});
const silence = (pointId: string, from: number, to: number): GeneratorSilence => ({
  pointId,
  from: T0 + from,
  to: T0 + to,
  ms: to - from,
  cause: 'wire',
});
const match = (g: GeneratorSilence[], s: SfuStop[], points = ['P1', 'P2', 'P3'], toleranceMs?: number) =>
  matchVideoStops(g, s, { pointIds: new Set(points), t0: T0, ...(toleranceMs === undefined ? {} : { toleranceMs }) });

describe('parseSfuLine', () => {
  test('reads a stop, a resume and a stopped consumer closed, with the point, consumer, time and estimate', () => {
    expect(parseSfuLine(line(STOP, 1500))).toEqual({
      at: T0 + 1500,
      kind: 'stop',
      pointId: 'P1',
      consumerId: 'c1',
      source: 'host-camera',
      bitrateBps: 96_000,
    });
    expect(parseSfuLine(line(AGAIN, 4000, { stoppedMs: 2500, spatialLayer: 0 }))?.kind).toBe('again');
    expect(parseSfuLine(line(CLOSED, 4000, { availableBitrate: undefined }))).toMatchObject({
      kind: 'closed',
      bitrateBps: undefined,
    });
  });

  test('other lines, torn lines and lines without a point are not events', () => {
    expect(parseSfuLine(line('consumer layers', 0))).toBeUndefined();
    expect(parseSfuLine(line(STOP, 0).slice(0, 60))).toBeUndefined();
    expect(parseSfuLine('SFU sends a point no video layer')).toBeUndefined();
    expect(parseSfuLine(line(STOP, 0, { peerId: undefined }))).toBeUndefined();
  });
});

describe('sfuStopsOf', () => {
  test('a stop lasts until its consumer sends again or is closed; one still stopped ends at the end', () => {
    const stops = sfuStopsOf(
      [
        ev('again', 5000),
        ev('stop', 1000),
        ev('stop', 1200), // said once per stop: a repeat changes nothing
        ev('stop', 2000, { pointId: 'P2', consumerId: 'c2', bitrateBps: 60_000 }),
        ev('closed', 3000, { pointId: 'P2', consumerId: 'c2' }),
        ev('stop', 7000, { bitrateBps: 40_000 }),
      ],
      T0 + 9000,
    );
    expect(stops.map((s) => [s.pointId, s.from - T0, s.to - T0, s.open, s.bitrateBps])).toEqual([
      ['P1', 1000, 5000, false, 100_000],
      ['P2', 2000, 3000, false, 60_000],
      ['P1', 7000, 9000, true, 40_000],
    ]);
  });

  test("only the hall's camera; a resume with no stop before it is not a stop", () => {
    expect(
      sfuStopsOf([ev('stop', 1000, { source: 'point-camera' }), ev('again', 2000, { consumerId: 'c9' })], T0 + 9000),
    ).toEqual([]);
  });
});

describe('pointSilences', () => {
  const cause = () => 'late' as const;

  test("a stream's own silences, and its last packet to the next transport's first one or the end", () => {
    const g = pointSilences(
      'P1',
      [
        [{ firstAt: T0, lastAt: T0 + 5000, silences: [{ endedAt: T0 + 3000, ms: 1500, seqStep: 1, rtpMs: 1500 }] }],
        [], // a transport that never got video
        [{ firstAt: T0 + 12_000, lastAt: T0 + 18_000, silences: [] }],
      ],
      T0 + 20_000,
      cause,
      500,
    );
    expect(g.map((x) => [x.from - T0, x.to - T0, x.cause])).toEqual([
      [1500, 3000, 'late'],
      [5000, 12_000, 'rejoin'],
      [18_000, 20_000, 'end'],
    ]);
  });

  test('a transport followed by none that got video is silent until the end', () => {
    const g = pointSilences('P1', [[{ firstAt: T0, lastAt: T0 + 5000, silences: [] }], []], T0 + 9000, cause, 500);
    expect(g.map((x) => [x.from - T0, x.to - T0, x.cause])).toEqual([[5000, 9000, 'end']]);
  });

  test('no trailing silence shorter than the least recorded', () => {
    expect(
      pointSilences('P1', [[{ firstAt: T0, lastAt: T0 + 19_700, silences: [] }]], T0 + 20_000, cause, 500),
    ).toEqual([]);
  });
});

describe('matchVideoStops', () => {
  test('a silence overlapping a stop of the same point is matched, whichever starts first', () => {
    const r = match(
      [silence('P1', 1000, 4000), silence('P2', 10_000, 12_000)],
      [stop('P1', 800, 3800), stop('P2', 10_500, 11_000)],
    );
    expect(r.silences).toMatchObject({ count: 2, points: 2, matched: 2, unmatched: 0, unmatchedList: [], notKept: 0 });
    // P1's stop covers 2.8 s of its 3 s silence; P2's 0.5 s of 2 s: under half.
    expect(r.silences).toMatchObject({ matchedUnderHalf: 1, coveredPct: { p10: 25, p50: 25 } });
    expect(r.sfuStops).toMatchObject({ count: 2, points: 2, overThreshold: 1, withSilence: 1, withoutSilence: 0 });
  });

  test.each([
    ['ending 400 ms before the silence starts', stop('P1', 2000, 4600)],
    ['starting 400 ms after the silence ends', stop('P1', 7400, 9000)],
  ])('the tolerance: a stop %s matches at 500 ms, not at 300 ms', (_, s) => {
    const g = [silence('P1', 5000, 7000)];
    expect(match(g, [s]).silences.matched).toBe(1);
    expect(match(g, [s]).sfuStops.withSilence).toBe(1);
    const strict = match(g, [s], undefined, 300);
    expect(strict.silences).toMatchObject({ matched: 0, unmatched: 1 });
    expect(strict.sfuStops).toMatchObject({ withSilence: 0, withoutSilence: 1 });
  });

  test("another point's stop at the same time does not match", () => {
    const r = match([silence('P1', 1000, 4000)], [stop('P2', 1000, 4000)]);
    expect(r.silences).toMatchObject({ matched: 0, unmatched: 1, unmatchedAtPointsWithoutStops: 1 });
    // Nothing matched: no share covered to give (null, not NaN).
    expect(r.silences.coveredPct).toBeNull();
    expect(r.sfuStops).toMatchObject({ withSilence: 0, withoutSilence: 1 });
    expect(r.sfuStops.withoutSilenceList).toEqual([{ pointId: 'P2', atMs: 1000, ms: 3000, open: false }]);
  });

  test('unmatched both ways are counted and listed with their point and time', () => {
    const r = match(
      [silence('P1', 1000, 3000), silence('P1', 20_000, 22_500), silence('P3', 30_000, 31_200)],
      [stop('P1', 1100, 2900), stop('P1', 40_000, 45_000, { open: true })],
    );
    expect(r.silences).toMatchObject({ count: 3, matched: 1, unmatched: 2, unmatchedAtPointsWithoutStops: 1 });
    expect(r.silences.unmatchedList).toEqual([
      { pointId: 'P1', atMs: 20_000, ms: 2500, cause: 'wire' },
      { pointId: 'P3', atMs: 30_000, ms: 1200, cause: 'wire' },
    ]);
    expect(r.sfuStops).toMatchObject({ count: 2, open: 1, overThreshold: 2, withSilence: 1, withoutSilence: 1 });
    expect(r.sfuStops.withoutSilenceList).toEqual([{ pointId: 'P1', atMs: 40_000, ms: 5000, open: true }]);
  });

  test('points that never appear: stops outside the virtual points counted apart, silences without a stop unmatched', () => {
    const r = match([silence('P9', 1000, 3000)], [stop('host:abc', 1000, 3000), stop('CHROMIUM-1', 500, 2500)], ['P9']);
    expect(r.silences).toMatchObject({ count: 1, matched: 0, unmatched: 1, unmatchedAtPointsWithoutStops: 1 });
    expect(r.sfuStops).toMatchObject({ count: 0, points: 0, otherPoints: 2, overThreshold: 0 });
    expect(r.estimateKbps.n).toBe(0);
  });

  test('silences of a second or less are not counted, yet give a long stop its silence', () => {
    const r = match([silence('P1', 1000, 1900)], [stop('P1', 900, 2100)]);
    expect(r.silences.count).toBe(0);
    expect(r.sfuStops).toMatchObject({ overThreshold: 1, withSilence: 1 });
  });

  test('how much of each matched silence the stops cover; under half counted and listed apart', () => {
    const r = match(
      [silence('P1', 1000, 5000), silence('P2', 10_000, 20_000), silence('P3', 30_000, 32_000)],
      // P1: the whole silence; P2: 2 s of 10 (a short stop inside a long silence);
      // P3: matched only through the tolerance, 300 ms after the silence ended.
      [stop('P1', 800, 5200), stop('P2', 12_000, 14_000), stop('P3', 32_300, 40_000)],
    );
    expect(r.silences).toMatchObject({ count: 3, matched: 3, matchedUnderHalf: 2, coveredPct: { p10: 0, p50: 20 } });
    expect(r.silences.matchedUnderHalfList).toEqual([
      { pointId: 'P2', atMs: 10_000, ms: 10_000, coveredPct: 20, cause: 'wire' },
      { pointId: 'P3', atMs: 30_000, ms: 2000, coveredPct: 0, cause: 'wire' },
    ]);
  });

  test('the estimates at the stops, in kbps', () => {
    const stops = [40, 60, 80, 100, 120, 140, 160, 180, 200, 220].map((k, i) =>
      stop('P1', i * 10_000, i * 10_000 + 2000, { bitrateBps: k * 1000 }),
    );
    expect(match([], [...stops, stop('P2', 0, 10, { bitrateBps: undefined })]).estimateKbps).toEqual({
      p10: 40,
      p50: 120,
      n: 10,
    });
  });
});

describe('coveredFraction', () => {
  const iv = (from: number, to: number) => ({ pointId: 'P1', from, to });

  test('the union of the stops clipped to the silence, over its length', () => {
    expect(coveredFraction(iv(0, 1000), [iv(-500, 1500)])).toBe(1);
    expect(coveredFraction(iv(0, 1000), [iv(250, 500)])).toBe(0.25);
    // Overlapping stops (two consumers) count once.
    expect(coveredFraction(iv(0, 1000), [iv(0, 600), iv(400, 800), iv(900, 2000)])).toBe(0.9);
    expect(coveredFraction(iv(0, 1000), [iv(1000, 2000)])).toBe(0);
    expect(coveredFraction(iv(0, 1000), [])).toBe(0);
  });
});

describe('readSfuVideoLog', () => {
  test('reads the events of the lines written since the server started', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'video-stops-'));
    try {
      const file = path.join(dir, 'server.log');
      const before = `${line(STOP, -60_000, { consumerId: 'old' })}\n`;
      writeFileSync(file, `${before}${line('listening', 0)}\nnot json\n${line(STOP, 1000)}\n${line(AGAIN, 3000)}\n`);
      const srv = { baseUrl: 'http://127.0.0.1:1', pid: 1, stop: async () => undefined };
      const r = await readSfuVideoLog([{ ...srv, log: { file, from: Buffer.byteLength(before), level: 'info' } }]);
      expect('events' in r && r.events.map((e) => [e.kind, e.consumerId, e.at - T0])).toEqual([
        ['stop', 'c1', 1000],
        ['again', 'c1', 3000],
      ]);
      expect(await readSfuVideoLog([{ ...srv, log: { file, from: 0, level: 'warn' } }])).toEqual({
        reason: expect.stringContaining('logged at warn') as string,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a server this run did not start: not available, not zero', async () => {
    const r = await readSfuVideoLog([{ baseUrl: 'http://127.0.0.1:1', pid: undefined, stop: async () => undefined }]);
    expect(r).toEqual({ reason: expect.stringContaining('not started by this run') as string });
  });
});

describe('a receiver keeps every silence of half a second or more', () => {
  const SSRC = 0x0a0b0c0d;
  /** A hall-camera stream read from packets 1, 2, … arriving at `arrivals` (performance ms). */
  function streamRead(arrivals: readonly number[]) {
    const sender = new SrtpReferenceSender();
    const r = new Receiver();
    const read = readWithKeys(r, sender.receiverSession());
    r.expect(SSRC, 'video', 90000, 'host-camera');
    let now = 0;
    const clock = jest.spyOn(performance, 'now').mockImplementation(() => now);
    try {
      arrivals.forEach((at, i) => {
        now = at;
        read(sender.protect(rtpHeader(SSRC, i + 1, (i + 1) * 3000), Buffer.from([0, 1, 2, 3]), 0));
      });
    } finally {
      clock.mockRestore();
    }
    return r.streams.get(SSRC)!;
  }

  test('each one with when it ended and its steps; shorter ones not; the stream knows its source', () => {
    // gaps of 100, 400, 1600, 100, 700 ms
    const s = streamRead([10_000, 10_100, 10_500, 12_100, 12_200, 12_900]);
    expect(s.source).toBe('host-camera');
    expect(s.silences.map((g) => [g.ms, g.seqStep, g.rtpMs])).toEqual(
      [
        [1600, 1, 33.3333333333333],
        [700, 1, 33.3333333333333],
      ].map(([ms, step, rtp]) => [ms, step, expect.closeTo(rtp!, 3)]),
    );
    expect(s.maxGapMs).toBe(1600);
    expect(s.silencesDropped).toBe(0);
  });

  test('past 200 silences in a stream, the rest are counted, not kept', () => {
    // 204 packets 600 ms apart: 203 silences
    const s = streamRead(Array.from({ length: 204 }, (_, i) => 10_000 + i * 600));
    expect(s.silences).toHaveLength(200);
    expect(s.silencesDropped).toBe(3);
  });
});
