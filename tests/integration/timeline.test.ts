// The record of a briefing with real components: a real Redis, the whole control server,
// the host console and the points as real socket.io clients. A briefing runs through three
// agenda items, pauses, slides and a floor; one point drops out during the second item.
// The timeline in Redis, and the report (JSON, CSV, printable page) built from it, must
// say what happened and when.
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import type { Report } from '../../server/contract/attendance';
import type { TimelineEntry } from '../../server/contract/timeline';
import { TIMELINE_KEYS } from '../../server/domain/timeline/store';
import { ask } from '../helpers/attendance';
import { ADMIN_ENV, connectSocket, prepareBriefing, type PreparedBriefing, publishHall } from '../helpers/briefing';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(60_000);

// Two that stay, one that drops out during the second item, one that never comes.
const [STAYS, SPEAKS, DROPS, ABSENT] = ['HT-CX', 'HT-CL', 'HT-DT', 'HT-HK'] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const describeOf = (e: TimelineEntry) => {
  switch (e.type) {
    case 'state':
      return `state:${e.to}`;
    case 'agenda':
      return `agenda:${e.index}`;
    case 'pause':
      return `pause:${e.kind}:${e.paused}`;
    case 'slides':
      return `slides:${e.on}`;
    case 'floor':
      return `floor:${e.pointId}:${e.granted}`;
    case 'hall':
      return `hall:${e.source}`;
  }
};

describe('the timeline of a briefing (real Redis, server and socket.io clients)', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  let host: Socket;
  const sockets: Socket[] = [];
  const join = async (pointId: string) => {
    const token = b.links.find((l) => l.pointId === pointId)!.token;
    const s = await connectSocket(o.baseUrl, '/point', { token });
    sockets.push(s);
    return s;
  };
  const svc = () => o.orchestrator.attendance.service;
  const present = async (pointId: string) => (await svc().ledger.presence(b.sessionId, pointId)).since !== null;

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, ADMIN_ENV);
    b = await prepareBriefing(o.baseUrl, [STAYS, SPEAKS, DROPS, ABSENT]);
    host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    await ask(host, 'host:attach', { sessionId: b.sessionId });
  }, 60_000);
  afterAll(async () => {
    host?.close();
    for (const s of sockets) s.close();
    await o?.stop();
    await r?.cleanup();
  });

  test('every change is recorded once, with its instant; the report tells each item and what each point missed', async () => {
    for (const p of [STAYS, SPEAKS, DROPS]) await join(p);
    await waitFor(async () => (await Promise.all([STAYS, SPEAKS, DROPS].map(present))).every(Boolean), 'all joined');

    await publishHall(host);
    const t0 = Date.now();
    await ask(host, 'session:goLive');
    await sleep(700);
    await ask(host, 'agenda:go', { index: 1 });
    const item1At = Date.now();
    await ask(host, 'media:pause', { kind: 'video', paused: true });
    await ask(host, 'media:pause', { kind: 'video', paused: true }); // pressed twice: one entry
    await ask(host, 'media:pause', { kind: 'video', paused: false });
    await ask(host, 'slides:set', { on: true });
    await ask(host, 'floor:grant', { pointId: SPEAKS });
    await sleep(600);
    await ask(host, 'floor:revoke');

    // One point drops out for a while during the second item, then comes back.
    sockets.splice(sockets.indexOf(sockets[2]!), 1)[0]!.close();
    await waitFor(async () => !(await present(DROPS)), 'the point left');
    const leftAt = Date.now();
    await sleep(1000);
    await join(DROPS);
    await waitFor(() => present(DROPS), 'the point came back');
    const backAt = Date.now();

    await ask(host, 'agenda:go', { index: 2 });
    const item2At = Date.now();
    await sleep(500);
    await ask(host, 'session:end');
    const endAt = Date.now();

    // The timeline in Redis.
    const entries = await o.orchestrator.control.timeline.store.list(b.sessionId);
    expect(entries.map(describeOf)).toEqual([
      'state:draft',
      'state:scheduled',
      'state:lobby',
      // The ingest is what the points receive (the archive's program follows it).
      'hall:ingest',
      'state:live',
      'agenda:0',
      'agenda:1',
      'pause:video:true',
      'pause:video:false',
      'slides:true',
      `floor:${SPEAKS}:true`,
      `floor:${SPEAKS}:false`,
      'agenda:2',
      'state:ended',
    ]);
    for (const e of entries.slice(4)) {
      expect(Date.parse(e.at)).toBeGreaterThanOrEqual(t0 - 50);
      expect(Date.parse(e.at)).toBeLessThanOrEqual(endAt + 50);
    }
    const ended = entries.at(-1)!;
    expect(ended).toMatchObject({ type: 'state', from: 'live', to: 'ended', by: 'admin' });

    // The report, written by its job at the end.
    await waitFor(() => svc().reports.get(b.sessionId, 'json'), 'the report', 20_000);
    const report = JSON.parse((await svc().reports.get(b.sessionId, 'json'))!) as Report;
    const items = report.timeline.items;
    expect(items.map((i) => i.index)).toEqual([0, 1, 2]);
    expect(items[0]!.title).toMatch(/05-NQ\/TU/);
    expect(Math.abs(Date.parse(items[1]!.startedAt) - item1At)).toBeLessThan(300);
    expect(Math.abs(Date.parse(items[2]!.startedAt) - item2At)).toBeLessThan(300);
    expect(items[2]!.endedAt).toBe(report.endedAt);
    expect(items[1]!.floor).toHaveLength(1);
    expect(items[1]!.floor[0]).toMatchObject({ pointId: SPEAKS });
    expect(items[1]!.floor[0]!.seconds).toBeGreaterThanOrEqual(0.5);
    expect(items[0]!.floor).toEqual([]);

    const row = (id: string) => report.rows.find((x) => x.pointId === id)!;
    expect(row(STAYS).missedSeconds).toEqual([0, 0, 0]);
    const dropped = row(DROPS).missedSeconds;
    expect(dropped[0]).toBe(0);
    expect(dropped[2]).toBe(0);
    expect(dropped[1]).toBeGreaterThanOrEqual(0.9);
    expect(dropped[1]).toBeLessThanOrEqual((backAt - leftAt) / 1000 + 0.5);
    // The point that never came missed every item whole.
    expect(row(ABSENT).missedSeconds).toEqual(items.map((i) => i.seconds));

    const http = request(o.baseUrl);
    const csv = (await http.get(`/api/v1/reports/${b.sessionId}/csv`).set('Cookie', b.cookie).expect(200)).text;
    expect(csv).toContain('DIỄN BIẾN HỘI NGHỊ · TIMELINE');
    expect(csv).toContain(`Bỏ lỡ (phút): 2. ${items[1]!.title}`);
    expect(csv).toMatch(/Giao quyền phát biểu: [^\n]+ · floor given/);
    const html = (await http.get(`/api/v1/reports/${b.sessionId}/html`).set('Cookie', b.cookie).expect(200)).text;
    expect(html).toContain('Diễn biến hội nghị · Timeline');
    expect(html).toContain('Tạm dừng hình · camera paused');
    // Each point's line ends with what it missed: the item it dropped out of, or a dash.
    const line = (id: string) => html.split('\n').find((l) => l.includes(`<td>${row(id).code}</td>`))!;
    expect(line(DROPS)).toMatch(/<td>2: [\d,]+ phút<\/td><\/tr>$/);
    expect(line(STAYS)).toMatch(/<td>—<\/td><\/tr>$/);
    expect(line(ABSENT)).toMatch(/<td>1: [\d,]+ phút<br>2: [\d,]+ phút<br>3: [\d,]+ phút<\/td><\/tr>$/);
  });

  test("a deleted session's timeline goes with it", async () => {
    const cookie = b.cookie;
    const http = request(o.baseUrl);
    const now = Date.now();
    const created = await http
      .post('/api/v1/sessions')
      .set('Cookie', cookie)
      .send({
        title: 'Phiên thử xóa',
        scheduledStart: new Date(now + 7200_000).toISOString(),
        plannedEnd: new Date(now + 9000_000).toISOString(),
        invite: { mode: 'points', pointIds: [STAYS] },
      })
      .expect(201);
    const id = created.body.id as string;
    await waitFor(async () => (await o.orchestrator.redis.llen(TIMELINE_KEYS.entries(id))) === 1, 'created recorded');
    await http.delete(`/api/v1/sessions/${id}`).set('Cookie', cookie).expect(204);
    expect(await o.orchestrator.redis.exists(TIMELINE_KEYS.entries(id), TIMELINE_KEYS.last(id))).toBe(0);
  });
});
