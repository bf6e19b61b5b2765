// The product metrics on /metrics: a live session with real point sockets (health reports,
// a problem report, a phone's check-in), scraped as Prometheus does.
import request from 'supertest';
import type { Socket as ClientSocket } from 'socket.io-client';
import type { CheckinQr } from '../../server/contract/attendance';
import {
  ask,
  goodReport,
  Phone,
  pointSocket,
  sessionWith,
  somePoints,
  useTestPointNamespace,
} from '../helpers/attendance';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(60_000);

/** The value of one series in Prometheus text, or undefined when it is absent. */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('product metrics (real Redis, socket.io, mediasoup)', () => {
  let r: TestRedis;
  let t: TestOrchestrator;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    r = await startTestRedis();
    t = await startTestOrchestrator(r.url, { NODE_ID: 'node-a' });
    useTestPointNamespace(t);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t?.stop();
    await r?.cleanup();
  });

  const scrape = async () => {
    const res = await request(t.baseUrl).get('/metrics');
    expect(res.status).toBe(200);
    return res.text;
  };

  test('points by status, connected points, open alerts by kind and check-ins, per session and node', async () => {
    const svc = t.orchestrator.attendance.service;
    const pts = await somePoints(t, 3);
    const s = await sessionWith(t, pts, 'live');
    const a = await pointSocket(t, s.id, pts[0]!);
    const b = await pointSocket(t, s.id, pts[1]!);
    sockets.push(a, b);
    await ask(a, 'health:report', goodReport());
    await ask(a, 'health:report', goodReport());
    await waitFor(async () => (await svc.health.get(s.id, pts[1]!))?.state.status === 'connecting', 'b connecting');
    const { alertId } = await ask<{ alertId: string }>(b, 'problem:report', { kind: 'no-video' });
    const qr = await ask<CheckinQr>(a, 'checkin:qr');
    expect((await new Phone(t.baseUrl).checkin(qr.token, { name: 'Nguyễn Thị Lan' })).status).toBe(200);
    await svc.flushed();

    const on = { session: s.id, node: 'node-a' };
    const text = await waitFor(async () => {
      const x = await scrape();
      return value(x, 'briefing_points', { ...on, status: 'good' }) === 1 ? x : undefined;
    }, 'the good point counted');
    expect(value(text, 'briefing_points', { ...on, status: 'connecting' })).toBe(1);
    expect(value(text, 'briefing_points', { ...on, status: 'offline' })).toBe(1);
    expect(value(text, 'briefing_points', { ...on, status: 'lost' })).toBe(0);
    expect(value(text, 'briefing_points_connected', on)).toBe(2);
    expect(value(text, 'briefing_alerts_open', { ...on, kind: 'no-video' })).toBe(1);
    expect(value(text, 'briefing_alerts_open', { ...on, kind: 'quality' })).toBe(0);
    expect(value(text, 'briefing_checkins', on)).toBe(1);
    // No room media yet on this node: the series are there, at zero.
    expect(value(text, 'briefing_consumers', on)).toBe(0);
    expect(value(text, 'briefing_bitrate_in_bits_per_second', on)).toBe(0);
    expect(value(text, 'briefing_bitrate_out_bits_per_second', on)).toBe(0);
    // Bounded labels: no point id in any product series.
    const product = text.split('\n').filter((l) => l.startsWith('briefing_'));
    for (const p of pts) expect(product.filter((l) => l.includes(p))).toEqual([]);

    // The figures follow the briefing: the alert resolved, a point gone, the session ended.
    await svc.clearAlert(s.id, alertId, 'kỹ thuật viên');
    b.close();
    await waitFor(async () => {
      const x = await scrape();
      return value(x, 'briefing_alerts_open', { ...on, kind: 'no-video' }) === 0 &&
        value(x, 'briefing_points_connected', on) === 1
        ? x
        : undefined;
    }, 'the alert resolved and b gone');
    await t.orchestrator.control.sessions.act(s.id, 'end', { username: 'h' });
    await waitFor(
      async () => value(await scrape(), 'briefing_points', { ...on, status: 'good' }) === undefined,
      'ended session dropped',
    );
  });
});
