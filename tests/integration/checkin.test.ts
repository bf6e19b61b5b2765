// Delegates' check-in through a whole control server (real Redis, socket.io, HTTP): the
// rotating QR code, the phone's device cookie and the ticket bound to it, one delegate per
// phone, the point's cap with the desk's alert, the desk's voids, and what the phone's GET
// hands out. Each of the abuse cases here is one a leaked QR code or join link made work.
import request from 'supertest';
import type { Socket as ClientSocket } from 'socket.io-client';
import type {
  Alert,
  CheckinEntry,
  CheckinInfo,
  CheckinQr,
  PointDetail,
  MonitorSnapshot,
} from '../../server/contract/attendance';
import { CheckinTokens } from '../../server/domain/attendance/checkin-token';
import {
  ask,
  loginCookie,
  monitorSocket,
  Phone,
  pointSocket,
  sessionWith,
  somePoints,
  useTestPointNamespace,
} from '../helpers/attendance';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(60_000);

describe('delegate check-in (real Redis, socket.io, HTTP)', () => {
  let r: TestRedis;
  let t: TestOrchestrator;
  const sockets: ClientSocket[] = [];
  const checkinKey = () => t.orchestrator.control.keys.for('checkin');
  const svc = () => t.orchestrator.attendance.service;
  const open = async (sessionId: string, pointId: string) => {
    const s = await pointSocket(t, sessionId, pointId);
    sockets.push(s);
    return s;
  };
  const phone = () => new Phone(t.baseUrl);
  /** A lobby session of one point, with `expected` delegates, and its current QR code. */
  const pointWithQr = async (expected?: number) => {
    const pts = await somePoints(t, 3);
    const p = pts[2]!;
    if (expected !== undefined) await t.orchestrator.control.points.update(p, { expectedDelegates: expected });
    const s = await sessionWith(t, [p], 'lobby');
    const sock = await open(s.id, p);
    const qr = await ask<CheckinQr>(sock, 'checkin:qr');
    return { p, s, sock, qr };
  };

  beforeAll(async () => {
    r = await startTestRedis();
    t = await startTestOrchestrator(r.url);
    useTestPointNamespace(t);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  afterAll(async () => {
    await t?.stop();
    await r?.cleanup();
  });

  test('rotating signed code, a device cookie, once per delegate, closed outside the session', async () => {
    const pts = await somePoints(t, 2);
    const p = pts[1]!;
    const scheduled = await sessionWith(t, [p], 'scheduled');
    const early = await open(scheduled.id, p);
    await expect(ask(early, 'checkin:qr')).rejects.toMatchObject({ code: 'not_open' });

    const s = await sessionWith(t, [p], 'lobby');
    const sock = await open(s.id, p);
    const qr = await ask<CheckinQr>(sock, 'checkin:qr');
    expect(qr.url).toBe(`${t.baseUrl}/checkin/${qr.token}`);
    expect(Date.parse(qr.rotateAt) - Date.now()).toBeLessThanOrEqual(30_000);
    await request(t.baseUrl).get(`/checkin/${qr.token}`).expect(200);

    // The form sets the phone's device cookie: HttpOnly, SameSite=Strict, the check-in API only.
    const hoa = phone();
    const opened = await hoa.open(qr.token);
    const set = ([] as string[]).concat(opened.headers['set-cookie'] ?? []).join('\n');
    expect(set).toMatch(/^briefing_device=d1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+;/);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).toMatch(/Path=\/api\/v1\/checkin/);
    const info = opened.body as CheckinInfo;
    expect(info).toMatchObject({ point: { id: p }, rosterSize: 0, mine: null });
    const one = await hoa.send({ ticket: info.ticket, name: 'Trần Thị Hoa', position: 'Bí thư chi bộ' }).expect(200);
    expect(one.body).toMatchObject({ name: 'Trần Thị Hoa', already: false });
    // The same phone again: answered with its check-in; opening the code shows it too.
    expect((await hoa.send({ ticket: info.ticket, name: 'trần thị hoa' }).expect(200)).body.already).toBe(true);
    expect((await hoa.open(qr.token)).body.mine).toMatchObject({ name: 'Trần Thị Hoa', voided: null });
    expect((await hoa.open(qr.token)).headers['set-cookie']).toBeUndefined();
    // The same person on another phone, typed without accents: counted once.
    expect((await phone().checkin(qr.token, { name: '  tran thi HOA ' })).body.already).toBe(true);
    expect((await phone().checkin(qr.token, { name: 'Lê Văn Nam', position: 'Đảng viên' })).status).toBe(200);
    expect(await svc().ledger.checkinCount(s.id, p)).toBe(2);

    // Bad and old codes.
    const tampered = qr.token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const bad = await phone().open(tampered, 401);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.body.code).toBe('token_invalid');
    const old = new CheckinTokens(checkinKey(), 30, 10, () => Date.now() - 75_000).issue({
      sessionId: s.id,
      pointId: p,
    });
    expect((await phone().open(old.token, 410)).body.code).toBe('token_expired');
    const otherSession = new CheckinTokens(checkinKey(), 30, 10).issue({ sessionId: scheduled.id, pointId: p });
    expect((await phone().open(otherSession.token, 409)).body.code).toBe('not_open');
    await hoa.send({ ticket: 'x'.repeat(20), name: 'A' }).expect(401);
    await hoa.send({ ticket: info.ticket }).expect(400);

    // After the end the same codes are refused.
    await t.orchestrator.control.sessions.act(s.id, 'start', { username: 'h' });
    await t.orchestrator.control.sessions.act(s.id, 'end', { username: 'h' });
    expect((await phone().open(qr.token, 409)).body.code).toBe('not_open');
    const late = phone();
    late.cookie = hoa.cookie;
    await late.send({ ticket: info.ticket, name: 'Muộn' }).expect(409);
    expect(await svc().ledger.checkinCount(s.id, p)).toBe(2);
  });

  test('one QR code, 40 names and 40 made-up device ids do not inflate the point', async () => {
    const { p, s, qr } = await pointWithQr(60);
    const attacker = phone();
    const { ticket } = (await attacker.open(qr.token)).body as CheckinInfo;
    const codes: string[] = [];
    for (let i = 0; i < 40; i++) {
      const name = `Đại biểu giả ${i}`;
      const deviceId = `made-up-device-${i}`;
      // With the cookie the code gave, without any, and with a made-up one.
      const asIs = await attacker.send({ ticket, name, deviceId });
      const none = await request(t.baseUrl).post('/api/v1/checkin').send({ ticket, name, deviceId });
      const forged = await request(t.baseUrl)
        .post('/api/v1/checkin')
        .set('Cookie', `briefing_device=d1.${'A'.repeat(20)}${String(i).padStart(2, '0')}.forged`)
        .send({ ticket, name, deviceId });
      codes.push(
        `${asIs.status}:${asIs.body.code ?? 'ok'}`,
        `${none.status}:${none.body.code}`,
        `${forged.status}:${forged.body.code}`,
      );
    }
    expect(codes.slice(0, 3)).toEqual(['200:ok', '401:device_unknown', '401:device_unknown']);
    expect(new Set(codes.slice(3))).toEqual(new Set(['409:device_used', '401:device_unknown']));
    // Another real phone cannot use that ticket either: it is bound to the first phone.
    const other = phone();
    await other.open(qr.token);
    expect((await other.send({ ticket, name: 'Đại biểu khác' }).expect(401)).body.code).toBe('device_unknown');
    expect(await svc().ledger.checkinCount(s.id, p)).toBe(1);
    expect((await svc().tiles(s.id)).tiles[0]!.checkedIn).toBe(1);
  });

  test('tickets last minutes; a point may ask for only a few fresh codes a minute', async () => {
    // The codes are counted per clock minute: start this well inside one.
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 10_000) await new Promise((res) => setTimeout(res, left + 100));
    const { p, s, sock, qr } = await pointWithQr();
    const ph = phone();
    await ph.open(qr.token);
    const device = svc().tokens.deviceOf(decodeURIComponent(ph.cookie!.split('=')[1]!))!;
    expect(device).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const tokens = (ago: number) => new CheckinTokens(checkinKey(), 30, 10, () => Date.now() - ago, 300);
    const stale = tokens(301_000).ticket({ sessionId: s.id, pointId: p, device });
    expect((await ph.send({ ticket: stale, name: 'Trễ' }).expect(410)).body.code).toBe('token_expired');
    const fresh = tokens(290_000).ticket({ sessionId: s.id, pointId: p, device });
    await ph.send({ ticket: fresh, name: 'Kịp' }).expect(200);

    // The page asks once per rotation; a second socket of the same point shares the budget.
    const sock2 = await open(s.id, p);
    const answers: string[] = [];
    for (let i = 0; i < 12; i++) {
      answers.push(
        await ask(i % 2 ? sock : sock2, 'checkin:qr').then(
          () => 'ok',
          (e: { code: string }) => e.code,
        ),
      );
    }
    // Ten a minute at the default rotation (one was asked for above); the rest are refused.
    expect(answers.filter((a) => a === 'ok')).toHaveLength(9);
    expect(answers.slice(9)).toEqual(['rate_limited', 'rate_limited', 'rate_limited']);
  });

  test('the phone gets no roster names: a typed name is matched; the desk reads the roster', async () => {
    const { p, qr } = await pointWithQr();
    const host = await loginCookie(t, 'host');
    const http = request(t.baseUrl);
    await http
      .put(`/api/v1/rosters/${p}`)
      .set('Cookie', host)
      .set('Content-Type', 'text/csv')
      .send('họ tên,chức vụ\nPhạm Minh Đức,Chủ tịch UBND xã\n"Hoàng, Thị Lan",Phó Bí thư\n')
      .expect(200);
    const ph = phone();
    const opened = await ph.open(qr.token);
    expect(opened.body).toMatchObject({ rosterSize: 2, mine: null });
    expect(JSON.stringify(opened.body)).not.toMatch(/Phạm Minh Đức|Hoàng|Phó Bí thư/);
    const picked = await ph
      .send({ ticket: opened.body.ticket, name: 'hoang, thi lan', position: 'gõ khác' })
      .expect(200);
    expect(picked.body).toMatchObject({ name: 'Hoàng, Thị Lan', position: 'Phó Bí thư', already: false });
    // Only the desk's roles read the roster.
    await http.get(`/api/v1/rosters/${p}`).expect(401);
    const tech = await loginCookie(t, 'technician');
    const roster = (await http.get(`/api/v1/rosters/${p}`).set('Cookie', tech).expect(200)).body as { name: string }[];
    expect(roster.map((e) => e.name)).toEqual(['Phạm Minh Đức', 'Hoàng, Thị Lan']);
  });

  test("a point's check-ins stop at its cap; the desk is alerted above the expected number", async () => {
    const { p, s, qr } = await pointWithQr(3); // cap: 3 + 2
    const results: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await phone().checkin(qr.token, { name: `Người thứ ${i + 1}` });
      results.push(res.status === 200 ? 'ok' : res.body.code);
    }
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'checkin_full', 'checkin_full']);
    expect(await svc().ledger.checkinCount(s.id, p)).toBe(5);
    const alerts = (await svc().alerts.list(s.id)).filter((a) => a.kind === 'checkin');
    expect(alerts).toEqual([expect.objectContaining({ pointId: p, state: 'open', count: 4 })]);
    expect(alerts[0]!.note).toMatch(/at the cap of 5 check-ins \(3 expected\): refused/);
    // A delegate already in is still answered at the cap.
    expect((await phone().checkin(qr.token, { name: 'người thứ 1' })).body.already).toBe(true);
  });

  test('the desk voids a check-in: kept and marked, not counted nor reported, shown in the detail', async () => {
    const { p, s, qr } = await pointWithQr(50);
    const fake = phone();
    expect((await fake.checkin(qr.token, { name: 'Tên bịa' })).status).toBe(200);
    expect((await phone().checkin(qr.token, { name: 'Nguyễn Thật' })).status).toBe(200);
    expect(await svc().ledger.checkinCount(s.id, p)).toBe(2);
    const http = request(t.baseUrl);
    const tech = await loginCookie(t, 'technician');
    await http.get(`/api/v1/checkins/${s.id}`).expect(401);
    const list = (await http.get(`/api/v1/checkins/${s.id}?pointId=${p}`).set('Cookie', tech).expect(200))
      .body as CheckinEntry[];
    expect(list.map((c) => c.name).sort()).toEqual(['Nguyễn Thật', 'Tên bịa']);
    const victim = list.find((c) => c.name === 'Tên bịa')!;

    // Through the API: kept with who, when and why; out of the counts.
    await http.post(`/api/v1/checkins/${s.id}/${p}/${victim.id}/void`).send({ reason: 'x' }).expect(401);
    await http.post(`/api/v1/checkins/${s.id}/${p}/${victim.id}/void`).set('Cookie', tech).send({}).expect(400);
    const voided = (
      await http
        .post(`/api/v1/checkins/${s.id}/${p}/${victim.id}/void`)
        .set('Cookie', tech)
        .send({ reason: 'không có trong phòng' })
        .expect(200)
    ).body as CheckinEntry;
    expect(voided).toMatchObject({ id: victim.id, name: 'Tên bịa', voided: { reason: 'không có trong phòng' } });
    expect(voided.voided!.by).toMatch(/^technician-/);
    expect(await svc().ledger.checkinCount(s.id, p)).toBe(1);
    await http.post(`/api/v1/checkins/${s.id}/${p}/nope/void`).set('Cookie', tech).send({ reason: 'x' }).expect(404);
    // The phone that made it sees it voided, and cannot check someone else in instead.
    expect((await fake.open(qr.token)).body.mine).toMatchObject({ name: 'Tên bịa', voided: { by: voided.voided!.by } });
    expect((await fake.checkin(qr.token, { name: 'Tên khác' })).body.code).toBe('device_used');
    // The real delegate of that name, on their own phone, can still check in.
    expect((await phone().checkin(qr.token, { name: 'Tên bịa' })).body.already).toBe(false);
    expect(await svc().ledger.checkinCount(s.id, p)).toBe(2);

    // Through the monitor's point detail.
    const mon = await monitorSocket(t, tech);
    sockets.push(mon);
    await ask<MonitorSnapshot>(mon, 'monitor:watch', { sessionId: s.id });
    let detail = await ask<PointDetail>(mon, 'monitor:detail', { sessionId: s.id, pointId: p });
    expect(detail.checkins).toHaveLength(3);
    const real = detail.checkins.find((c) => c.name === 'Nguyễn Thật')!;
    const entry = await ask<CheckinEntry>(mon, 'checkin:void', {
      sessionId: s.id,
      pointId: p,
      checkinId: real.id,
      reason: 'trùng',
    });
    expect(entry.voided).toMatchObject({ reason: 'trùng' });
    detail = await ask<PointDetail>(mon, 'monitor:detail', { sessionId: s.id, pointId: p });
    expect(detail.tile.checkedIn).toBe(1);
    expect(
      detail.checkins
        .filter((c) => c.voided)
        .map((c) => c.voided!.reason)
        .sort(),
    ).toEqual(['không có trong phòng', 'trùng']);
    expect(detail.events.filter((e) => e.type === 'checkin' && /voided/.test(e.detail))).toHaveLength(2);

    // The report counts what is left.
    const report = await svc().generateReport(s.id);
    expect(report.rows.find((x) => x.pointId === p)!.checkedIn).toBe(1);
    expect((await svc().alerts.list(s.id)).filter((a: Alert) => a.kind === 'checkin')).toEqual([]);
  });
});
