// Attendance and health features attached to every authenticated point socket (the
// `/point` namespace in point-namespace.ts calls attachPointFeatures once per connection,
// after the socket joined its session's rooms). Owned by the attendance/monitor work.
import type { Socket } from 'socket.io';
import type { Logger } from 'pino';

/** Who a point socket is: set by the namespace's token middleware. */
export interface PointIdentity {
  sessionId: string;
  pointId: string;
}

export interface PointFeatureContext {
  identity: PointIdentity;
  logger: Logger;
}

export function attachPointFeatures(_socket: Socket, _ctx: PointFeatureContext): void {
  // Filled by the attendance and health work (issue 5).
}
