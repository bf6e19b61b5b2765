// A virtual point's parts (scripts/loadgen/point-*.ts): the view it shows and when it
// turned, the rotating check-in QR token, and the health report built from its counters.
import { CheckinQr } from '../../scripts/loadgen/point-checkin';
import { HealthReporter, type HealthReport, type HealthSource } from '../../scripts/loadgen/point-health';
import { PointView } from '../../scripts/loadgen/point-view';
import { Reservoir } from '../../scripts/loadgen/stats';
import { newStream } from '../../scripts/loadgen/stream-stats';

describe('PointView', () => {
  test('notes when the agenda item and the floor holder change, not when they repeat', () => {
    const v = new PointView();
    const paused = { video: false, audio: false };
    v.shown({ state: 'live', paused, caption: { index: 0 }, floor: null });
    const first = v.changes.get('agenda:0');
    expect(first).toBeDefined();
    expect(v.changes.get('floor:')).toBeDefined();
    expect(v.current).toEqual({ state: 'live', paused });
    v.shown({ state: 'live', paused, caption: { index: 0 }, floor: { pointId: 'P1' } });
    expect(v.changes.get('agenda:0')).toBe(first);
    expect(v.changes.get('floor:P1')).toBeDefined();
    v.floorYou(true);
    expect(v.changes.get('you:true')).toBeDefined();
  });
});

describe('CheckinQr', () => {
  test('asks once while the token is fresh, one request for callers at once', async () => {
    let asked = 0;
    const qr = new CheckinQr(async () => ({
      token: `t${++asked}`,
      rotateAt: new Date(Date.now() + 60_000).toISOString(),
    }));
    expect(await Promise.all([qr.token(), qr.token()])).toEqual(['t1', 't1']);
    expect(await qr.token()).toBe('t1');
    expect(asked).toBe(1);
  });

  test('asks again when the token rotates within 3 s', async () => {
    let asked = 0;
    const qr = new CheckinQr(async () => ({
      token: `t${++asked}`,
      rotateAt: new Date(Date.now() + 1000).toISOString(),
    }));
    expect(await qr.token()).toBe('t1');
    expect(await qr.token()).toBe('t2');
  });
});

describe('HealthReporter', () => {
  test('reports the progress since the last report and the ack latency', async () => {
    const video = newStream('video', 1, 90000);
    const sent: HealthReport[] = [];
    const acks = new Reservoir();
    const markers: number[] = [];
    const src: HealthSource = {
      streams: () => [video],
      currentVideo: () => video,
      feedback: () => undefined,
      mediaConnected: () => true,
      consumers: () => 3,
      rebuilds: () => 1,
      send: async (r) => void sent.push(r),
    };
    const h = new HealthReporter(
      { pointId: 'P1', media: true, tcp: false, healthAcks: acks, onReportSent: (_, m) => markers.push(m) },
      src,
    );
    video.received = 100;
    video.frames = 30;
    h.report();
    await new Promise((r) => setImmediate(r));
    video.received = 150;
    video.frames = 45;
    h.report();
    await new Promise((r) => setImmediate(r));
    expect(sent).toHaveLength(2);
    expect(sent[0]).toMatchObject({ transportState: 'connected', protocol: 'udp', consumers: 3, mediaRebuilds: 1 });
    expect(sent[0]!.framesDecoded).toBe(30);
    expect(sent[1]!.framesDecoded).toBe(15);
    expect(sent[1]!.rttMs).toBe(markers[1]);
    expect(sent[1]!.signalRttMs).not.toBeNull();
    expect(h.reportsSent).toBe(2);
    expect(acks.values).toHaveLength(2);
  });

  test('a failed report is counted', async () => {
    const h = new HealthReporter(
      { pointId: 'P1', media: false, tcp: false, healthAcks: new Reservoir() },
      {
        streams: () => [],
        currentVideo: () => undefined,
        feedback: () => undefined,
        mediaConnected: () => false,
        consumers: () => 0,
        rebuilds: () => 0,
        send: () => Promise.reject(new Error('timeout')),
      },
    );
    h.report();
    await new Promise((r) => setImmediate(r));
    expect(h.reportsFailed).toBe(1);
  });
});
