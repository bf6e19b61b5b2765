// The generator's Socket.IO sockets and requests, typed from the contract's event maps
// (server/contract/namespaces.ts) as the pages' are: a renamed event or a changed payload
// fails the type check here too.
import { io as connect, type Socket } from 'socket.io-client';
import { requester, RequestError, type AnswerOf, type AnyEvents, type PayloadOf } from '../../client/src/net/request';
import type { HostSocket, MonitorSocket } from '../../client/src/net/sockets';

/** A socket on `ns`, resolved once connected; it does not reconnect by itself. */
function open(base: string, ns: string, o: { cookie?: string; token?: string }): Promise<Socket> {
  const s = connect(base + ns, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    auth: o.token ? { token: o.token } : {},
    extraHeaders: o.cookie ? { cookie: o.cookie } : {},
  });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', (e) => {
      s.close();
      reject(e);
    });
  });
}

export const hostSocket = (base: string, cookie: string): Promise<HostSocket> => open(base, '/host', { cookie });
export const monitorSocket = (base: string, cookie: string): Promise<MonitorSocket> =>
  open(base, '/monitor', { cookie });

/** A request with an acknowledgement; throws `<event>: <code> <message>` on a refusal or timeout. */
export async function ask<C extends AnyEvents, K extends keyof C & string>(
  s: Socket<AnyEvents, C>,
  event: K,
  payload: PayloadOf<C[K]>,
  timeoutMs = 15_000,
): Promise<AnswerOf<C[K]>> {
  try {
    return await requester(s, timeoutMs)(event, payload);
  } catch (err) {
    if (err instanceof RequestError) throw new Error(`${event}: ${err.code} ${err.message}`);
    throw err;
  }
}
