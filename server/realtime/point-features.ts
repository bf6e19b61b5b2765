// Attendance and health features attached to every authenticated point socket (the
// `/point` namespace in point-namespace.ts calls attachPointFeatures once per connection,
// after the socket joined its session's rooms). Owned by the attendance/monitor work.
//
// The AttendanceService is found through the Socket.IO server the socket belongs to
// (registered once by the orchestrator with `useAttendance(io, service)`), so the
// namespace needs to pass nothing more than who the socket is.
import type { Logger } from 'pino';
import { pointAttendanceRequests } from '../contract/attendance';
import type { PreflightReport } from '../contract/broadcast';
import type { AttendanceService } from '../domain/attendance/service';
import { bindRequests } from './requests';
import type { PointSocket, PointSocketData, SocketServer } from './sockets';

/** Who a point socket is: set by the namespace's token middleware. */
export type PointIdentity = PointSocketData;

export interface PointFeatureContext {
  identity: PointIdentity;
  logger: Logger;
}

const services = new WeakMap<object, AttendanceService>();

/** Called once by the wiring: point sockets of this server report to this service. */
export function useAttendance(io: SocketServer, service: AttendanceService): void {
  services.set(io, service);
}

function serviceOf(socket: PointSocket): AttendanceService | undefined {
  return services.get(socket.nsp.server);
}

// A health report every 2 s, headcount edits and QR refreshes: well below these. A page
// retrying a queue of reports after a blip sends a burst, hence the burst size.
const RATE = { perSecond: 5, burst: 40, disconnectAfter: 400 };

export function attachPointFeatures(socket: PointSocket, ctx: PointFeatureContext): void {
  const service = serviceOf(socket);
  if (!service) {
    ctx.logger.warn('attendance service not registered on this server; point features off');
    return;
  }
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

/**
 * For the broadcast's `preflight:report` handler: keeps the result for the monitor's
 * point detail. Resolves once stored.
 */
export async function recordPreflight(
  socket: PointSocket,
  identity: PointIdentity,
  report: PreflightReport,
): Promise<void> {
  await serviceOf(socket)?.recordPreflight(identity, report);
}

/** For the live session: a media incident into the point's connection events (the monitor's detail). */
export async function recordMediaEvent(socket: PointSocket, identity: PointIdentity, detail: string): Promise<void> {
  await serviceOf(socket)?.recordMediaEvent(identity, detail);
}
