// A small run of the load generator (scripts/loadgen): a spawned orchestrator, the
// virtual host publishing through `ingest:plain` with ffmpeg, 12 virtual points each
// with its own join link, Socket.IO signalling and WebRTC receive transport (ICE, DTLS,
// SRTP), health reports, a headcount, check-ins through the QR token and /api/v1/checkin,
// one point's socket cut and rejoined, one point's media stalled with its socket and ICE
// up (the watchdog drill) and rebuilt by its watchdog. It asserts the path works, not how fast.
import { existsSync } from 'node:fs';
import { runLoad } from '../../scripts/loadgen/run';
import { FFMPEG } from '../../scripts/loadgen/source';

jest.setTimeout(180_000);

const maybe = existsSync(FFMPEG) ? test : test.skip;

maybe('12 virtual points receive the hall through the real join path; attendance totals match', async () => {
  const r = await runLoad({
    points: 12,
    duration: 12,
    checkins: 60,
    checkinWindow: 6,
    workers: 2,
    cut: 1,
    stall: 1,
    floor: false,
    decryptEvery: 5,
    maxSeconds: 120,
  });
  expect(r.errors.filter((e) => !/disconnected|transport close/.test(e))).toEqual([]);
  expect(r.points.signalled).toBe(12);
  expect(r.points.receivingVideo).toBe(12);
  expect(r.points.withKeyFrame).toBe(12);
  expect(r.media.srtpProfile).toBe('AEAD_AES_128_GCM');
  expect(r.media.decrypted).toBeGreaterThan(100);
  expect(r.media.authFailures).toBe(0);
  // The cut point came back by itself and receives again.
  expect(r.media.rejoins).toBeGreaterThanOrEqual(1);
  // The stalled point was rebuilt by its watchdog (counted, with what it had seen) and
  // receives again. Another point may need one too (the rare real fault the watchdog
  // exists for, or a starved CI machine): that is reported, not judged here.
  const w = r.media.watchdog;
  expect(w.drilled).toHaveLength(1);
  const drilled = w.points.find((p) => p.pointId === w.drilled[0]);
  expect(drilled).toBeDefined();
  // The drill silences audio and video together; which one the watchdog notices first
  // depends on when its looks fall, but the rebuild answers both, so video is among them.
  expect(drilled!.rebuilds.flatMap((b) => b.stalled.map((s) => s.kind))).toContain('video');
  expect(drilled!.receivingAfter).toBe(true);
  const others = w.points.filter((p) => p !== drilled);
  if (others.length) console.warn(`watchdog rebuilt undrilled points: ${others.map((p) => p.pointId).join(', ')}`);
  expect(w.rebuilds).toBeGreaterThanOrEqual(1);
  expect(r.signalling.healthReportsSent).toBeGreaterThan(12 * 4);
  expect(r.signalling.healthAckMs.n).toBeGreaterThan(12 * 3);
  expect(r.signalling.monitorDeltaMs.n).toBeGreaterThan(0);
  expect(r.checkins).toMatchObject({ requested: 60, ok: 60, failed: 0, already: 0 });
  expect(r.attendance.serverCheckedIn).toBe(60);
  expect(r.attendance.serverDelegates).toBe(r.attendance.sentHeadcount);
  expect(r.attendance.match).toBe(true);
  // Cost figures are read (not judged here).
  expect(r.cost.cpuPct.server).toBeGreaterThan(0);
  expect(Object.keys(r.cost.cpuPct).filter((k) => /^worker\d$/.test(k))).toHaveLength(2);
});

maybe(
  'cluster mode: origin + 2 edges, every point finds its edge through the control server and receives',
  async () => {
    const r = await runLoad({
      points: 6,
      duration: 15,
      checkins: 0,
      cluster: { edges: 2, edgeWorkers: 1 },
      cut: 1,
      floor: false,
      monitor: false,
      decryptEvery: 5,
      maxSeconds: 150,
    });
    expect(r.errors.filter((e) => !/disconnected|transport close/.test(e))).toEqual([]);
    expect(r.points.receivingVideo).toBe(6);
    expect(r.points.withKeyFrame).toBe(6);
    expect(r.media.authFailures).toBe(0);
    expect(r.media.rejoins).toBeGreaterThanOrEqual(1);
    // Spread over both edges (points from different districts), none on the origin or control.
    const k = r.cluster!;
    expect(Object.keys(k.pointsPerNode).sort()).toEqual(['edge-1', 'edge-2']);
    // Each edge's media came through its pipe from the origin; every node's cost is read.
    expect(k.pipes.map((p) => p.edge).sort()).toEqual(['edge-1', 'edge-2']);
    for (const p of k.pipes) expect(p.bytesPerSecond).toBeGreaterThan(10_000);
    for (const n of ['origin-1', 'edge-1', 'edge-2', 'control-1']) expect(r.cost.rssMiB[n]).toBeGreaterThan(0);
    expect(r.cost.rssMiB['edge-1.worker0']).toBeGreaterThan(0);
    expect(r.cost.rssMiB['origin-1.worker0']).toBeGreaterThan(0);
    expect(r.attendance.match).toBe(true);
  },
);
