// A briefing prepared through the real HTTP API: log in, create a session with the
// reference agenda, move it to the lobby, fetch the points' join links. Shared by the
// tests (tests/helpers/briefing.ts) and the benchmarks that drive pages.
import request from 'supertest';
import { REFERENCE_AGENDA } from '../../server/data/reference-briefing';

let extraCa: string | undefined;
/** Trusts this CA in the helpers' https requests (a test server's local CA). */
export function trustCa(pem: string | undefined): void {
  extraCa = pem;
}
const api = (baseUrl: string, method: 'get' | 'post', path: string) => {
  const t = request(baseUrl)[method](path);
  return extraCa ? t.ca(extraCa) : t;
};

export async function login(baseUrl: string, user: { username: string; password: string }): Promise<string> {
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
  opts: { user: { username: string; password: string }; startInMinutes?: number },
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
