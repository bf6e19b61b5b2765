// The combined run's pure parts: the host's schedule, the targets, and the monitor probe
// matching a report to the tile that shows it.
import { COMBINED_TARGETS, checkTargets, targetTable, type CombinedFigures } from '../../scripts/lib/bench-targets';
import { floorHoldSeconds, hostSchedule } from '../../scripts/loadgen/host-acts';
import { MonitorTimer } from '../../scripts/loadgen/probes';

test('the host moves the agenda every S seconds, cycling, and hands the floor over half-way and back', () => {
  const s = hostSchedule({ agendaEverySeconds: 120, floorHandover: true }, 610, 6);
  expect(s).toEqual([
    { atS: 120, act: 'agenda:go', index: 1 },
    { atS: 240, act: 'agenda:go', index: 2 },
    { atS: 305, act: 'floor:grant' },
    { atS: 360, act: 'agenda:go', index: 3 },
    { atS: 365, act: 'floor:revoke' },
    { atS: 480, act: 'agenda:go', index: 4 },
    { atS: 600, act: 'agenda:go', index: 5 },
  ]);
  // Past the last item the agenda starts again; nothing in the last 5 s.
  expect(hostSchedule({ agendaEverySeconds: 10, floorHandover: false }, 45, 3)).toEqual([
    { atS: 10, act: 'agenda:go', index: 1 },
    { atS: 20, act: 'agenda:go', index: 2 },
    { atS: 30, act: 'agenda:go', index: 0 },
    { atS: 40, act: 'agenda:go', index: 1 },
  ]);
  expect(hostSchedule({ agendaEverySeconds: 0, floorHandover: false }, 600, 6)).toEqual([]);
  expect(hostSchedule({ agendaEverySeconds: 60, floorHandover: false }, 600, 1)).toEqual([]);
});

test('the floor is held a tenth of the run, 10-60 s, and given back before the run ends', () => {
  expect([floorHoldSeconds(30), floorHoldSeconds(300), floorHoldSeconds(3600)]).toEqual([10, 30, 60]);
  const s = hostSchedule({ agendaEverySeconds: 0, floorHandover: true }, 16, 6);
  expect(s).toEqual([
    { atS: 8, act: 'floor:grant' },
    { atS: 11, act: 'floor:revoke' },
  ]);
  expect(() => hostSchedule({ agendaEverySeconds: 10, floorHandover: true }, 0, 6)).toThrow(/positive/);
  expect(() => hostSchedule({ agendaEverySeconds: 10, floorHandover: true }, 60, 0)).toThrow(/at least one/);
});

const good: CombinedFigures = {
  eventLoopP99MaxMs: 22,
  checkinAckP95Ms: 5,
  checkins: { requested: 18_000, accepted: 18_000 },
  monitorPageDeltaP95Ms: 1100,
  serverPlusWorkersPeakRssMiB: 600,
  points: { requested: 420, receivingVideo: 420, starved: 0 },
};

test('every target met, each one missed on its own, and a figure not measured is missed', () => {
  expect(checkTargets(good).every((c) => c.met)).toBe(true);
  expect(targetTable(checkTargets(good))).toMatch(/all 6 targets met$/);
  const missed = (f: Partial<CombinedFigures>) =>
    checkTargets({ ...good, ...f })
      .filter((c) => !c.met)
      .map((c) => c.what);
  expect(missed({ eventLoopP99MaxMs: COMBINED_TARGETS.eventLoopP99Ms })).toEqual([
    'server event-loop p99 (worst 5 s window)',
  ]);
  expect(missed({ checkinAckP95Ms: 250 })).toEqual(['check-in ack p95']);
  expect(missed({ checkins: { requested: 18_000, accepted: 17_999 } })).toEqual(['check-ins accepted']);
  expect(missed({ monitorPageDeltaP95Ms: 1500 })).toEqual(['monitor page delta p95 (report sent to tile painted)']);
  expect(missed({ monitorPageDeltaP95Ms: NaN })).toEqual(['monitor page delta p95 (report sent to tile painted)']);
  expect(missed({ serverPlusWorkersPeakRssMiB: 1100 })).toEqual(['RSS server + workers + Redis (peak)']);
  expect(missed({ points: { requested: 420, receivingVideo: 419, starved: 0 } })).toEqual([
    'points receiving the hall',
  ]);
  expect(missed({ points: { requested: 420, receivingVideo: 420, starved: 1 } })).toEqual([
    'points receiving the hall',
  ]);
  const table = targetTable(checkTargets({ ...good, checkinAckP95Ms: 250 }));
  expect(table).toMatch(/check-in ack p95 +250 ms +target under 200 ms: MISSED/);
  expect(table).toMatch(/1 of 6 targets MISSED$/);
});

test('the page probe times a report when its tile shows the rounded marker, once', () => {
  const page = new MonitorTimer(Math.round);
  page.onReportSent('HT-01', 17, 1000);
  page.onReportSent('HT-01', 18, 3000);
  page.seen('HT-01', 17, 1800);
  page.seen('HT-01', 17, 2500); // painted again: already timed
  page.seen('HT-02', 18, 3100); // another point's tile
  page.seen('HT-01', 18.4, 3900);
  expect(page.deltaMs.values).toEqual([800, 900]);
});
