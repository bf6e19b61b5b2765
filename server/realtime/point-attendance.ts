// Attendance and health features attached to every authenticated point socket (the
// `/point` namespace in point-namespace.ts calls attachPointAttendance once per connection,
// after the socket joined its session's rooms), reporting to the attendance service the
// namespace was built with.
import type { Logger } from 'pino';
import { pointAttendanceRequests } from '../contract/attendance';
import type { AttendanceService } from '../domain/attendance/service';
import { bindRequests } from './requests';
import type { PointSocket, PointSocketData } from './sockets';

/** Who a point socket is: set by the namespace's token middleware. */
export type PointIdentity = PointSocketData;

/** What the live broadcast tells attendance of its points (AttendanceService). */
export type PointAttendance = Pick<
  AttendanceService,
  | 'pointConnected'
  | 'pointDisconnected'
  | 'reportHeadcount'
  | 'healthReport'
  | 'reportProblem'
  | 'checkinQr'
  | 'mine'
  | 'recordPreflight'
  | 'recordMediaEvent'
  | 'recordingDiskAlert'
  | 'recordingDiskResolved'
>;

export interface PointAttendanceContext {
  attendance: PointAttendance;
  identity: PointIdentity;
  logger: Logger;
}

// A health report every 2 s, headcount edits and QR refreshes: well below these. A page
// retrying a queue of reports after a blip sends a burst, hence the burst size.
const RATE = { perSecond: 5, burst: 40, disconnectAfter: 400 };

export function attachPointAttendance(socket: PointSocket, ctx: PointAttendanceContext): void {
  const service = ctx.attendance;
  const id = { sessionId: ctx.identity.sessionId, pointId: ctx.identity.pointId };
  const log = ctx.logger.child({ component: 'attendance', ...id });
  service.pointConnected(id, socket.id);
  socket.once('disconnect', (reason) => service.pointDisconnected(id, socket.id, reason));
  bindRequests(
    socket,
    pointAttendanceRequests,
    {
      'headcount:report': ({ count, by }) => service.reportHeadcount(id, count, by),
      'health:report': async (r) => ({ status: await service.healthReport(id, socket.id, r) }),
      'problem:report': ({ kind, note }) => service.reportProblem(id, kind, note),
      'checkin:qr': () => service.checkinQr(id),
      'attendance:mine': () => service.mine(id),
    },
    id,
    log,
    RATE,
  );
}
