// Helpers for the attendance tests: a session with a few invited points, point sockets
// that go through attachPointAttendance exactly as the `/point` namespace does (on a test
// namespace authenticated by ids, so these tests do not depend on join tokens), and a
// logged-in technician for `/monitor` and the REST routes, and a phone at the check-in API.
import pino from 'pino';
import request from 'supertest';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import type { Session } from '../../server/contract/api';
import type { HealthReport } from '../../server/contract/attendance';
import { attachPointAttendance } from '../../server/realtime/point-attendance';
import type { TestOrchestrator } from './orchestrator';

export const TEST_POINT_NS = '/attendance-test-point';

/** Registers the test point namespace on the orchestrator's Socket.IO server (once). */
export function useTestPointNamespace(t: TestOrchestrator): void {
  const io = t.orchestrator.app.io;
  const nsp = io.of(TEST_POINT_NS);
  if (nsp.listenerCount('connection') > 0) return;
  nsp.on('connection', (socket) => {
    const { sessionId, pointId } = socket.handshake.auth as { sessionId: string; pointId: string };
    attachPointAttendance(socket, {
      attendance: t.orchestrator.attendance.service,
      identity: { sessionId, pointId },
      logger: pino({ level: 'silent' }),
    });
  });
}

export async function pointSocket(t: TestOrchestrator, sessionId: string, pointId: string): Promise<ClientSocket> {
  const s = connect(`${t.baseUrl}${TEST_POINT_NS}`, {
    auth: { sessionId, pointId },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
  return s;
}

export async function ask<T = unknown>(s: ClientSocket, event: string, payload: unknown = {}): Promise<T> {
  const res = (await s.timeout(5000).emitWithAck(event, payload)) as {
    ok: boolean;
    data?: T;
    error?: { code: string; message: string };
  };
  if (!res.ok) throw Object.assign(new Error(res.error!.message), { code: res.error!.code });
  return res.data as T;
}

export const goodReport = (over: Partial<HealthReport> = {}): HealthReport => ({
  transportState: 'connected',
  protocol: 'udp',
  rttMs: 25,
  signalRttMs: 30,
  lossPct: 0,
  jitterMs: 4,
  bitrateKbps: 1500,
  consumers: 2,
  framesDecoded: 60,
  framesDropped: 0,
  freezeCount: 0,
  freezeMs: 0,
  width: 1280,
  height: 720,
  audioConcealedPct: 0,
  ...over,
});
export const poorReport = (over: Partial<HealthReport> = {}) => goodReport({ rttMs: 900, lossPct: 12, ...over });

/** A session inviting `pointIds`, moved to `state` through the control plane's own actions. */
export async function sessionWith(
  t: TestOrchestrator,
  pointIds: string[],
  state: 'scheduled' | 'lobby' | 'live',
  agenda: { title: string; plannedMinutes: number }[] = [],
): Promise<Session> {
  const sessions = t.orchestrator.control.sessions;
  const now = Date.now();
  const by = { username: 'test-host' };
  const s = await sessions.create(
    {
      title: 'Hội nghị quán triệt Nghị quyết 05-NQ/TU',
      scheduledStart: new Date(now + 3600_000).toISOString(),
      lobbyOpensAt: new Date(now + 1800_000).toISOString(),
      plannedEnd: new Date(now + 3 * 3600_000).toISOString(),
      invite: { mode: 'points', pointIds },
      agenda,
    },
    by,
  );
  await sessions.act(s.id, 'schedule', by);
  if (state === 'scheduled') return (await sessions.get(s.id))!;
  await sessions.act(s.id, 'open-lobby', by);
  if (state === 'live') await sessions.act(s.id, 'start', by);
  return (await sessions.get(s.id))!;
}

/** A few communes of one district, and the district point itself. */
export async function somePoints(t: TestOrchestrator, n: number): Promise<string[]> {
  const all = await t.orchestrator.control.points.all();
  const district = all.find((p) => p.level === 'district')!;
  const communes = all.filter((p) => p.district === district.id && p.level === 'commune').slice(0, n - 1);
  return [district.id, ...communes.map((c) => c.id)];
}

/** A logged-in account's cookie header. */
export async function loginCookie(t: TestOrchestrator, role: 'technician' | 'host' | 'admin'): Promise<string> {
  const username = `${role}-${Math.random().toString(36).slice(2, 8)}`;
  const password = 'mật-khẩu-thử-nghiệm-12345';
  await t.orchestrator.control.accounts.create({ username, role, password });
  const { cookie } = await t.orchestrator.control.auth.login(username, password, '127.0.0.1');
  return `briefing_sid=${encodeURIComponent(cookie)}`;
}

export async function monitorSocket(t: TestOrchestrator, cookie: string | undefined): Promise<ClientSocket> {
  const s = connect(`${t.baseUrl}/monitor`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: cookie ? { cookie } : {},
  });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', reject);
  });
  return s;
}

/**
 * A phone at the check-in API: opening a QR code sets its device cookie (kept here, as a
 * browser would), and its forms go with it.
 */
export class Phone {
  cookie: string | undefined;

  constructor(private readonly baseUrl: string) {}

  /** GET /api/v1/checkin/:token; keeps the device cookie the server sets. */
  async open(token: string, status = 200): Promise<request.Response> {
    const req = request(this.baseUrl).get(`/api/v1/checkin/${token}`);
    if (this.cookie) req.set('Cookie', this.cookie);
    const res = await req.expect(status);
    const set = ([] as string[]).concat((res.headers['set-cookie'] as string[] | string | undefined) ?? []);
    const device = set.find((c) => c.startsWith('briefing_device='));
    if (device) this.cookie = device.split(';')[0];
    return res;
  }

  /** POST /api/v1/checkin with this phone's cookie. */
  send(body: object): request.Test {
    const req = request(this.baseUrl).post('/api/v1/checkin');
    if (this.cookie) req.set('Cookie', this.cookie);
    return req.send(body);
  }

  /** Opens the code and sends the form with its ticket. */
  async checkin(token: string, body: { name: string; position?: string }): Promise<request.Response> {
    const info = (await this.open(token)).body as { ticket: string };
    return this.send({ ticket: info.ticket, ...body });
  }
}
