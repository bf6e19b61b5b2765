// The Socket.IO namespaces and the events each carries both ways, in socket.io's typed
// form: the server types its namespaces with them (server/realtime/sockets.ts) and each
// page its socket, `Socket<ServerEvents, ClientEvents>`. A renamed event or a changed
// payload fails the type check on both sides (tests/unit/socket-types.check.ts).
// Requests go client → server with an ack; pushes go server → client.
import type { MonitorPushes, MonitorRequests, PointAttendanceRequests } from './attendance';
import type { HostPushes, HostRequests, PointPushes, PointRequests } from './broadcast';
import type { ClusterMonitorRequests } from './cluster';
import type { MonitorDialRequests, monitorDialPushes } from './dial-out';
import type { HostTalkRequests, MonitorDeskRequests, monitorTalkPushes, PointTalkRequests, talkPushes } from './desk';
import type {
  RoomViewMonitorPushes,
  RoomViewMonitorRequests,
  RoomViewPointPushes,
  RoomViewPointRequests,
} from './room-view';
import type { PushEvents, RequestEvents } from './socket';

/** `/point`: a connection point's page (join token): the broadcast's requests and attendance's. */
export type PointClientEvents = RequestEvents<
  PointRequests & PointAttendanceRequests & RoomViewPointRequests & PointTalkRequests
>;
export type PointServerEvents = PushEvents<PointPushes & RoomViewPointPushes & typeof talkPushes>;

/** `/host`: the host console (login cookie). */
export type HostClientEvents = RequestEvents<HostRequests & HostTalkRequests>;
export type HostServerEvents = PushEvents<HostPushes & typeof talkPushes>;

/** `/monitor`: the network desk (login cookie); `cluster:nodes` answers on a cluster only. */
export type MonitorClientEvents = RequestEvents<
  MonitorRequests & ClusterMonitorRequests & RoomViewMonitorRequests & MonitorDeskRequests & MonitorDialRequests
>;
export type MonitorServerEvents = PushEvents<
  MonitorPushes & RoomViewMonitorPushes & typeof monitorTalkPushes & typeof monitorDialPushes
>;

/**
 * Between server processes: nothing of ours. The Redis adapter carries room broadcasts,
 * `fetchSockets` and `disconnectSockets` itself.
 */
export type InterServerEvents = Record<string, never>;
