// Documents attached to agenda items through a whole control server (real Redis, HTTP,
// files on disk): type checked on the bytes, size capped, names stripped of paths, files
// kept under DATA_DIR and never served statically, a point of the session reading the
// running item's only, a point of another session nothing.
import fs from 'node:fs';
import nodeHttp from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import request from 'supertest';
import type { Session } from '../../server/contract/api';
import type { AgendaDocument, PointDocuments } from '../../server/contract/documents';
import { LiveStateStore } from '../../server/realtime/live-state';
import { loginCookie, sessionWith, somePoints } from '../helpers/attendance';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(60_000);

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

describe('agenda documents (real Redis, HTTP, files)', () => {
  let r: TestRedis;
  let t: TestOrchestrator;
  let dataDir: string;
  let host: string;
  let s: Session;
  let other: Session;
  let token: string;
  let otherToken: string;
  /** What the server logged at info and above. */
  const logged: { level: number; msg: string; docId?: string }[] = [];
  const http = () => request(t.baseUrl);
  const upload = (sessionId: string, itemId: string, name: string, body: Buffer, type = 'application/pdf') =>
    http()
      .post(`/api/v1/sessions/${sessionId}/agenda/${itemId}/documents?name=${encodeURIComponent(name)}`)
      .set('Cookie', host)
      .set('Content-Type', type)
      .send(body);
  const runItem = (sessionId: string, index: number | null) =>
    new LiveStateStore(t.orchestrator.control.redis).set(sessionId, { agendaIndex: index });

  /** A live session of `points` with three agenda items, and the first point's join token. */
  async function liveSession(points: string[]): Promise<{ session: Session; token: string }> {
    const created = await sessionWith(
      t,
      points,
      'live',
      [1, 2, 3].map((n) => ({ title: `Nội dung ${n}`, plannedMinutes: 10 })),
    );
    const links = await t.orchestrator.control.links.list(created.id, { limit: 10, offset: 0 });
    return { session: created, token: links.items[0]!.token };
  }

  beforeAll(async () => {
    r = await startTestRedis();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-docs-'));
    const logger = pino(
      { level: 'info' },
      { write: (l: string) => logged.push(JSON.parse(l) as (typeof logged)[number]) },
    );
    t = await startTestOrchestrator(r.url, { DATA_DIR: dataDir }, logger);
    host = await loginCookie(t, 'host');
    const pts = await somePoints(t, 3);
    ({ session: s, token } = await liveSession([pts[0]!, pts[1]!]));
    ({ session: other, token: otherToken } = await liveSession([pts[2]!]));
  });
  afterAll(async () => {
    await t?.stop();
    await r?.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('a PDF on item 2: stored under DATA_DIR by id, shown to the points only while item 2 runs', async () => {
    const item2 = s.agenda[1]!.id;
    const doc = (await upload(s.id, item2, 'Nghị quyết 05-NQ-TU.pdf', PDF).expect(201)).body as AgendaDocument;
    expect(doc).toMatchObject({
      itemId: item2,
      name: 'Nghị quyết 05-NQ-TU.pdf',
      type: 'application/pdf',
      size: PDF.length,
    });
    expect(fs.readFileSync(path.join(dataDir, 'documents', s.id, doc.id))).toEqual(PDF);

    const mine = () => http().get(`/api/v1/join/${token}/documents`).expect(200);
    const file = () => http().get(`/api/v1/join/${token}/documents/${doc.id}`);
    await runItem(s.id, 0);
    expect((await mine()).body).toEqual({ itemId: s.agenda[0]!.id, documents: [] });
    await file().expect(404);

    await runItem(s.id, 1);
    expect(((await mine()).body as PointDocuments).documents.map((d) => d.id)).toEqual([doc.id]);
    const got = await file().buffer(true).expect(200);
    expect(got.body).toEqual(PDF);
    expect(got.headers['content-type']).toBe('application/pdf');
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(got.headers['content-disposition']).toBe(
      `inline; filename="Nghi quyet 05-NQ-TU.pdf"; filename*=UTF-8''${encodeURIComponent('Nghị quyết 05-NQ-TU.pdf')}`,
    );
    const dl = await http().get(`/api/v1/join/${token}/documents/${doc.id}?download=1`).expect(200);
    expect(dl.headers['content-disposition']).toMatch(/^attachment; /);

    await runItem(s.id, 2);
    expect((await mine()).body.documents).toEqual([]);
    await file().expect(404);

    // The desk reads every document whatever runs; the static folder has none.
    const desk = await http()
      .get(`/api/v1/sessions/${s.id}/documents/${doc.id}`)
      .set('Cookie', host)
      .buffer(true)
      .expect(200);
    expect(desk.body).toEqual(PDF);
    await http().get(`/documents/${s.id}/${doc.id}`).expect(404);
    await http().get(`/data/documents/${s.id}/${doc.id}`).expect(404);
    await http().get(`/api/v1/sessions/${s.id}/documents/${doc.id}`).expect(401);
  });

  test("another session's point, a forged or damaged token: nothing", async () => {
    const item1 = s.agenda[0]!.id;
    const doc = (await upload(s.id, item1, 'a.png', PNG, 'image/png').expect(201)).body as AgendaDocument;
    await runItem(s.id, 0);
    await runItem(other.id, 0);
    await http().get(`/api/v1/join/${token}/documents/${doc.id}`).expect(200);
    // The other session's point asks with its own valid token: its session has no such document.
    await http().get(`/api/v1/join/${otherToken}/documents/${doc.id}`).expect(404);
    expect((await http().get(`/api/v1/join/${otherToken}/documents`).expect(200)).body.documents).toEqual([]);
    const forged = `${token.slice(0, -4)}AAAA`;
    expect((await http().get(`/api/v1/join/${forged}/documents/${doc.id}`)).status).toBe(401);
    await http().get(`/api/v1/join/${token}/documents/..%2F..%2Fapp-secret`).expect(400);
    await http().get(`/api/v1/sessions/..%2F${s.id}/documents/${doc.id}`).set('Cookie', host).expect(400);
  });

  test('wrong types, oversize, path tricks in names, unknown items: refused or made harmless', async () => {
    const item3 = s.agenda[2]!.id;
    const before = (await http().get(`/api/v1/sessions/${s.id}/documents`).set('Cookie', host).expect(200)).body;
    // An HTML page or an SVG named and labelled as a PDF is still not one.
    const html = await upload(s.id, item3, 'x.pdf', Buffer.from('<html><script>alert(1)</script>'));
    expect([html.status, html.body.reason]).toEqual([400, 'document_type']);
    const svg = await upload(s.id, item3, 'x.svg', Buffer.from('<svg onload="alert(1)"/>'), 'image/svg+xml');
    expect([svg.status, svg.body.reason]).toEqual([400, 'document_type']);
    expect((await upload(s.id, item3, 'x.pdf', Buffer.alloc(0))).status).toBe(400);
    const big = Buffer.concat([PDF, Buffer.alloc(21 * 1024 * 1024)]);
    expect((await upload(s.id, item3, 'big.pdf', big)).body.code).toBe('payload_too_large');
    await upload(s.id, 'no-such-item', 'a.pdf', PDF).expect(404);
    await upload('no-such-session', item3, 'a.pdf', PDF).expect(404);
    const tech = await loginCookie(t, 'technician');
    await http()
      .post(`/api/v1/sessions/${s.id}/agenda/${item3}/documents?name=a.pdf`)
      .set('Cookie', tech)
      .set('Content-Type', 'application/pdf')
      .send(PDF)
      .expect(403);
    const after = (await http().get(`/api/v1/sessions/${s.id}/documents`).set('Cookie', host).expect(200)).body;
    expect(after).toEqual(before);

    // A name with folders, control characters and quotes: kept as text only, the file by id.
    const tricky = (await upload(s.id, item3, '../../../etc/"passwd"\u0000\r\n.exe', PDF).expect(201))
      .body as AgendaDocument;
    expect(tricky.name).toBe('passwd.pdf');
    const win = (await upload(s.id, item3, '..\\..\\Windows\\báo cáo.PDF', PDF).expect(201)).body as AgendaDocument;
    expect(win.name).toBe('báo cáo.pdf');
    expect(fs.readdirSync(path.join(dataDir, 'documents', s.id)).sort()).toEqual(
      [...after.map((d: AgendaDocument) => d.id), tricky.id, win.id].sort(),
    );
    expect(fs.existsSync(path.join(dataDir, 'etc'))).toBe(false);

    await http().delete(`/api/v1/sessions/${s.id}/documents/${tricky.id}`).set('Cookie', host).expect(204);
    expect(fs.existsSync(path.join(dataDir, 'documents', s.id, tricky.id))).toBe(false);
    await http().get(`/api/v1/sessions/${s.id}/documents/${tricky.id}`).set('Cookie', host).expect(404);
  });

  test('an item taken off the agenda, or the session deleted, takes its documents and files', async () => {
    const pts = await somePoints(t, 1);
    const draft = await t.orchestrator.control.sessions.create(
      {
        title: 'Bản nháp',
        scheduledStart: new Date(Date.now() + 3600_000).toISOString(),
        plannedEnd: new Date(Date.now() + 7200_000).toISOString(),
        invite: { mode: 'points', pointIds: pts },
        agenda: [1, 2].map((n) => ({ title: `Mục ${n}`, plannedMinutes: 5 })),
      },
      { username: 'test-host' },
    );
    const [one, two] = draft.agenda;
    const kept = (await upload(draft.id, one!.id, 'a.pdf', PDF).expect(201)).body as AgendaDocument;
    const dropped = (await upload(draft.id, two!.id, 'b.pdf', PDF).expect(201)).body as AgendaDocument;
    const folder = path.join(dataDir, 'documents', draft.id);
    await http()
      .patch(`/api/v1/sessions/${draft.id}`)
      .set('Cookie', host)
      .send({ agenda: [{ id: one!.id, title: 'Mục 1', plannedMinutes: 5 }] })
      .expect(200);
    await waitFor(async () => {
      const left = (await http().get(`/api/v1/sessions/${draft.id}/documents`).set('Cookie', host)).body;
      // The entry goes first, then its file.
      return left.length === 1 && left[0].id === kept.id && fs.readdirSync(folder).length === 1;
    }, 'the removed item’s document to go');
    expect(fs.readdirSync(folder)).toEqual([kept.id]);
    expect(fs.existsSync(path.join(folder, dropped.id))).toBe(false);

    await http().delete(`/api/v1/sessions/${draft.id}`).set('Cookie', host).expect(204);
    expect(fs.existsSync(folder)).toBe(false);
    expect(await t.orchestrator.control.redis.exists(`docs:${draft.id}`)).toBe(0);
  });

  test('a document cut off while sent (the reader went away) is logged, not swallowed', async () => {
    const big = Buffer.concat([PDF, Buffer.alloc(16 * 1024 * 1024, 0x20)]);
    const doc = (await upload(s.id, s.agenda[0]!.id, 'Báo cáo lớn.pdf', big).expect(201)).body as AgendaDocument;
    await new Promise<void>((done, fail) => {
      const req = nodeHttp.get(
        `${t.baseUrl}/api/v1/sessions/${s.id}/documents/${doc.id}`,
        { headers: { Cookie: host } },
        (res) => {
          expect(res.statusCode).toBe(200);
          res.once('data', () => {
            req.destroy();
            done();
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? undefined : fail(err)));
    });
    const line = await waitFor(
      () => logged.find((l) => l.msg === 'a document was cut off while sent' && l.docId === doc.id),
      'the log line',
      20_000,
    );
    expect(line.level).toBeGreaterThanOrEqual(30);
  });

  /** A scheduled session of its own with two agenda items. */
  const draftSession = async () =>
    t.orchestrator.control.sessions.create(
      {
        title: 'Đồng thời',
        scheduledStart: new Date(Date.now() + 3600_000).toISOString(),
        plannedEnd: new Date(Date.now() + 7200_000).toISOString(),
        invite: { mode: 'points', pointIds: await somePoints(t, 1) },
        agenda: [1, 2].map((n) => ({ title: `Mục ${n}`, plannedMinutes: 5 })),
      },
      { username: 'test-host' },
    );
  const filesOf = (sessionId: string) => {
    const folder = path.join(dataDir, 'documents', sessionId);
    return fs.existsSync(folder) ? fs.readdirSync(folder).sort() : [];
  };

  test('concurrent uploads stop at 100 per session, and a refused one leaves no file', async () => {
    const draft = await draftSession();
    const item = draft.agenda[0]!.id;
    const answers = await Promise.all(Array.from({ length: 115 }, (_, i) => upload(draft.id, item, `${i}.pdf`, PDF)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(100);
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused.map((a) => [a.status, a.body.reason])).toEqual(Array(15).fill([409, 'documents_full']));
    const listed = (await http().get(`/api/v1/sessions/${draft.id}/documents`).set('Cookie', host).expect(200))
      .body as AgendaDocument[];
    expect(listed).toHaveLength(100);
    expect(filesOf(draft.id)).toEqual(listed.map((d) => d.id).sort());
  });

  test('uploads racing the removal of their item leave no document and no file behind', async () => {
    const draft = await draftSession();
    const [one, two] = draft.agenda;
    const control = t.orchestrator.control;
    const big = Buffer.concat([PDF, Buffer.alloc(2 * 1024 * 1024, 0x20)]);
    // As the upload route does once it has found the item: write, then ask again.
    const stillThere = async () =>
      (await control.sessions.get(draft.id))?.agenda.some((a) => a.id === two!.id) ?? false;
    const answers = await Promise.allSettled([
      ...Array.from({ length: 20 }, (_, i) => control.documents.add(draft.id, two!.id, `${i}.pdf`, big, stillThere)),
      control.sessions.update(
        draft.id,
        { agenda: [{ id: one!.id, title: 'Mục 1', plannedMinutes: 5 }] },
        { username: 'test-host' },
      ),
    ]);
    const failed = answers.filter((a) => a.status === 'rejected') as PromiseRejectedResult[];
    expect(failed.map((f) => (f.reason as { code?: string }).code)).toEqual(failed.map(() => 'not_found'));
    expect(answers.at(-1)!.status).toBe('fulfilled');
    // Dropping the removed item's documents runs after the edit is saved.
    await waitFor(
      async () => (await control.documents.list(draft.id)).length === 0 && filesOf(draft.id).length === 0,
      'no document or file of the removed item',
    );
  });
});
