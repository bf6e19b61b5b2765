// A login's open sockets end with the login. Every socket authenticated by a login cookie
// (`/host`, `/monitor`) joins two rooms: its user's and its login's. When an account is
// disabled, deleted, its role or password changed (Auth.endAllLogins), every socket of
// that user is disconnected; on logout, the sockets of that one login. Through the
// Socket.IO Redis adapter (several nodes) the disconnect reaches every node.
//
// A handshake that authenticated just before its login ended could join its rooms just
// after the disconnect went out: each socket checks its login once more after joining.
import type { Logger } from 'pino';
import type { Server, Socket } from 'socket.io';
import type { Auth, AuthUser } from '../auth/auth';

/** The namespaces whose sockets a login cookie authenticates. */
export const LOGIN_NAMESPACES = ['/host', '/monitor'] as const;

export const loginRooms = {
  user: (userId: string) => `auth:u:${userId}`,
  login: (loginId: string) => `auth:l:${loginId}`,
};

const userOf = (socket: Socket): Partial<AuthUser> | undefined =>
  (socket.data as { user?: Partial<AuthUser> } | undefined)?.user;

export function closeSocketsOfEndedLogins(io: Server, auth: Auth, logger: Logger): () => void {
  const log = logger.child({ component: 'login-sockets' });
  for (const name of LOGIN_NAMESPACES) {
    io.of(name).on('connection', (socket: Socket) => {
      const user = userOf(socket);
      if (!user?.userId || !user.loginId) return;
      const { userId, loginId, role } = user;
      void socket.join([loginRooms.user(userId), loginRooms.login(loginId)]);
      auth.authenticateCookie(socket.request.headers.cookie).then(
        (now) => {
          if (now?.loginId === loginId && now.role === role) return;
          log.info({ namespace: name, username: user.username }, 'login ended during the handshake: socket closed');
          socket.disconnect(true);
        },
        () => undefined, // Redis down: the handshake itself just passed; the next one checks.
      );
    });
  }
  return auth.onLoginsEnded((e) => {
    const room = 'userId' in e ? loginRooms.user(e.userId) : loginRooms.login(e.loginId);
    for (const name of LOGIN_NAMESPACES) io.of(name).in(room).disconnectSockets(true);
    log.info({ ...e }, 'login ended: its sockets closed on every node');
  });
}
