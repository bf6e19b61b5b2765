// The desk's alerts over REST: a real point socket raises one, a logged-in technician lists,
// acknowledges, assigns and resolves it; everything else is refused with its code.
import request from 'supertest';
import type { Socket as ClientSocket } from 'socket.io-client';
import { ask, loginCookie, pointSocket, sessionWith, somePoints, useTestPointNamespace } from '../helpers/attendance';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(60_000);

describe('alerts REST API (real Redis, socket.io)', () => {
  let r: TestRedis;
  let t: TestOrchestrator;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    r = await startTestRedis();
    t = await startTestOrchestrator(r.url);
    useTestPointNamespace(t);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t?.stop();
    await r?.cleanup();
  });

  test('list, acknowledge, assign, resolve; desk roles only; validated', async () => {
    const [p] = await somePoints(t, 1);
    const s = await sessionWith(t, [p!], 'live');
    const sock = await pointSocket(t, s.id, p!);
    sockets.push(sock);
    const { alertId } = await ask<{ alertId: string }>(sock, 'problem:report', { kind: 'no-audio', note: 'mất tiếng' });
    const tech = await loginCookie(t, 'technician');
    const http = request(t.baseUrl);
    const base = `/api/v1/alerts/${s.id}`;

    expect((await http.get(base)).status).toBe(401);
    const list = await http.get(base).set('Cookie', tech).expect(200);
    expect(list.body).toEqual([expect.objectContaining({ id: alertId, pointId: p, kind: 'no-audio', state: 'open' })]);
    expect((await http.get(`${base}?state=cleared`).set('Cookie', tech).expect(200)).body).toEqual([]);
    expect((await http.get(`${base}?state=gone`).set('Cookie', tech)).body.code).toBe('bad_request');
    expect((await http.get('/api/v1/alerts/no-such-session').set('Cookie', tech)).status).toBe(404);

    const ack = await http.post(`${base}/${alertId}/acknowledge`).set('Cookie', tech).expect(200);
    expect(ack.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: expect.stringMatching(/^technician-/) });
    const bad = await http.post(`${base}/${alertId}/assign`).set('Cookie', tech).send({ assignee: ' ' });
    expect([bad.status, bad.body.code]).toEqual([400, 'bad_request']);
    const assigned = await http
      .post(`${base}/${alertId}/assign`)
      .set('Cookie', tech)
      .send({ assignee: 'Trần Văn Hùng' })
      .expect(200);
    expect(assigned.body.assignee).toBe('Trần Văn Hùng');
    const resolved = await http.post(`${base}/${alertId}/resolve`).set('Cookie', tech).expect(200);
    expect(resolved.body).toMatchObject({ state: 'cleared', clearedBy: expect.stringMatching(/^technician-/) });
    expect((await t.orchestrator.attendance.service.alerts.get(s.id, alertId))?.state).toBe('cleared');

    const late = await http.post(`${base}/${alertId}/acknowledge`).set('Cookie', tech);
    expect([late.status, late.body.code]).toEqual([409, 'conflict']);
    expect((await http.post(`${base}/A999/resolve`).set('Cookie', tech)).status).toBe(404);
    expect((await http.post(`${base}/x;1/resolve`).set('Cookie', tech)).body.code).toBe('bad_request');
  });
});
