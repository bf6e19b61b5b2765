// The /api/v1 control plane as its tests reach it: one real Redis and one server per test
// file (started in beforeAll, stopped in afterAll), the admin of the first start and a
// host and a technician it creates, each logged in, and requests made as any of them.
import path from 'node:path';
import request from 'supertest';
import type { Session } from '../../server/contract/api';
import { startTestOrchestrator, type TestOrchestrator } from './orchestrator';
import { startTestRedis, type TestRedis } from './redis';

/** The registry the server loads on its first start. */
export const SHIPPED = path.join(__dirname, '..', '..', 'server', 'data', 'hatinh-points.csv');
export const PASSWORD = 'correct horse battery';
export type Who = 'anonymous' | 'technician' | 'host' | 'admin';

export const cookieOf = (res: request.Response) => String(res.headers['set-cookie']).split(';')[0]!;
export const inMin = (m: number) => new Date(Date.now() + m * 60_000).toISOString();

export interface ControlApi {
  /** The server (set once beforeAll has run). */
  readonly o: TestOrchestrator;
  /** Each role's session cookie (`name=value`; empty for anonymous), set by beforeAll. */
  readonly cookies: Readonly<Record<Who, string>>;
  as: (who: Who) => {
    get: (p: string) => request.Test;
    post: (p: string, body?: string | object) => request.Test;
    patch: (p: string, body: object) => request.Test;
    delete: (p: string) => request.Test;
  };
  login: (username: string, password?: string) => Promise<request.Response>;
  /** A draft session of the host's (Vũ Quang invited, starting in two hours), changed by `over`. */
  newSession: (over?: object) => Promise<Session>;
}

/** Registers the file's beforeAll and afterAll; what they start is reached through the answer. */
export function useControlApi(): ControlApi {
  let r: TestRedis | undefined;
  let server: TestOrchestrator | undefined;
  const cookies: Record<Who, string> = { anonymous: '', technician: '', host: '', admin: '' };
  const o = () => {
    if (!server) throw new Error('the server starts in beforeAll');
    return server;
  };
  const as: ControlApi['as'] = (who) => {
    const c = cookies[who];
    const withCookie = (t: request.Test) => (c ? t.set('Cookie', c) : t);
    return {
      get: (p) => withCookie(request(o().baseUrl).get(p.startsWith('/api') ? p : `/api/v1${p}`)),
      post: (p, body) => withCookie(request(o().baseUrl).post(`/api/v1${p}`)).send(body),
      patch: (p, body) => withCookie(request(o().baseUrl).patch(`/api/v1${p}`)).send(body),
      delete: (p) => withCookie(request(o().baseUrl).delete(`/api/v1${p}`)),
    };
  };
  const login = async (username: string, password = PASSWORD) =>
    request(o().baseUrl).post('/api/v1/auth/login').send({ username, password });
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
    server = await startTestOrchestrator(r.url, { ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: PASSWORD });
    cookies.admin = cookieOf(await login('admin'));
    for (const role of ['host', 'technician'] as const) {
      const created = await as('admin').post('/accounts', { username: role, role, password: PASSWORD });
      expect(created.status).toBe(201);
      cookies[role] = cookieOf(await login(role));
    }
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await r?.cleanup();
  });

  return {
    get o() {
      return o();
    },
    cookies,
    as,
    login,
    newSession,
  };
}
