// A briefing prepared through the real HTTP API (scripts/lib/briefing-api.ts) as the tests'
// admin, and socket clients of the namespaces.
import { io as connect, type Socket } from 'socket.io-client';
import { login as apiLogin, prepareBriefing as prepare } from '../../scripts/lib/briefing-api';

export const TEST_ADMIN = { username: 'admin', password: 'test-admin-password-1' };
export const ADMIN_ENV = { ADMIN_USERNAME: TEST_ADMIN.username, ADMIN_PASSWORD: TEST_ADMIN.password };

/** The four resolutions and the conclusion of 18 January 2022 (server/data/reference-briefing.ts). */
export { REFERENCE_AGENDA, REFERENCE_TITLE } from '../../server/data/reference-briefing';
export { trustCa, type PreparedBriefing } from '../../scripts/lib/briefing-api';

/** The reference admin of the tests (created from ADMIN_ENV). */
export const login = (baseUrl: string, user = TEST_ADMIN) => apiLogin(baseUrl, user);

/**
 * A session with the given points invited, in its lobby (or, with `startInMinutes` over
 * 60, scheduled with its lobby still ahead); logged in as TEST_ADMIN unless told.
 */
export const prepareBriefing = (
  baseUrl: string,
  pointIds: string[],
  opts: { startInMinutes?: number; user?: { username: string; password: string } } = {},
) => prepare(baseUrl, pointIds, { user: TEST_ADMIN, ...opts });

/**
 * A socket.io client for a namespace, connected (or rejected with the server's code).
 * `own`: on a connection of its own (sockets of one URL otherwise share the first one's
 * connection, and with it its cookie).
 */
export function connectSocket(
  baseUrl: string,
  ns: '/point' | '/host' | '/monitor',
  opts: { token?: string; cookie?: string; own?: boolean },
): Promise<Socket> {
  const socket = connect(baseUrl + ns, {
    forceNew: opts.own ?? false,
    transports: ['websocket'],
    reconnection: false,
    auth: opts.token ? { token: opts.token } : {},
    extraHeaders: opts.cookie ? { cookie: opts.cookie } : {},
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err: Error & { data?: { code?: string; reason?: string } }) => {
      socket.close();
      reject(Object.assign(new Error(err.message), { code: err.data?.code, reason: err.data?.reason }));
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

/**
 * The hall's camera and microphone as a plain RTP ingest opened by an attached console:
 * what the server requires before going live. No packet needs to flow for that.
 */
export async function publishHall(
  host: Socket,
): Promise<{ video: { producerId: string }; audio: { producerId: string } }> {
  const ack = (await host.timeout(10_000).emitWithAck('ingest:plain', {
    video: { ssrc: 1111, payloadType: 101 },
    audio: { ssrc: 2222, payloadType: 100 },
  })) as { ok: boolean; data?: { video: { producerId: string }; audio: { producerId: string } }; error?: unknown };
  if (!ack.ok || !ack.data) throw new Error(`ingest:plain refused: ${JSON.stringify(ack.error)}`);
  return ack.data;
}
