// The /api/v1 control plane against a real Redis: roles on every route class, every
// class of bad input, the registry import, sessions and their join links.
// Longer than most files (about 590 lines) on purpose: the whole REST surface shares one
// Redis, one server and its logged-in accounts, started once for the file.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { JoinLink, Session } from '../../server/contract/api';
import { JoinLinks } from '../../server/domain/links/join-links';
import { SecretKeys } from '../../server/security/keys';
import { publishHallInRoom, startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

const SHIPPED = path.join(__dirname, '..', '..', 'server', 'data', 'hatinh-points.csv');
const PASSWORD = 'correct horse battery';
type Who = 'anonymous' | 'technician' | 'host' | 'admin';

describe('control plane API', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  const cookies: Record<Who, string> = { anonymous: '', technician: '', host: '', admin: '' };

  const as = (who: Who) => {
    const c = cookies[who];
    const withCookie = (t: request.Test) => (c ? t.set('Cookie', c) : t);
    return {
      get: (p: string) => withCookie(request(o.baseUrl).get(p.startsWith('/api') ? p : `/api/v1${p}`)),
      post: (p: string, body?: string | object) => withCookie(request(o.baseUrl).post(`/api/v1${p}`)).send(body),
      patch: (p: string, body: object) => withCookie(request(o.baseUrl).patch(`/api/v1${p}`)).send(body),
      delete: (p: string) => withCookie(request(o.baseUrl).delete(`/api/v1${p}`)),
    };
  };
  const login = async (username: string, password = PASSWORD) =>
    request(o.baseUrl).post('/api/v1/auth/login').send({ username, password });
  const cookieOf = (res: request.Response) => String(res.headers['set-cookie']).split(';')[0]!;
  const inMin = (m: number) => new Date(Date.now() + m * 60_000).toISOString();

  const newSession = async (over: object = {}) => {
    const res = await as('host').post('/sessions', {
      title: 'Hội nghị trực tuyến quán triệt Nghị quyết',
      scheduledStart: inMin(120),
      plannedEnd: inMin(300),
      agenda: [
        {
          title: 'Quán triệt Nghị quyết 05-NQ/TU',
          speaker: 'Nguyễn Văn A',
          role: 'Phó Bí thư Tỉnh ủy',
          plannedMinutes: 45,
          documents: [{ title: 'Nghị quyết 05-NQ/TU', url: 'https://example.org/nq05.pdf' }],
        },
      ],
      invite: { mode: 'districts', districts: ['HT-VQ'] },
      ...over,
    });
    expect(res.status).toBe(201);
    return res.body as Session;
  };

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, { ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: PASSWORD });
    cookies.admin = cookieOf(await login('admin'));
    for (const role of ['host', 'technician'] as const) {
      const created = await as('admin').post('/accounts', { username: role, role, password: PASSWORD });
      expect(created.status).toBe(201);
      cookies[role] = cookieOf(await login(role));
    }
  }, 60_000);
  afterAll(async () => {
    await o?.stop();
    await r?.cleanup();
  });

  describe('the shipped registry', () => {
    test('is loaded on first start: 420 points, 18,240 delegates', async () => {
      const res = await as('technician').get('/points/summary');
      expect(res.status).toBe(200);
      expect(res.body.points).toBe(420);
      expect(res.body.expectedDelegates).toBe(18_240);
      expect(res.body.districts).toHaveLength(13);
    });

    test('imports through the API (dry run, then for real) with the same totals', async () => {
      const csv = fs.readFileSync(SHIPPED);
      const dry = await as('admin')
        .post('/points/import?format=csv&dryRun=true')
        .set('Content-Type', 'text/csv')
        .send(csv);
      expect(dry.status).toBe(200);
      expect(dry.body).toMatchObject({
        dryRun: true,
        imported: false,
        rows: 420,
        expectedDelegates: 18_240,
        issues: [],
      });
      const real = await as('admin').post('/points/import?format=csv').set('Content-Type', 'text/csv').send(csv);
      expect(real.body).toMatchObject({ imported: true, rows: 420, created: 0, updated: 420, removed: 0 });
      expect((await as('host').get('/points/summary')).body.expectedDelegates).toBe(18_240);
    });

    test('search ignores accents; filters by district and level; paginates with a total', async () => {
      const res = await as('host').get('/points?q=duc tho&level=district');
      expect(res.body.items.map((p: { code: string }) => p.code)).toEqual(['HT-DT']);
      const page = await as('host').get('/points?district=HT-CX&level=commune&limit=10&offset=10');
      expect(page.body).toMatchObject({ total: 40, limit: 10, offset: 10 });
      expect(page.body.items).toHaveLength(10);
      expect(page.body.items[0].code).toBe('HT-CX-011');
    });

    test('exports as CSV that imports back unchanged', async () => {
      const res = await as('host').get('/points/export.csv');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/text\/csv/);
      expect(res.text.replace(/^\uFEFF/, '')).toBe(fs.readFileSync(SHIPPED, 'utf8'));
    });
  });

  describe('every role boundary', () => {
    let draftForLinks: Session;
    beforeAll(async () => {
      draftForLinks = await newSession();
    });
    const matrix: [string, (who: Who) => request.Test | Promise<request.Response>, Record<Who, number>][] = [
      ['read the registry', (w) => as(w).get('/points'), { anonymous: 401, technician: 200, host: 200, admin: 200 }],
      [
        'edit the registry',
        (w) => as(w).patch('/points/HT-VQ', { contactName: `Người ${w}` }),
        { anonymous: 401, technician: 403, host: 403, admin: 200 },
      ],
      [
        'import the registry',
        (w) => as(w).post('/points/import?dryRun=true&format=json', { points: [] }),
        { anonymous: 401, technician: 403, host: 403, admin: 422 },
      ],
      [
        'export the registry',
        (w) => as(w).get('/points/export.csv'),
        { anonymous: 401, technician: 403, host: 200, admin: 200 },
      ],
      ['manage accounts', (w) => as(w).get('/accounts'), { anonymous: 401, technician: 403, host: 403, admin: 200 }],
      ['read sessions', (w) => as(w).get('/sessions'), { anonymous: 401, technician: 200, host: 200, admin: 200 }],
      [
        'create sessions',
        (w) => as(w).post('/sessions', { title: 'T', scheduledStart: inMin(60), plannedEnd: inMin(90) }),
        { anonymous: 401, technician: 403, host: 201, admin: 201 },
      ],
      [
        'run sessions',
        async (w) => {
          const s = await newSession();
          return as(w).post(`/sessions/${s.id}/cancel`);
        },
        { anonymous: 401, technician: 403, host: 200, admin: 200 },
      ],
      [
        'see join links',
        (w) => as(w).get(`/sessions/${draftForLinks.id}/links?limit=2`),
        { anonymous: 401, technician: 403, host: 200, admin: 200 },
      ],
      [
        'revoke join links',
        (w) => as(w).post(`/sessions/${draftForLinks.id}/links/HT-VQ-001/revoke`),
        { anonymous: 401, technician: 403, host: 200, admin: 200 },
      ],
      ['who am I', (w) => as(w).get('/auth/me'), { anonymous: 200, technician: 200, host: 200, admin: 200 }],
      [
        'OpenAPI document',
        (w) => as(w).get('/api/openapi.json'),
        { anonymous: 200, technician: 200, host: 200, admin: 200 },
      ],
    ];
    test.each(matrix)('%s', async (_name, call, expected) => {
      const got: Record<string, number> = {};
      for (const who of Object.keys(expected) as Who[]) got[who] = (await call(who)).status;
      expect(got).toEqual(expected);
    });

    test('a refusal is problem+json with a stable code', async () => {
      const anon = await as('anonymous').get('/points');
      expect(anon.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(anon.body.code).toBe('unauthenticated');
      expect((await as('technician').post('/points', {})).body.code).toBe('forbidden');
    });

    test('a forged or altered cookie is anonymous', async () => {
      const [name, value] = cookies.host.split('=') as [string, string];
      const altered = `${name}=${value.slice(0, 5)}${value[5] === 'a' ? 'b' : 'a'}${value.slice(6)}`;
      expect((await request(o.baseUrl).get('/api/v1/points').set('Cookie', altered)).status).toBe(401);
      expect((await request(o.baseUrl).get('/api/v1/points').set('Cookie', `${name}=nonsense`)).status).toBe(401);
    });

    test('cross-site writes are refused even with a cookie', async () => {
      const res = await as('host')
        .post('/sessions', { title: 'x', scheduledStart: inMin(60), plannedEnd: inMin(90) })
        .set('Origin', 'https://evil.example');
      expect(res.status).toBe(403);
    });
  });

  describe('every class of bad input', () => {
    const importCsv = (csv: string, q = '') =>
      as('admin').post(`/points/import?format=csv${q}`).set('Content-Type', 'text/csv').send(Buffer.from(csv));
    const header = 'code,name,level,parent,district,expected_delegates,contact_name,contact_phone';

    test('malformed CSV: 422 with the line, nothing imported', async () => {
      const res = await importCsv(`${header}\nHT-NEW,"unclosed,district,HT,HT-NEW,5,,\n`, '&mode=merge');
      expect(res.status).toBe(422);
      expect(res.body.imported).toBe(false);
      expect(res.body.issues[0].reason).toMatch(/malformed CSV/);
      expect(res.body.issues[0].issue).toBe('malformed_csv');
      expect((await as('admin').get('/points/HT-NEW')).status).toBe(404);
    });

    test('duplicate codes and unknown parents: every bad row reported, the good rows not imported either', async () => {
      const res = await importCsv(
        [
          header,
          'HT-NEW1,Xã Mới Một,commune,HT-VQ,HT-VQ,30,,',
          'HT-NEW1,Xã Mới Hai,commune,HT-VQ,HT-VQ,30,,',
          'HT-NEW3,Xã Mới Ba,commune,HT-NOPE,HT-VQ,30,,',
          'HT-NEW4,Xã Mới Bốn,commune,HT-VQ,HT-VQ,ba mươi,,',
        ].join('\n'),
        '&mode=merge',
      );
      expect(res.status).toBe(422);
      expect(res.body.issues.map((i: { line: number; column: string }) => `${i.line}:${i.column}`)).toEqual([
        '3:code',
        '4:parent',
        '5:expected_delegates',
      ]);
      // Each reason as a code and its values, which the pages render in Vietnamese and English.
      expect(res.body.issues.map((i: { issue: string; params?: unknown }) => [i.issue, i.params])).toEqual([
        ['duplicate_code', { code: 'HT-NEW1', row: 1 }],
        ['unknown_parent', { code: 'HT-NOPE' }],
        ['invalid_type', { expected: 'number' }],
      ]);
      expect((await as('admin').get('/points/HT-NEW1')).status).toBe(404);
      expect((await as('admin').get('/points/summary')).body.points).toBe(420);
    });

    test('a replace with one bad row leaves the whole registry as it was', async () => {
      const lines = fs.readFileSync(SHIPPED, 'utf8').trimEnd().split('\n');
      lines[200] = lines[200]!.replace(/,\d+,/, ',-1,');
      const res = await importCsv(lines.slice(0, 300).join('\n'));
      expect(res.status).toBe(422);
      expect(res.body.issues).toEqual([expect.objectContaining({ row: 200, line: 201, column: 'expected_delegates' })]);
      expect((await as('admin').get('/points/summary')).body).toMatchObject({ points: 420, expectedDelegates: 18_240 });
    });

    test('JSON import: wrong types reported with the field, merge imports when all rows are good', async () => {
      const bad = await as('admin').post('/points/import?format=json&mode=merge', {
        points: [
          {
            code: 'HT-VQ-100',
            name: 'Xã Thử',
            level: 'commune',
            parent: 'HT-VQ',
            district: 'HT-VQ',
            expectedDelegates: '12x',
          },
          { code: 'HT-VQ-101', name: 42, level: 'commune', parent: 'HT-VQ', district: 'HT-VQ', expectedDelegates: 1 },
          'not an object',
        ],
      });
      expect(bad.status).toBe(422);
      expect(bad.body.issues.map((i: { row: number; column: string }) => `${i.row}:${i.column}`)).toEqual([
        '1:expectedDelegates',
        '2:name',
        '3:',
      ]);
      const good = await as('admin').post('/points/import?format=json&mode=merge', {
        points: [
          {
            code: 'HT-VQ-100',
            name: 'Xã Thử',
            level: 'commune',
            parent: 'HT-VQ',
            district: 'HT-VQ',
            expectedDelegates: 12,
          },
        ],
      });
      expect(good.body).toMatchObject({ imported: true, created: 1 });
      expect((await as('admin').delete('/points/HT-VQ-100')).status).toBe(204);
      // A point with points under it cannot go.
      expect((await as('admin').delete('/points/HT-VQ')).status).toBe(409);
    });

    test('wrong types and unknown fields in bodies, params and queries: 400 with the path', async () => {
      const res = await as('host').post('/sessions', {
        title: 5,
        scheduledStart: 'tomorrow',
        plannedEnd: inMin(90),
        x: 1,
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('bad_request');
      const paths = res.body.errors.map((e: { path: string }) => e.path);
      expect(paths).toEqual(expect.arrayContaining(['title', 'scheduledStart']));
      expect(res.body.errors.find((e: { path: string }) => e.path === 'title')).toMatchObject({
        issue: 'invalid_type',
        params: { expected: 'string' },
      });
      expect((await as('host').get('/points?limit=-1')).status).toBe(400);
      expect((await as('host').get('/points?level=village')).status).toBe(400);
      expect((await as('host').get('/points/bad%20code')).status).toBe(400);
      expect((await as('host').post('/sessions/abc/fly')).status).toBe(400);
      const malformed = await as('host').post('/sessions').set('Content-Type', 'application/json').send('{"title":');
      expect(malformed.status).toBe(400);
      const times = await as('host').post('/sessions', {
        title: 'x',
        scheduledStart: inMin(60),
        plannedEnd: inMin(30),
      });
      expect(times.status).toBe(400);
      expect(times.body.errors[0]).toMatchObject({ path: 'plannedEnd', issue: 'end_before_start' });
      const unknownInvite = await as('host').post('/sessions', {
        title: 'x',
        scheduledStart: inMin(60),
        plannedEnd: inMin(90),
        invite: { mode: 'points', pointIds: ['HT', 'HT-NOPE'] },
      });
      expect(unknownInvite.status).toBe(400);
    });

    test('oversized bodies: 413', async () => {
      const big = await as('host').post('/sessions', { title: 'x'.repeat(300 * 1024) });
      expect(big.status).toBe(413);
      expect(big.body.code).toBe('payload_too_large');
      const hugeCsv = await importCsv('x'.repeat(6 * 1024 * 1024));
      expect(hugeCsv.status).toBe(413);
    });

    test('illegal transitions: 409 conflict', async () => {
      const s = await newSession();
      const early = await as('host').post(`/sessions/${s.id}/start`);
      expect([early.status, early.body.reason, early.body.params]).toEqual([
        409,
        'transition',
        { action: 'start', state: 'draft' },
      ]);
      expect((await as('host').post(`/sessions/${s.id}/end`)).status).toBe(409);
      expect((await as('host').post(`/sessions/${s.id}/schedule`)).status).toBe(200);
      const again = await as('host').post(`/sessions/${s.id}/schedule`);
      expect(again.status).toBe(409);
      expect(again.body.code).toBe('conflict');
      // No hall yet: the one way live is from the console, with its camera or microphone on.
      const noHall = await as('host').post(`/sessions/${s.id}/start`);
      expect([noHall.status, noHall.body.code]).toEqual([409, 'no_hall_media']);
      expect((await as('host').get(`/sessions/${s.id}`)).body.state).toBe('scheduled');
      await publishHallInRoom(o.orchestrator, s.id);
      expect((await as('host').post(`/sessions/${s.id}/start`)).status).toBe(200);
      expect((await as('host').post(`/sessions/${s.id}/cancel`)).status).toBe(409);
      expect((await as('host').patch(`/sessions/${s.id}`, { scheduledStart: inMin(30) })).status).toBe(409);
      expect((await as('host').delete(`/sessions/${s.id}`)).status).toBe(409);
      expect((await as('host').post(`/sessions/${s.id}/end`)).status).toBe(200);
      expect((await as('host').post(`/sessions/${s.id}/end`)).status).toBe(409);
      expect((await as('host').patch(`/sessions/${s.id}`, { title: 'Sau khi kết thúc' })).status).toBe(409);
      const final = (await as('technician').get(`/sessions/${s.id}`)).body as Session;
      expect(final.history.map((h) => h.to)).toEqual(['draft', 'scheduled', 'live', 'ended']);
      expect(final.history.every((h) => h.by === 'host')).toBe(true);
    });
  });

  describe('sessions', () => {
    test('defaults, agenda, invitations and editing', async () => {
      const s = await newSession();
      expect(Date.parse(s.scheduledStart) - Date.parse(s.lobbyOpensAt)).toBe(60 * 60_000);
      expect(s.state).toBe('draft');
      expect(s.agenda[0]).toMatchObject({ title: 'Quán triệt Nghị quyết 05-NQ/TU', plannedMinutes: 45 });
      expect(s.invitedPointIds).toHaveLength(19); // Vũ Quang: the district hall and 18 communes
      expect(s.invitedPointIds[0]).toBe('HT-VQ');

      const agendaEvents: unknown[] = [];
      o.orchestrator.control.events.once('agendaChanged', (e) => agendaEvents.push(e));
      const newStart = inMin(180);
      const edited = await as('host').patch(`/sessions/${s.id}`, {
        scheduledStart: newStart,
        agenda: [...s.agenda, { title: 'Phát biểu kết luận', plannedMinutes: 20 }],
        invite: { mode: 'levels', levels: ['province', 'district'] },
      });
      expect(edited.status).toBe(200);
      // The lobby lead time and the duration follow the start.
      expect(Date.parse(edited.body.scheduledStart) - Date.parse(edited.body.lobbyOpensAt)).toBe(60 * 60_000);
      expect(Date.parse(edited.body.plannedEnd) - Date.parse(edited.body.scheduledStart)).toBe(180 * 60_000);
      expect(edited.body.agenda.map((a: { id: string }) => a.id)[0]).toBe(s.agenda[0]!.id);
      expect(edited.body.invitedPointIds).toHaveLength(14);
      expect(edited.body.invitedDelegates).toBe(150 + 1260);
      expect(agendaEvents).toHaveLength(1);

      const list = await as('technician').get('/sessions?state=draft&limit=1');
      expect(list.body.total).toBeGreaterThanOrEqual(1);
      expect(list.body.items).toHaveLength(1);
      expect(list.body.items[0]).not.toHaveProperty('invitedPointIds');
      expect((await as('host').delete(`/sessions/${s.id}`)).status).toBe(204);
      expect((await as('host').get(`/sessions/${s.id}`)).status).toBe(404);
    });
  });

  describe('join links', () => {
    let s: Session;
    let links: JoinLink[];
    const join = (token: string) => request(o.baseUrl).get(`/api/v1/join/${token}`);
    const verify = (token: string) => o.orchestrator.control.links.verifyJoinToken(token);

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
        expect(l.url).toBe(`${o.baseUrl}/join/${l.token}`);
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
      expect((await request(o.baseUrl).get(`/join/${links[1]!.token}`)).status).toBe(200);
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
      const c0 = o.orchestrator.control;
      await expect(c0.links.verifyJoinToken(l.token)).rejects.toMatchObject({
        code: 'not_open',
        details: { opensAt: early.lobbyOpensAt },
      });

      // The host may open the lobby early: the link works from then.
      await as('host').post(`/sessions/${early.id}/open-lobby`);
      await expect(c0.links.verifyJoinToken(l.token)).resolves.toMatchObject({ pointId: 'HT-VQ' });
      expect((await join(l.token)).status).toBe(200);
      await publishHallInRoom(o.orchestrator, early.id);
      expect((await as('host').post(`/sessions/${early.id}/start`)).status).toBe(200);
      await as('host').post(`/sessions/${early.id}/end`);
      expect((await join(l.token)).status).toBe(200); // within the grace

      const c = o.orchestrator.control;
      const later = new JoinLinks({
        redis: c.redis,
        key: c.keys.for('join-link'),
        sessions: c.sessions,
        points: c.points,
        events: c.events,
        logger: o.orchestrator.logger,
        baseUrl: () => o.baseUrl,
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
      const c = o.orchestrator.control;
      const foreign = new JoinLinks({
        redis: c.redis,
        key: new SecretKeys(randomBytes(32).toString('hex')).for('join-link'),
        sessions: c.sessions,
        points: c.points,
        events: c.events,
        logger: o.orchestrator.logger,
        baseUrl: () => o.baseUrl,
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

  describe('OpenAPI', () => {
    test('is generated from the route schemas', async () => {
      const doc = (await as('anonymous').get('/api/openapi.json')).body;
      expect(doc.openapi).toBe('3.0.3');
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/api/v1/points',
          '/api/v1/points/import',
          '/api/v1/sessions/{id}',
          '/api/v1/sessions/{id}/{action}',
          '/api/v1/sessions/{id}/links',
          '/api/v1/join/{token}',
          '/api/v1/auth/login',
        ]),
      );
      expect(
        doc.components.schemas.Point.properties.level.$ref ?? doc.components.schemas.Point.properties.level.enum,
      ).toBeTruthy();
      expect(doc.components.schemas.SessionCreate.required).toEqual(
        expect.arrayContaining(['title', 'scheduledStart', 'plannedEnd']),
      );
      const list = doc.paths['/api/v1/points'].get;
      expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(
        expect.arrayContaining(['limit', 'offset', 'q', 'district', 'level']),
      );
      expect(list.responses['401'].content['application/problem+json']).toBeTruthy();
    });
  });
});
