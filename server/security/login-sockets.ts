// A login's open sockets end with the login. Every socket authenticated by a login cookie
// (`/host`, `/monitor`) joins two rooms: its user's and its login's. When an account is
// disabled, deleted, its role or password changed (Auth.endAllLogins), every socket of
// that user is disconnected; on logout, the sockets of that one login. Through the
// Socket.IO Redis adapter (several nodes) the disconnect reaches every node.
//
// A handshake that authenticated just before its login ended could join its rooms just
// after the disconnect went out: each socket checks its login once more after joining.
import type { Logger } from 'pino';
import type { Auth } from '../auth/auth';
import type { HostSocket, MonitorSocket, SocketNamespaces } from '../realtime/sockets';

export const loginRooms = {
  user: (userId: string) => `auth:u:${userId}`,
  login: (loginId: string) => `auth:l:${loginId}`,
};

export function closeSocketsOfEndedLogins(
  namespaces: Pick<SocketNamespaces, 'host' | 'monitor'>,
  auth: Auth,
  logger: Logger,
): () => void {
  const log = logger.child({ component: 'login-sockets' });
  const logins = [namespaces.host, namespaces.monitor];
  const joined = (socket: HostSocket | MonitorSocket) => {
    const { user } = socket.data;
    const { userId, loginId, role } = user;
    void socket.join([loginRooms.user(userId), loginRooms.login(loginId)]);
    auth.authenticateCookie(socket.request.headers.cookie).then(
      (now) => {
        if (now?.loginId === loginId && now.role === role) return;
        log.info(
          { namespace: socket.nsp.name, username: user.username },
          'login ended during the handshake: socket closed',
        );
        socket.disconnect(true);
      },
      () => undefined, // Redis down: the handshake itself just passed; the next one checks.
    );
  };
  namespaces.host.on('connection', joined);
  namespaces.monitor.on('connection', joined);
  return auth.onLoginsEnded((e) => {
    const room = 'userId' in e ? loginRooms.user(e.userId) : loginRooms.login(e.loginId);
    for (const ns of logins) ns.in(room).disconnectSockets(true);
    log.info({ ...e }, 'login ended: its sockets closed on every node');
  });
}
