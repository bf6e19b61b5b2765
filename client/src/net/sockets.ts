// The pages' Socket.IO sockets, typed from the contract's event maps
// (server/contract/namespaces.ts): a push the server does not send, or a payload shaped
// otherwise, fails the type check here as it does on the server.
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type {
  HostClientEvents,
  HostServerEvents,
  MonitorClientEvents,
  MonitorServerEvents,
  PointClientEvents,
  PointServerEvents,
} from '../../../server/contract/namespaces';

export type PointSocket = Socket<PointServerEvents, PointClientEvents>;
export type HostSocket = Socket<HostServerEvents, HostClientEvents>;
export type MonitorSocket = Socket<MonitorServerEvents, MonitorClientEvents>;

type Options = Partial<ManagerOptions & SocketOptions>;

export const connectPoint = (opts: Options): PointSocket => io('/point', opts);
export const connectHost = (opts: Options): HostSocket => io('/host', opts);
export const connectMonitor = (opts: Options): MonitorSocket => io('/monitor', opts);
