// The Socket.IO server and its three namespaces, typed from the contract's event maps
// (server/contract/namespaces.ts) with what each socket carries in `socket.data`. Every
// module reaches a namespace through `socketNamespaces`, so a push or a handler's payload
// that does not match the contract fails the type check.
import type { Namespace, Server, Socket } from 'socket.io';
import type { AuthUser } from '../auth/auth';
import type {
  HostClientEvents,
  HostServerEvents,
  InterServerEvents,
  MonitorClientEvents,
  MonitorServerEvents,
  PointClientEvents,
  PointServerEvents,
} from '../contract/namespaces';

/** No events on the main namespace `/`: it only carries the handshake checks (security/socket-gate.ts). */
type NoEvents = Record<string, never>;
export type SocketServer = Server<NoEvents, NoEvents, InterServerEvents>;

/** Who a point socket is: set by the namespace's join-token check, for the socket's whole life. */
export interface PointSocketData {
  sessionId: string;
  pointId: string;
}

/** A socket authenticated by a login cookie (`/host`, `/monitor`). */
export interface LoginSocketData {
  user: AuthUser;
}

export interface HostSocketData extends LoginSocketData {
  /** This console's peer in the room (one per socket). */
  peerId: string;
}

export interface MonitorSocketData extends LoginSocketData {
  /** The session this monitor page watches (`monitor:watch`), if any. */
  watching?: string;
}

export type PointNamespace = Namespace<PointClientEvents, PointServerEvents, InterServerEvents, PointSocketData>;
export type PointSocket = Socket<PointClientEvents, PointServerEvents, InterServerEvents, PointSocketData>;
export type HostNamespace = Namespace<HostClientEvents, HostServerEvents, InterServerEvents, HostSocketData>;
export type HostSocket = Socket<HostClientEvents, HostServerEvents, InterServerEvents, HostSocketData>;
export type MonitorNamespace = Namespace<
  MonitorClientEvents,
  MonitorServerEvents,
  InterServerEvents,
  MonitorSocketData
>;
export type MonitorSocket = Socket<MonitorClientEvents, MonitorServerEvents, InterServerEvents, MonitorSocketData>;

export interface SocketNamespaces {
  point: PointNamespace;
  host: HostNamespace;
  monitor: MonitorNamespace;
}

/** The one place a namespace's name meets its types. */
export function socketNamespaces(io: SocketServer): SocketNamespaces {
  return { point: io.of('/point'), host: io.of('/host'), monitor: io.of('/monitor') };
}
