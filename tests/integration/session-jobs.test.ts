// Real BullMQ worker, real Redis: sessions move at their times, rescheduling moves the
// job, and a server restart in between loses nothing.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import request from 'supertest';
import type { Session } from '../../server/contract/api';
import { SESSION_QUEUE, sessionJobId } from '../../server/jobs/session-jobs';
import { publishHallInRoom, startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

const ADMIN = { ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'correct horse battery', SESSION_OVERRUN_MINUTES: '0' };
/** A job may fire this early and still be on time (the service's own tolerance). */
const TOLERANCE_MS = 1500;

describe('scheduled session jobs', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let cookie: string;
  let queue: Queue;
  let queueConn: Redis;

  const login = async () => {
    const res = await request(o.baseUrl)
      .post('/api/v1/auth/login')
      .send({ username: 'admin', password: ADMIN.ADMIN_PASSWORD });
    expect(res.status).toBe(200);
    cookie = String(res.headers['set-cookie']).split(';')[0]!;
  };
  const api = () => ({
    get: (p: string) => request(o.baseUrl).get(`/api/v1${p}`).set('Cookie', cookie),
    post: (p: string, body?: object) => request(o.baseUrl).post(`/api/v1${p}`).set('Cookie', cookie).send(body),
    patch: (p: string, body: object) => request(o.baseUrl).patch(`/api/v1${p}`).set('Cookie', cookie).send(body),
  });
  const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
  const state = async (id: string): Promise<Session> => (await api().get(`/sessions/${id}`)).body as Session;

  async function scheduled(lobbyInMs: number, startInMs = lobbyInMs + 60_000, endInMs = startInMs + 3600_000) {
    const created = await api().post('/sessions', {
      title: 'Hội nghị quán triệt Nghị quyết',
      lobbyOpensAt: inMs(lobbyInMs),
      scheduledStart: inMs(startInMs),
      plannedEnd: inMs(endInMs),
      invite: { mode: 'levels', levels: ['district'] },
    });
    expect(created.status).toBe(201);
    const s = await api().post(`/sessions/${created.body.id}/schedule`);
    expect(s.status).toBe(200);
    expect(s.body.state).toBe('scheduled');
    return s.body as Session;
  }

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, ADMIN);
    await login();
    queueConn = new Redis(r.url, { maxRetriesPerRequest: null });
    queue = new Queue(SESSION_QUEUE, { connection: queueConn });
  }, 60_000);
  afterAll(async () => {
    await queue?.close();
    queueConn?.disconnect();
    await o?.stop();
    await r?.cleanup();
  });

  test('a session scheduled a few seconds ahead opens its lobby on time, warns at the start, flags an overrun', async () => {
    const events: string[] = [];
    const ev = o.orchestrator.control.events;
    const onState = (e: { sessionId: string; to: string }) => events.push(`state:${e.to}`);
    const onStart = () => events.push('startReached');
    const onOverrun = () => events.push('overrun');
    ev.on('stateChanged', onState);
    ev.on('startReached', onStart);
    ev.on('overrun', onOverrun);
    try {
      const s = await scheduled(2000, 3000, 4000);
      const job = await queue.getJob(sessionJobId(s.id, 'open-lobby'));
      expect(await job?.getState()).toBe('delayed');

      await new Promise((res) => setTimeout(res, 500));
      expect((await state(s.id)).state).toBe('scheduled');

      const lobby = await waitFor(async () => {
        const cur = await state(s.id);
        return cur.state === 'lobby' ? cur : undefined;
      }, 'lobby to open');
      const opened = lobby.history.find((h) => h.to === 'lobby')!;
      expect(opened.by).toBe('system');
      expect(Date.parse(opened.at)).toBeGreaterThanOrEqual(Date.parse(s.lobbyOpensAt) - TOLERANCE_MS);

      const warned = await waitFor(async () => (await state(s.id)).startReachedAt, 'start warning');
      expect(Date.parse(warned)).toBeGreaterThanOrEqual(Date.parse(s.scheduledStart) - TOLERANCE_MS);

      await publishHallInRoom(o.orchestrator, s.id);
      expect((await api().post(`/sessions/${s.id}/start`)).body.state).toBe('live');
      const flagged = await waitFor(async () => (await state(s.id)).overrunAt, 'overrun flag');
      expect(Date.parse(flagged)).toBeGreaterThanOrEqual(Date.parse(s.plannedEnd) - TOLERANCE_MS);
      expect(events).toEqual([
        'state:draft',
        'state:scheduled',
        'state:lobby',
        'startReached',
        'state:live',
        'overrun',
      ]);

      // Re-running a transition that already happened changes nothing.
      expect(await o.orchestrator.control.sessions.runJob('open-lobby', s.id)).toBe('skipped');
      expect(await o.orchestrator.control.sessions.runJob('overrun', s.id)).toBe('skipped');
      const after = await state(s.id);
      expect(after.history.filter((h) => h.to === 'lobby')).toHaveLength(1);
      expect(after.overrunAt).toBe(flagged);

      const ended = await api().post(`/sessions/${s.id}/end`);
      expect(ended.body.state).toBe('ended');
    } finally {
      ev.off('stateChanged', onState);
      ev.off('startReached', onStart);
      ev.off('overrun', onOverrun);
    }
  });

  test('a rescheduled session opens only at the new time', async () => {
    const s = await scheduled(1500);
    const later = inMs(4500);
    const moved = await api().patch(`/sessions/${s.id}`, { lobbyOpensAt: later });
    expect(moved.status).toBe(200);
    const job = await queue.getJob(sessionJobId(s.id, 'open-lobby'));
    expect(job?.data.at).toBe(new Date(later).toISOString());
    expect(job?.opts.delay).toBeGreaterThan(2500);

    // Past the old time: still waiting.
    await new Promise((res) => setTimeout(res, 2500));
    expect((await state(s.id)).state).toBe('scheduled');

    const lobby = await waitFor(async () => {
      const cur = await state(s.id);
      return cur.state === 'lobby' ? cur : undefined;
    }, 'lobby at the new time');
    expect(Date.parse(lobby.history.at(-1)!.at)).toBeGreaterThanOrEqual(Date.parse(later) - TOLERANCE_MS);
  });

  test('a server restart in between loses no job', async () => {
    const s = await scheduled(3000);
    await o.stop();

    // Nothing runs now; the delayed job is in Redis.
    const job = await queue.getJob(sessionJobId(s.id, 'open-lobby'));
    expect(await job?.getState()).toBe('delayed');

    o = await startTestOrchestrator(r.url, ADMIN);
    await login();
    const lobby = await waitFor(async () => {
      const cur = await state(s.id);
      return cur.state === 'lobby' ? cur : undefined;
    }, 'lobby after the restart');
    expect(Date.parse(lobby.history.at(-1)!.at)).toBeGreaterThanOrEqual(Date.parse(s.lobbyOpensAt) - TOLERANCE_MS);
  });

  test('a job due while no server ran is done as soon as one starts', async () => {
    const s = await scheduled(800);
    await o.stop();
    await new Promise((res) => setTimeout(res, 1500));
    o = await startTestOrchestrator(r.url, ADMIN);
    await login();
    await waitFor(async () => (await state(s.id)).state === 'lobby', 'overdue lobby');
  });

  test('cancelling removes the jobs; the session never opens', async () => {
    const s = await scheduled(1500);
    expect(await queue.getJob(sessionJobId(s.id, 'open-lobby'))).toBeTruthy();
    const cancelled = await api().post(`/sessions/${s.id}/cancel`);
    expect(cancelled.body.state).toBe('cancelled');
    for (const kind of ['open-lobby', 'start-reached', 'overrun'] as const) {
      expect(await queue.getJob(sessionJobId(s.id, kind))).toBeUndefined();
    }
    await new Promise((res) => setTimeout(res, 2000));
    expect((await state(s.id)).state).toBe('cancelled');
  });

  test('a job for a session that moved on is a no-op', async () => {
    const s = await scheduled(60_000);
    expect((await api().post(`/sessions/${s.id}/open-lobby`)).body.state).toBe('lobby');
    // The early opening removed the lobby job; running one anyway changes nothing.
    expect(await queue.getJob(sessionJobId(s.id, 'open-lobby'))).toBeUndefined();
    expect(await o.orchestrator.control.sessions.runJob('open-lobby', s.id)).toBe('skipped');
    // A job whose time has not come (a stale copy after a move) does nothing either.
    expect(await o.orchestrator.control.sessions.runJob('start-reached', s.id)).toBe('skipped');
    expect((await state(s.id)).startReachedAt).toBeNull();
  });
});
