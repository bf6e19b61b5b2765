// Attendance, health, alerts, the monitor and reports (check-in: checkin.test.ts), with a real Redis, real
// BullMQ workers and real socket.io clients, through a whole control server.
import request from 'supertest';
import type { Socket as ClientSocket } from 'socket.io-client';
import type {
  Alert,
  CheckinQr,
  Headcount,
  MonitorDelta,
  MonitorSnapshot,
  PointDetail,
  Report,
} from '../../server/contract/attendance';
import {
  ask,
  goodReport,
  Phone,
  loginCookie,
  monitorSocket,
  pointSocket,
  poorReport,
  sessionWith,
  somePoints,
  useTestPointNamespace,
} from '../helpers/attendance';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(60_000);

describe('attendance (real Redis, BullMQ, socket.io)', () => {
  let r: TestRedis;
  let t: TestOrchestrator;
  const sockets: ClientSocket[] = [];
  const open = async (sessionId: string, pointId: string) => {
    const s = await pointSocket(t, sessionId, pointId);
    sockets.push(s);
    return s;
  };
  const svc = () => t.orchestrator.attendance.service;

  beforeAll(async () => {
    r = await startTestRedis();
    t = await startTestOrchestrator(r.url, { ALERT_AFTER_MS: '1000' });
    useTestPointNamespace(t);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  afterAll(async () => {
    await t?.stop();
    await r?.cleanup();
  });

  test('presence counts points, not sockets: a second tab and a refresh are the same point', async () => {
    const [p] = await somePoints(t, 1);
    const s = await sessionWith(t, [p!], 'lobby');
    const tab1 = await open(s.id, p!);
    const tab2 = await open(s.id, p!);
    await svc().flushed();
    expect(await svc().ledger.presentPoints(s.id)).toEqual(new Set([p]));
    tab1.close();
    await waitFor(async () => (await svc().ledger.events(s.id, p!)).length >= 1, 'join event');
    await svc().flushed();
    await new Promise((res) => setTimeout(res, 200));
    let pr = await svc().ledger.presence(s.id, p!);
    expect(pr.disconnects).toBe(0); // the other tab is still there
    expect(pr.since).not.toBeNull();
    tab2.close();
    await waitFor(async () => (await svc().ledger.presence(s.id, p!)).since === null, 'the point left');
    pr = await svc().ledger.presence(s.id, p!);
    expect(pr.disconnects).toBe(1);
    expect(pr.connectedMs).toBeGreaterThan(0);
    const refreshed = await open(s.id, p!); // the page reloads
    await waitFor(async () => (await svc().ledger.presence(s.id, p!)).since !== null, 'the point returned');
    const events = (await svc().ledger.events(s.id, p!)).filter((e) => e.type === 'join' || e.type === 'leave');
    expect(events.map((e) => `${e.type}:${e.detail}`)).toEqual([
      'join:first',
      'leave:client namespace disconnect',
      'join:return',
    ]);
    refreshed.close();
  });

  test('headcount: reported, corrected, counted in the totals; refused outside the session', async () => {
    const pts = await somePoints(t, 3);
    const s = await sessionWith(t, pts, 'live');
    const a = await open(s.id, pts[0]!);
    const b = await open(s.id, pts[1]!);
    const first = await ask<Headcount>(a, 'headcount:report', { count: 40, by: 'Nguyễn Văn Kỹ' });
    expect(first).toMatchObject({ count: 40, by: 'Nguyễn Văn Kỹ', reports: 1 });
    const fixed = await ask<Headcount>(a, 'headcount:report', { count: 42 });
    expect(fixed).toMatchObject({ count: 42, reports: 2 });
    await ask(b, 'headcount:report', { count: 30 });
    await expect(ask(a, 'headcount:report', { count: -1 })).rejects.toMatchObject({ code: 'bad_request' });
    await expect(ask(a, 'headcount:report', { count: 1.5 })).rejects.toMatchObject({ code: 'bad_request' });
    const tiles = await svc().tiles(s.id);
    expect(tiles.province.delegates).toBe(72);
    expect(tiles.province.invited).toBe(3);
    expect(tiles.districts.reduce((n, d) => n + d.delegates, 0)).toBe(72);
    const events = await svc().ledger.events(s.id, pts[0]!);
    expect(events.filter((e) => e.type === 'headcount').map((e) => e.detail)).toEqual([
      '40 by Nguyễn Văn Kỹ',
      '42 (was 40) by kỹ thuật viên điểm cầu · point operator',
    ]);
    // As a code and its values too, which the monitor says in Vietnamese and English.
    expect(events.filter((e) => e.type === 'headcount').map((e) => [e.code, e.params])).toEqual([
      ['reported', { count: 40, by: 'Nguyễn Văn Kỹ' }],
      ['reported', { count: 42, was: 40, by: 'kỹ thuật viên điểm cầu · point operator' }],
    ]);

    // Bounded by the point's expected delegates: far above is refused, somewhat above is
    // kept; both raise a headcount alert for the desk, and the totals hold only what was kept.
    const expected = (await t.orchestrator.control.points.get(pts[1]!))!.expectedDelegates;
    await expect(ask(b, 'headcount:report', { count: 100_000 })).rejects.toMatchObject({ code: 'bad_request' });
    const alerts = async () => (await svc().alerts.list(s.id)).filter((x) => x.kind === 'headcount');
    expect(await alerts()).toEqual([
      expect.objectContaining({ pointId: pts[1], state: 'open', note: expect.stringMatching(/100000.*refused/) }),
    ]);
    expect((await svc().tiles(s.id)).province.delegates).toBe(72);
    await ask(b, 'headcount:report', { count: expected + 40 });
    expect((await svc().tiles(s.id)).province.delegates).toBe(42 + expected + 40);
    expect((await alerts())[0]).toMatchObject({ count: 2, note: expect.stringMatching(/kept/) });
    await ask(b, 'headcount:report', { count: 30 });

    await t.orchestrator.control.sessions.act(s.id, 'end', { username: 'test-host' });
    await expect(ask(a, 'headcount:report', { count: 50 })).rejects.toMatchObject({ code: 'not_open' });
  });

  test('status with hysteresis from reported statistics; an alert raised, acknowledged, assigned and cleared', async () => {
    const [p] = await somePoints(t, 1);
    const s = await sessionWith(t, [p!], 'live');
    const tech = await loginCookie(t, 'technician');
    const mon = await monitorSocket(t, tech);
    sockets.push(mon);
    const snap = await ask<MonitorSnapshot>(mon, 'monitor:watch', { sessionId: s.id });
    expect(snap.points.map((x) => x.id)).toEqual([p]);
    const deltas: MonitorDelta[] = [];
    mon.on('delta', (d: MonitorDelta) => deltas.push(d));

    const sock = await open(s.id, p!);
    await waitFor(async () => (await svc().health.get(s.id, p!))?.state.status === 'connecting', 'connecting');
    let sent = 0;
    const send = async (r: object) => {
      sent++;
      return (await ask<{ status: string }>(sock, 'health:report', r)).status;
    };
    // While waiting for a job, keep reporting (a point that stops reporting turns lost).
    const meanwhile = async <T>(r: object, wait: () => Promise<T>): Promise<T> => {
      const timer = setInterval(() => void send(r).catch(() => undefined), 1000);
      try {
        return await wait();
      } finally {
        clearInterval(timer);
      }
    };
    const statuses = [
      await send(goodReport()),
      await send(goodReport()),
      await send(poorReport()), // one bad sample: still good
      await send(goodReport()),
      await send(poorReport()),
      await send(poorReport()), // two in a row: poor
    ];
    expect(statuses).toEqual(['good', 'good', 'good', 'good', 'good', 'poor']);
    expect(await svc().health.length(s.id, p!)).toBe(6);
    // Each change is kept as data beside its words: the report counts time lost from it.
    const changes = (await svc().ledger.events(s.id, p!)).filter((e) => e.type === 'status').map((e) => e.status);
    expect(changes.slice(-2)).toEqual([
      { from: 'connecting', to: 'good' },
      { from: 'good', to: 'poor' },
    ]);

    // Poor for longer than ALERT_AFTER_MS (1 s): the job raises one alert.
    await send(poorReport());
    const alert = await meanwhile(poorReport(), () =>
      waitFor(
        async () => (await svc().alerts.list(s.id)).find((a) => a.kind === 'quality' && a.pointId === p),
        'the quality alert',
      ),
    );
    expect(alert).toMatchObject({ state: 'open', status: 'poor', count: 1 });
    expect(alert.lastSample?.rttMs).toBe(900);
    // The monitor hears of it in a delta.
    await meanwhile(poorReport(), async () => {
      await waitFor(() => deltas.some((d) => d.alerts.some((a) => a.id === alert.id)), 'alert in a delta');
      await waitFor(() => deltas.some((d) => d.points.some((x) => x.id === p && x.status === 'poor')), 'poor tile');
    });

    const acked = await ask<Alert>(mon, 'alert:ack', { sessionId: s.id, alertId: alert.id });
    expect(acked).toMatchObject({ state: 'acknowledged', acknowledgedBy: expect.stringMatching(/^technician-/) });
    const assigned = await ask<Alert>(mon, 'alert:assign', {
      sessionId: s.id,
      alertId: alert.id,
      assignee: 'Anh Tuấn',
    });
    expect(assigned.assignee).toBe('Anh Tuấn');
    await expect(ask(mon, 'alert:ack', { sessionId: s.id, alertId: 'A999' })).rejects.toMatchObject({
      code: 'not_found',
    });

    // Recovery needs three good samples; then the alert clears itself.
    expect([await send(goodReport()), await send(goodReport())]).toEqual(['poor', 'poor']);
    expect(await send(goodReport())).toBe('good');
    const cleared = await meanwhile(goodReport(), () =>
      waitFor(
        async () =>
          (await svc().alerts.get(s.id, alert.id))?.state === 'cleared' ? svc().alerts.get(s.id, alert.id) : null,
        'alert cleared',
      ),
    );
    expect(cleared!.clearedBy).toMatch(/system/);

    // The point's detail: the samples, the connection events, the alert.
    const detail = await ask<PointDetail>(mon, 'monitor:detail', { sessionId: s.id, pointId: p });
    // Every report was recorded; the status changes are exactly the hysteresis' ones.
    await new Promise((res) => setTimeout(res, 100));
    expect(detail.history.length).toBeGreaterThanOrEqual(10);
    expect(await svc().health.length(s.id, p!)).toBe(sent);
    expect(detail.events.filter((e) => e.type === 'status').map((e) => e.detail.split(' · ')[1])).toEqual([
      'offline → connecting',
      'connecting → good',
      'good → poor',
      'poor → good',
    ]);
    expect(detail.events.filter((e) => e.type === 'status').map((e) => [e.code, e.params?.from, e.params?.to])).toEqual(
      [
        ['changed', 'offline', 'connecting'],
        ['changed', 'connecting', 'good'],
        ['changed', 'good', 'poor'],
        ['changed', 'poor', 'good'],
      ],
    );
    expect(detail.alerts.map((a) => a.id)).toEqual([alert.id]);
    const samples: unknown[] = [];
    mon.on('sample', (x) => samples.push(x));
    await send(goodReport());
    await waitFor(() => samples.length === 1, 'a live sample for the open detail');

    // The socket goes: lost at once, and a new alert after ALERT_AFTER_MS.
    sock.close();
    await waitFor(async () => (await svc().health.get(s.id, p!))?.state.status === 'lost', 'lost');
    const lostAlert = await waitFor(
      async () => (await svc().alerts.list(s.id)).find((a) => a.kind === 'quality' && a.status === 'lost'),
      'the lost alert',
    );
    expect(lostAlert.id).not.toBe(alert.id);
    // Back: connecting, then good; the lost alert clears.
    const back = await open(s.id, p!);
    expect((await ask<{ status: string }>(back, 'health:report', goodReport())).status).toBe('good');
    await waitFor(async () => (await svc().alerts.get(s.id, lostAlert.id))?.state === 'cleared', 'lost alert cleared');
  });

  test('"mất hình": an alert at once with the last statistics; pressed twice, still one alert', async () => {
    const [p] = await somePoints(t, 1);
    const s = await sessionWith(t, [p!], 'live');
    const sock = await open(s.id, p!);
    await ask(sock, 'health:report', goodReport({ bitrateKbps: 777 }));
    const { alertId } = await ask<{ alertId: string }>(sock, 'problem:report', {
      kind: 'no-video',
      note: 'màn hình đen',
    });
    const again = await ask<{ alertId: string }>(sock, 'problem:report', { kind: 'no-video' });
    expect(again.alertId).toBe(alertId);
    const a = (await svc().alerts.get(s.id, alertId))!;
    expect(a).toMatchObject({ kind: 'no-video', count: 2, note: 'màn hình đen', state: 'open' });
    expect(a.lastSample?.bitrateKbps).toBe(777);
    const sound = await ask<{ alertId: string }>(sock, 'problem:report', { kind: 'no-audio' });
    expect(sound.alertId).not.toBe(alertId);
    await expect(ask(sock, 'problem:report', { kind: 'fire' })).rejects.toMatchObject({ code: 'bad_request' });
  });

  test("the page's media watchdog rebuilds: stored with the samples, one connection event per rebuild, validated", async () => {
    const [p] = await somePoints(t, 1);
    const s = await sessionWith(t, [p!], 'live');
    const sock = await open(s.id, p!);
    await ask(sock, 'health:report', goodReport()); // a page from before the field
    for (const n of [0, 0, 1, 1, 1, 2]) await ask(sock, 'health:report', goodReport({ mediaRebuilds: n }));
    const history = await svc().health.history(s.id, p!);
    expect(history.map((h) => h.mediaRebuilds)).toEqual([null, 0, 0, 1, 1, 1, 2]);
    const events = (await svc().ledger.events(s.id, p!)).filter((e) => e.type === 'media');
    expect(events.map((e) => /\(#(\d+)\)$/.exec(e.detail)?.[1])).toEqual(['1', '2']);
    expect(events.map((e) => [e.code, e.params])).toEqual([
      ['watchdog', { n: 1 }],
      ['watchdog', { n: 2 }],
    ]);
    // A reloaded page counts from 0 again: its first rebuild is an event too.
    await ask(sock, 'health:report', goodReport({ mediaRebuilds: 0 }));
    await ask(sock, 'health:report', goodReport({ mediaRebuilds: 1 }));
    expect((await svc().ledger.events(s.id, p!)).filter((e) => e.type === 'media')).toHaveLength(3);
    for (const bad of [-1, 1.5, 10_001, '3'])
      await expect(ask(sock, 'health:report', { ...goodReport(), mediaRebuilds: bad as number })).rejects.toMatchObject(
        { code: 'bad_request' },
      );
  });

  test('the monitor needs a technician, host or admin login; deltas carry only what changed', async () => {
    await expect(monitorSocket(t, undefined)).rejects.toMatchObject({ data: { code: 'unauthenticated' } });
    await expect(monitorSocket(t, 'briefing_sid=forged.value')).rejects.toMatchObject({
      data: { code: 'unauthenticated' },
    });
    const pts = await somePoints(t, 4);
    const s = await sessionWith(t, pts, 'live');
    const mon = await monitorSocket(t, await loginCookie(t, 'host'));
    sockets.push(mon);
    await expect(ask(mon, 'monitor:detail', { sessionId: s.id, pointId: pts[0] })).rejects.toMatchObject({
      code: 'bad_request',
    });
    const sessionsList = await ask<{ id: string }[]>(mon, 'monitor:sessions');
    expect(sessionsList.map((x) => x.id)).toContain(s.id);
    const snap = await ask<MonitorSnapshot>(mon, 'monitor:watch', { sessionId: s.id });
    expect(snap.points).toHaveLength(4);
    expect(snap.points.every((x) => x.status === 'offline' && !x.connected)).toBe(true);
    expect(snap.province).toMatchObject({ invited: 4, connected: 0 });
    const deltas: MonitorDelta[] = [];
    mon.on('delta', (d: MonitorDelta) => deltas.push(d));
    const sock = await open(s.id, pts[2]!);
    await ask(sock, 'health:report', goodReport());
    await ask(sock, 'headcount:report', { count: 25 });
    const d = await waitFor(
      () => deltas.find((x) => x.points.some((p) => p.id === pts[2] && p.headcount === 25)),
      'a delta',
    );
    expect(d.points.map((p) => p.id)).toEqual([pts[2]]);
    expect(d.province).toMatchObject({ invited: 4, connected: 1, delegates: 25 });
    expect(d.points[0]).toMatchObject({ status: 'good', connected: true });
  });

  test('the report at the end: totals match the recorded events; regenerated on demand', async () => {
    const pts = await somePoints(t, 3);
    const s = await sessionWith(t, pts, 'live');
    const a = await open(s.id, pts[0]!);
    const b = await open(s.id, pts[1]!);
    await ask(a, 'health:report', goodReport());
    await ask(a, 'headcount:report', { count: 31 });
    await ask(b, 'headcount:report', { count: 19 });
    const qr = await ask<CheckinQr>(b, 'checkin:qr');
    expect((await new Phone(t.baseUrl).checkin(qr.token, { name: 'Võ Văn Bình' })).status).toBe(200);
    // a's pre-flight: its tone not heard; c never ran one.
    await svc().recordPreflight(
      { sessionId: s.id, pointId: pts[0]! },
      {
        result: 'warn',
        transport: 'udp',
        rttMs: 20,
        downlinkKbps: 900,
        camera: 'ok',
        microphone: 'ok',
        speaker: 'ok',
        tone: 'not-heard',
        reasons: ['The tone was not heard'],
      },
    );
    b.close(); // one disconnect for b
    await waitFor(async () => (await svc().ledger.presence(s.id, pts[1]!)).since === null, 'b left');
    const b2 = await open(s.id, pts[1]!);
    await svc().flushed();
    await new Promise((res) => setTimeout(res, 300));
    await t.orchestrator.control.sessions.act(s.id, 'end', { username: 'h' });
    const tech = await loginCookie(t, 'technician');
    const http = request(t.baseUrl);
    await waitFor(
      async () => (await http.get(`/api/v1/reports/${s.id}`).set('Cookie', tech)).body.state === 'ready',
      'the report',
    );
    const report = JSON.parse((await svc().reports.get(s.id, 'json'))!) as Report;
    const row = (id: string) => report.rows.find((x) => x.pointId === id)!;
    expect(report.rows).toHaveLength(3);
    expect(report.province).toMatchObject({ invited: 3, connected: 2, delegates: 50, checkedIn: 1 });
    expect(row(pts[0]!)).toMatchObject({ headcount: 31, disconnects: 0, checkedIn: 0, worstStatus: 'good' });
    expect(row(pts[1]!)).toMatchObject({ headcount: 19, disconnects: 1, checkedIn: 1 });
    expect(row(pts[0]!)).toMatchObject({ preflight: 'warn', tone: 'not-heard' });
    expect(row(pts[2]!)).toMatchObject({ preflight: null, tone: null });
    expect(row(pts[2]!)).toMatchObject({
      headcount: null,
      firstJoin: null,
      connectedMinutes: 0,
      worstStatus: 'offline',
    });
    // Connected time: from the presence events, closed at the end (not counted as a disconnect).
    const ended = (await t.orchestrator.control.sessions.get(s.id))!.endedAt!;
    const joinedA = (await svc().ledger.events(s.id, pts[0]!)).find((e) => e.type === 'join')!;
    const expectedMin = (Date.parse(ended) - Date.parse(joinedA.at)) / 60_000;
    expect(Math.abs(row(pts[0]!).connectedMinutes - expectedMin)).toBeLessThanOrEqual(0.1);
    expect(row(pts[0]!).lastLeave).toBe(ended);

    const csv = await http.get(`/api/v1/reports/${s.id}/csv`).set('Cookie', tech).expect(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    expect(csv.headers['content-disposition']).toMatch(/attachment/);
    expect(csv.text).toContain('Mã điểm cầu');
    expect(csv.text).toContain('2/3 điểm cầu kết nối');
    expect(csv.text).toContain('Kiểm tra trước,Nghe thấy âm thanh thử');
    expect(csv.text).toMatch(/,Cảnh báo,Không(,|\r?\n)/);
    expect(csv.text).toMatch(/,Chưa kiểm tra,(,|\r?\n)/);
    const html = await http.get(`/api/v1/reports/${s.id}/html`).set('Cookie', tech).expect(200);
    expect(html.text).toContain('2/3 điểm cầu đã kết nối, 50/');
    expect(html.text).toContain('<th>Nghe âm thanh thử</th>');
    expect(html.text).toContain('<td>Cảnh báo</td><td>Không</td>');
    await http.get(`/api/v1/reports/${s.id}/csv`).expect(401);

    // Regenerate: a later check-in is not possible (closed), but a regenerated report is a new run.
    const before = report.generatedAt;
    await http.post(`/api/v1/reports/${s.id}`).set('Cookie', tech).expect(202);
    await waitFor(async () => (await svc().reports.generatedAt(s.id)) !== before, 'regenerated');
    b2.close();
  });

  test('a Redis restart in the middle of a session loses nothing acknowledged', async () => {
    const pts = await somePoints(t, 2);
    const s = await sessionWith(t, pts, 'live');
    const a = await open(s.id, pts[0]!);
    const b = await open(s.id, pts[1]!);
    await ask(a, 'headcount:report', { count: 44 });
    await ask(a, 'health:report', goodReport());
    await ask(a, 'health:report', goodReport());
    const qr = await ask<CheckinQr>(a, 'checkin:qr');
    expect((await new Phone(t.baseUrl).checkin(qr.token, { name: 'Đặng Thị Mai' })).status).toBe(200);
    await svc().flushed();

    await r.redis.kill();
    // While it is down: writes are refused (the page retries), not half-done or hung.
    await expect(ask(a, 'headcount:report', { count: 45 })).rejects.toMatchObject({ code: 'unavailable' });
    b.close(); // a leave while Redis is down: queued and written later
    await new Promise((res) => setTimeout(res, 300));
    await r.redis.restart();

    await waitFor(async () => {
      try {
        return (await svc().ledger.presence(s.id, pts[1]!)).since === null;
      } catch {
        return false;
      }
    }, 'the queued leave stored after the restart');
    expect(await svc().ledger.headcount(s.id, pts[0]!)).toMatchObject({ count: 44 });
    expect(await svc().ledger.checkinCount(s.id, pts[0]!)).toBe(1);
    expect(await svc().health.length(s.id, pts[0]!)).toBe(2);
    expect((await svc().ledger.presence(s.id, pts[1]!)).disconnects).toBe(1);
    // And the retry after the restart is stored.
    await waitFor(async () => {
      try {
        return (await ask<Headcount>(a, 'headcount:report', { count: 45 })).count === 45;
      } catch {
        return false;
      }
    }, 'the retried headcount');
    expect(await svc().ledger.headcount(s.id, pts[0]!)).toMatchObject({ count: 45, reports: 2 });
  });
});
