// The monitor's calls to room systems (dial-out, server/sip/dial-out.ts): `sip:dial` and
// `sip:hangup` for hosts and admins (a technician watches only, as for the floor), and
// each step of a call pushed to the session's monitors (`sip:dial`).
import type { Logger } from 'pino';
import type { Role } from '../contract/api';
import type { DialStatus } from '../contract/dial-out';
import { monitorDialRequests } from '../contract/dial-out';
import { AppError, forbidden } from '../errors';
import type { DialOut } from '../sip/dial-out';
import { monitorRoom } from './desk-talk';
import { bindRequests } from './requests';
import type { MonitorNamespace } from './sockets';

/** Who may have the server call a room system (the floor's roles, realtime/desk-floor.ts). */
const DIAL_ROLES: readonly Role[] = ['host', 'admin'];

/** Where each step of a call goes: the session's monitors. */
export function dialStatusTo(nsp: MonitorNamespace): (s: DialStatus) => void {
  return (s) => nsp.to(monitorRoom(s.sessionId)).emit('sip:dial', s);
}

/**
 * Binds the requests on every monitor socket (authenticated by the monitor's own
 * middleware); without the SIP gateway (`dialOut` undefined) they answer `unavailable`.
 */
export function attachDialRequests(nsp: MonitorNamespace, dialOut: DialOut | undefined, logger: Logger): void {
  const log = logger.child({ component: 'desk-dial' });
  nsp.on('connection', (socket) => {
    const { user } = socket.data;
    const allowed = (): DialOut => {
      if (!DIAL_ROLES.includes(user.role)) throw forbidden('only hosts and admins have room systems called');
      if (!dialOut) throw new AppError('unavailable', 'the SIP gateway is off on this server (SIP_PORT unset)');
      return dialOut;
    };
    bindRequests(
      socket,
      monitorDialRequests,
      {
        'sip:dial': ({ sessionId, pointId, address }) => {
          const calls = allowed();
          log.info({ sessionId, pointId, by: user.username }, 'the desk calls a room system');
          return calls.dial(sessionId, pointId, address);
        },
        'sip:hangup': ({ sessionId, pointId }) => {
          const calls = allowed();
          log.info({ sessionId, pointId, by: user.username }, 'the desk hangs up a room system');
          calls.hangUp(sessionId, pointId);
          return { ok: true as const };
        },
      },
      {},
      log.child({ user: user.username }),
    );
  });
}
