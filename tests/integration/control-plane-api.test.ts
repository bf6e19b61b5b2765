// The /api/v1 control plane against a real Redis: the registry as shipped and imported,
// roles on every route class, sessions and the OpenAPI document. Bad input is in
// control-plane-input.test.ts, join links in control-plane-links.test.ts.
import fs from 'node:fs';
import request from 'supertest';
import type { Point, Session } from '../../server/contract/api';
import { inMin, SHIPPED, useControlApi, type Who } from '../helpers/control-api';

const api = useControlApi();
const { as, newSession } = api;

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

  test('an edit of one field keeps the others, the contact and the SIP address too', async () => {
    const original = (await as('admin').get('/points/HT-KA').expect(200)).body as Point;
    await as('admin').patch('/points/HT-KA', { sipAddress: 'sip:ka@room.example' }).expect(200);
    const after = (await as('admin').patch('/points/HT-KA', { name: 'Huyện ủy Kỳ Anh (phòng họp)' }).expect(200))
      .body as Point;
    expect(after).toMatchObject({
      contactName: original.contactName,
      contactPhone: original.contactPhone,
      sipAddress: 'sip:ka@room.example',
    });
    expect(original.contactName).not.toBe('');
    await as('admin').patch('/points/HT-KA', { name: original.name, sipAddress: '' }).expect(200);
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
    const [name, value] = api.cookies.host.split('=') as [string, string];
    const altered = `${name}=${value.slice(0, 5)}${value[5] === 'a' ? 'b' : 'a'}${value.slice(6)}`;
    expect((await request(api.o.baseUrl).get('/api/v1/points').set('Cookie', altered)).status).toBe(401);
    expect((await request(api.o.baseUrl).get('/api/v1/points').set('Cookie', `${name}=nonsense`)).status).toBe(401);
  });

  test('cross-site writes are refused even with a cookie', async () => {
    const res = await as('host')
      .post('/sessions', { title: 'x', scheduledStart: inMin(60), plannedEnd: inMin(90) })
      .set('Origin', 'https://evil.example');
    expect(res.status).toBe(403);
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
    api.o.orchestrator.control.events.once('agendaChanged', (e) => agendaEvents.push(e));
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
