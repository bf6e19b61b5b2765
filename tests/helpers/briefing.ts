// A briefing prepared through the real HTTP API: log in, create a session with the
// reference agenda, move it to the lobby, fetch the points' join links.
import request from 'supertest';
import { io as connect, type Socket } from 'socket.io-client';
import { REFERENCE_AGENDA } from '../../server/data/reference-briefing';

export const TEST_ADMIN = { username: 'admin', password: 'test-admin-password-1' };
export const ADMIN_ENV = { ADMIN_USERNAME: TEST_ADMIN.username, ADMIN_PASSWORD: TEST_ADMIN.password };

/** The four resolutions and the conclusion of 18 January 2022 (server/data/reference-briefing.ts). */
export { REFERENCE_AGENDA, REFERENCE_TITLE } from '../../server/data/reference-briefing';

let extraCa: string | undefined;
/** Trusts this CA in the helpers' https requests (a test server's local CA). */
export function trustCa(pem: string | undefined): void {
  extraCa = pem;
}
const api = (baseUrl: string, method: 'get' | 'post', path: string) => {
  const t = request(baseUrl)[method](path);
  return extraCa ? t.ca(extraCa) : t;
};

export async function login(baseUrl: string, user = TEST_ADMIN): Promise<string> {
  const res = await api(baseUrl, 'post', '/api/v1/auth/login').send(user);
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  return cookies.map((c) => c.split(';')[0]).join('; ');
}

export interface PreparedBriefing {
  sessionId: string;
  cookie: string;
  links: { pointId: string; name: string; token: string; url: string }[];
}

/**
 * A session with the given points invited, in its lobby (or, with `startInMinutes` over
 * 60, scheduled with its lobby still ahead).
 */
export async function prepareBriefing(
  baseUrl: string,
  pointIds: string[],
  opts: { startInMinutes?: number; user?: { username: string; password: string } } = {},
): Promise<PreparedBriefing> {
  const cookie = await login(baseUrl, opts.user);
  const now = Date.now();
  const startIn = opts.startInMinutes ?? 30;
  const created = await api(baseUrl, 'post', '/api/v1/sessions')
    .set('Cookie', cookie)
    .send({
      title: 'Hội nghị trực tuyến quán triệt các nghị quyết của Tỉnh ủy',
      scheduledStart: new Date(now + startIn * 60_000).toISOString(),
      plannedEnd: new Date(now + (startIn + 150) * 60_000).toISOString(),
      agenda: REFERENCE_AGENDA,
      invite: { mode: 'points', pointIds },
    });
  if (created.status !== 201 && created.status !== 200)
    throw new Error(`create failed: ${created.status} ${JSON.stringify(created.body)}`);
  const sessionId = created.body.id as string;
  const scheduled = await api(baseUrl, 'post', `/api/v1/sessions/${sessionId}/schedule`).set('Cookie', cookie);
  if (scheduled.status !== 200)
    throw new Error(`schedule failed: ${scheduled.status} ${JSON.stringify(scheduled.body)}`);
  // The lobby opens 60 minutes before the start, i.e. already: its job may beat us to it.
  if (startIn > 60) return { sessionId, cookie, links: await links(baseUrl, cookie, sessionId) };
  const opened = await api(baseUrl, 'post', `/api/v1/sessions/${sessionId}/open-lobby`).set('Cookie', cookie);
  if (opened.status !== 200 && !(opened.status === 409 && opened.body.errors?.state === 'lobby')) {
    throw new Error(`open-lobby failed: ${opened.status} ${JSON.stringify(opened.body)}`);
  }
  return { sessionId, cookie, links: await links(baseUrl, cookie, sessionId) };
}

async function links(baseUrl: string, cookie: string, sessionId: string): Promise<PreparedBriefing['links']> {
  const res = await api(baseUrl, 'get', `/api/v1/sessions/${sessionId}/links?limit=500`).set('Cookie', cookie);
  if (res.status !== 200) throw new Error(`links failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.items as PreparedBriefing['links'];
}

/** A socket.io client for a namespace, connected (or rejected with the server's code). */
export function connectSocket(
  baseUrl: string,
  ns: '/point' | '/host' | '/monitor',
  opts: { token?: string; cookie?: string },
): Promise<Socket> {
  const socket = connect(baseUrl + ns, {
    transports: ['websocket'],
    reconnection: false,
    auth: opts.token ? { token: opts.token } : {},
    extraHeaders: opts.cookie ? { cookie: opts.cookie } : {},
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      socket.close();
      reject(Object.assign(new Error(err.message), { code: err.data?.code }));
    });
  });
}

/**
 * A handshake on a connection of its own (a cached Manager would reuse another socket's
 * headers): 'connected', or the refusal's code ('refused' when the server gave none, as
 * for a handshake refused before any namespace).
 */
export function handshake(
  url: string,
  opts: { cookie?: string; origin?: string; polling?: boolean } = {},
): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(url, {
      forceNew: true,
      reconnection: false,
      transports: [opts.polling ? 'polling' : 'websocket'],
      extraHeaders: {
        ...(opts.cookie ? { cookie: opts.cookie } : {}),
        ...(opts.origin ? { origin: opts.origin } : {}),
      },
    });
    s.once('connect', () => {
      s.close();
      resolve('connected');
    });
    s.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      s.close();
      resolve(err.data?.code ?? 'refused');
    });
  });
}
