// The /api/v1 control plane against a real Redis: a session's join links, their tokens,
// versions, revocation and validity, their exports and printable sheet.
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { JoinLink, Session } from '../../server/contract/api';
import { JoinLinks } from '../../server/domain/links/join-links';
import { SecretKeys } from '../../server/security/keys';
import { publishHallInRoom } from '../helpers/orchestrator';
import { inMin, useControlApi } from '../helpers/control-api';

const api = useControlApi();
const { as, newSession } = api;

describe('join links', () => {
  let s: Session;
  let links: JoinLink[];
  const join = (token: string) => request(api.o.baseUrl).get(`/api/v1/join/${token}`);
  const verify = (token: string) => api.o.orchestrator.control.links.verifyJoinToken(token);

  beforeAll(async () => {
    s = await newSession({ lobbyOpensAt: inMin(-5), scheduledStart: inMin(30), plannedEnd: inMin(120) });
    expect((await as('host').post(`/sessions/${s.id}/schedule`)).status).toBe(200);
    const res = await as('host').get(`/sessions/${s.id}/links?limit=100`);
    expect(res.status).toBe(200);
    links = res.body.items;
  });

  test('one per invited point, each bound to its point and session, with the page-router alphabet', async () => {
    expect(links).toHaveLength(19);
    expect(new Set(links.map((l) => l.token)).size).toBe(19);
    for (const l of links) {
      expect(l.token).toMatch(/^[A-Za-z0-9_.-]{16,512}$/);
      expect(l.url).toBe(`${api.o.baseUrl}/join/${l.token}`);
      await expect(verify(l.token)).resolves.toEqual({ sessionId: s.id, pointId: l.pointId });
    }
    const info = await join(links[1]!.token);
    expect(info.status).toBe(200);
    expect(info.body.point).toMatchObject({ id: links[1]!.pointId, level: 'commune' });
    expect(info.body.session.id).toBe(s.id);
    // Its lobby time has passed: the job opens it at once.
    expect(['scheduled', 'lobby']).toContain(info.body.session.state);
    expect(info.body.session).not.toHaveProperty('invitedPointIds');
    // The join page itself is served for such a token.
    expect((await request(api.o.baseUrl).get(`/join/${links[1]!.token}`)).status).toBe(200);
  });

  test('tampered tokens are invalid', async () => {
    const t = links[0]!.token;
    const [payload, mac] = t.split('.') as [string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    // Claims another session or point with the original signature.
    const forged = Buffer.from(
      Buffer.from(payload, 'base64url').toString().replace(links[0]!.pointId, links[1]!.pointId),
    ).toString('base64url');
    for (const bad of [
      flip(t, 3),
      `${payload}.${flip(mac, 0)}`,
      `${forged}.${mac}`,
      `${payload}.${mac}x`,
      'A'.repeat(40),
    ]) {
      const res = await join(bad);
      expect([bad, res.status, res.body.code]).toEqual([bad, 401, 'token_invalid']);
      await expect(verify(bad)).rejects.toMatchObject({ code: 'token_invalid' });
    }
  });

  test("another session's token names that session, never this one", async () => {
    const other = await newSession({ lobbyOpensAt: inMin(-5), scheduledStart: inMin(30), plannedEnd: inMin(120) });
    await as('host').post(`/sessions/${other.id}/schedule`);
    const otherLink = (await as('host').get(`/sessions/${other.id}/links/HT-VQ`)).body as JoinLink;
    const mine = links.find((l) => l.pointId === 'HT-VQ')!;
    expect(otherLink.token).not.toBe(mine.token);
    expect(await verify(otherLink.token)).toEqual({ sessionId: other.id, pointId: 'HT-VQ' });
    expect(await verify(mine.token)).toEqual({ sessionId: s.id, pointId: 'HT-VQ' });
  });

  test('revoke, then re-issue: old links are refused, the new one works', async () => {
    const target = links[2]!;
    const revoked = await as('host').post(`/sessions/${s.id}/links/${target.pointId}/revoke`);
    expect(revoked.body.revokedAt).not.toBeNull();
    const refused = await join(target.token);
    expect([refused.status, refused.body.code]).toEqual([410, 'token_revoked']);
    // Other points are untouched.
    expect((await join(links[3]!.token)).status).toBe(200);

    const reissued = (await as('host').post(`/sessions/${s.id}/links/${target.pointId}/reissue`)).body as JoinLink;
    expect(reissued.version).toBe(2);
    expect(reissued.token).not.toBe(target.token);
    expect((await join(reissued.token)).status).toBe(200);
    await expect(verify(target.token)).rejects.toMatchObject({ code: 'token_revoked' });
  });

  test('a point no longer invited is refused', async () => {
    const s2 = await newSession({ lobbyOpensAt: inMin(-5), scheduledStart: inMin(30), plannedEnd: inMin(120) });
    await as('host').post(`/sessions/${s2.id}/schedule`);
    const l = (await as('host').get(`/sessions/${s2.id}/links/HT-VQ-001`)).body as JoinLink;
    expect((await join(l.token)).status).toBe(200);
    await as('host').patch(`/sessions/${s2.id}`, { invite: { mode: 'points', pointIds: ['HT-VQ'] } });
    expect((await join(l.token)).body).toMatchObject({ code: 'token_revoked', reason: 'point_uninvited' });
    expect((await as('host').get(`/sessions/${s2.id}/links/HT-VQ-001`)).status).toBe(404);
  });

  test('before the lobby opens: not open yet; after the end and grace: expired; cancelled: revoked', async () => {
    const early = await newSession();
    await as('host').post(`/sessions/${early.id}/schedule`);
    const l = (await as('host').get(`/sessions/${early.id}/links/HT-VQ`)).body as JoinLink;
    // The page may show its session (title, time, countdown) before the lobby…
    const info = await join(l.token);
    expect([info.status, info.body.session.state]).toEqual([200, 'scheduled']);
    // …but the token does not admit the point yet.
    const c0 = api.o.orchestrator.control;
    await expect(c0.links.verifyJoinToken(l.token)).rejects.toMatchObject({
      code: 'not_open',
      details: { opensAt: early.lobbyOpensAt },
    });

    // The host may open the lobby early: the link works from then.
    await as('host').post(`/sessions/${early.id}/open-lobby`);
    await expect(c0.links.verifyJoinToken(l.token)).resolves.toMatchObject({ pointId: 'HT-VQ' });
    expect((await join(l.token)).status).toBe(200);
    await publishHallInRoom(api.o.orchestrator, early.id);
    expect((await as('host').post(`/sessions/${early.id}/start`)).status).toBe(200);
    await as('host').post(`/sessions/${early.id}/end`);
    expect((await join(l.token)).status).toBe(200); // within the grace

    const c = api.o.orchestrator.control;
    const later = new JoinLinks({
      redis: c.redis,
      key: c.keys.for('join-link'),
      sipPinKey: c.keys.for('sip-pin'),
      sessions: c.sessions,
      points: c.points,
      events: c.events,
      logger: api.o.orchestrator.logger,
      baseUrl: () => api.o.baseUrl,
      now: () => new Date(Date.now() + 31 * 60_000),
    });
    await expect(later.verifyJoinToken(l.token)).rejects.toMatchObject({ code: 'token_expired', status: 410 });

    const cancelled = await newSession({
      lobbyOpensAt: inMin(-5),
      scheduledStart: inMin(30),
      plannedEnd: inMin(120),
    });
    await as('host').post(`/sessions/${cancelled.id}/schedule`);
    const cl = (await as('host').get(`/sessions/${cancelled.id}/links/HT-VQ`)).body as JoinLink;
    await as('host').post(`/sessions/${cancelled.id}/cancel`);
    expect((await join(cl.token)).body).toMatchObject({ code: 'token_revoked', reason: 'session_cancelled' });
  });

  test('tokens signed with another secret are invalid', async () => {
    const c = api.o.orchestrator.control;
    const foreign = new JoinLinks({
      redis: c.redis,
      key: new SecretKeys(randomBytes(32).toString('hex')).for('join-link'),
      sipPinKey: c.keys.for('sip-pin'),
      sessions: c.sessions,
      points: c.points,
      events: c.events,
      logger: api.o.orchestrator.logger,
      baseUrl: () => api.o.baseUrl,
    });
    const token = foreign.sign(s.id, 'HT-VQ', 'whatever');
    expect((await join(token)).body.code).toBe('token_invalid');
  });

  test('QR code, CSV and printable sheet', async () => {
    const qr = await as('host').get(`/sessions/${s.id}/links/HT-VQ/qr.svg`);
    expect(qr.status).toBe(200);
    expect(qr.headers['content-type']).toMatch(/image\/svg\+xml/);
    expect(String(qr.body)).toMatch(/<svg/);

    const csv = await as('host').get(`/sessions/${s.id}/links.csv`);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const rows = csv.text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\n');
    expect(rows[0]).toBe('code,name,district,contact_name,contact_phone,url,version,status,valid_from,valid_until');
    expect(rows).toHaveLength(20);
    expect(csv.text).toContain('Huyện ủy Vũ Quang');

    const sheet = await as('host').get(`/sessions/${s.id}/links/print`);
    expect(sheet.headers['content-type']).toMatch(/text\/html/);
    expect(sheet.text).toContain('Hội nghị trực tuyến quán triệt Nghị quyết');
    expect(sheet.text).toContain('data:image/svg+xml;base64,');
    expect(sheet.text).not.toContain(links[2]!.token); // the revoked one is left out
  });

  test('the printable sheet escapes user text', async () => {
    const x = await newSession({ title: '<script>alert(1)</script> & "Nghị quyết"' });
    const sheet = await as('host').get(`/sessions/${x.id}/links/print`);
    expect(sheet.text).not.toContain('<script>alert(1)</script>');
    expect(sheet.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Nghị quyết&quot;');
  });
});
