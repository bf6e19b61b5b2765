// `/point`: a connection point's page. The handshake carries the point's join token;
// a valid token binds the socket to one session and one point, for its whole life.
// Points consume only; producing is possible only while the SFU says the point holds
// the floor.
import type { Logger } from 'pino';
import { pointRequests, type IceServer } from '../contract/broadcast';
import type { ControlPlane } from '../assembly/control-plane';
import { AppError } from '../errors';
import type { DeskTalk } from './desk-talk';
import type { LiveBroadcasts } from './live-broadcasts';
import type { LiveSession } from './live-session';
import type { LiveStateStore } from './live-state';
import { attachPointAttendance, type PointAttendance } from './point-attendance';
import { pointRoom, type PointModes } from './point-modes';
import { bindRequests, deferHandlers, type Handlers } from './requests';
import { rtcHandlers, type RtcSocketState } from './rtc-handlers';
import { handshakeError } from './socket-errors';
import type { PointNamespace, PointSocketData } from './sockets';

export interface PointNamespaceDeps {
  /** Where the point's presence, health, headcount and problems go. */
  attendance: PointAttendance;
  control: ControlPlane;
  broadcasts: LiveBroadcasts;
  store: LiveStateStore;
  modes: PointModes;
  /** The point's text channel with the desk. */
  talk: DeskTalk;
  logger: Logger;
  iceServers?: (peerId: string) => IceServer[];
}

export function setupPointNamespace(ns: PointNamespace, deps: PointNamespaceDeps): void {
  const log = deps.logger.child({ component: 'point-ns' });

  ns.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string') return next(handshakeError(new AppError('token_invalid', 'no join token')));
    deps.control.links.verifyJoinToken(token).then(
      (claims) => {
        socket.data = { sessionId: claims.sessionId, pointId: claims.pointId } satisfies PointSocketData;
        next();
      },
      (err: unknown) => next(handshakeError(err)),
    );
  });

  ns.on('connection', (socket) => {
    const { sessionId, pointId } = socket.data;
    /** The page's receive capabilities and its current receive transport (a new one replaces it). */
    const rtc: RtcSocketState = {};
    const plog = log.child({ sessionId, pointId });
    // Handlers are bound at once, before the session lookup resolves, so that a page's
    // first requests (sent the moment it connects) are never dropped; each waits for
    // the point to be attached to its live session.
    const attached = deps.broadcasts.get(sessionId).then((live) => {
      if (socket.connected) live.points.attach(socket, pointId);
      return live;
    });
    // The point's kept mode, to its page now and whenever the desk changes it.
    void socket.join(pointRoom(sessionId, pointId));
    deps.modes.get(sessionId, pointId).then(
      (m) => m.at && socket.emit('mode', m),
      (err: unknown) => plog.warn({ err }, 'could not read the point mode'),
    );
    attached.catch((err: unknown) => {
      plog.warn({ err }, 'could not open the live session for a point');
      socket.emit('kicked', { reason: 'Phiên không còn tồn tại · the session is gone' });
      socket.disconnect(true);
    });
    socket.on('disconnect', (reason) => {
      plog.debug({ reason }, 'point disconnected');
      attached.then((live) => live.points.detach(socket, pointId)).catch(() => undefined);
    });
    const handlersFor = (live: LiveSession): Handlers<typeof pointRequests, PointSocketData> => ({
      'view:get': () => live.view(),
      ...rtcHandlers<PointSocketData>(
        {
          peerId: pointId,
          room: () => live.requireRoom(),
          iceServers: deps.iceServers,
          // The floor's microphone, published again while the desk has it muted, stays muted.
          startPaused: (kind, source) => source === 'floor-mic' && live.liveState.floorMutedByDesk,
          // A send transport needs the floor, whose grant made the point a peer already:
          // a refused request must leave no peer behind.
          beforeTransport: async (room, direction) => {
            if (direction !== 'recv') return;
            room.addViewer(pointId);
            // A page back after a cut receives in the mode it had, from its first consumer.
            const { mode } = await deps.modes.get(sessionId, pointId);
            if (mode !== 'full') await room.setViewerMode(pointId, mode);
          },
          onRecvTransport: () => live.points.videoTransportReset(pointId),
          onConsumerResumed: (consumerId, kind) => {
            if (kind === 'video') live.points.videoConsumerResumed(pointId, consumerId);
          },
        },
        rtc,
      ),
      'mode:set': async ({ mode }) => {
        const room = await live.requireRoom();
        room.addViewer(pointId);
        await room.setViewerMode(pointId, mode);
        // The same mode again (the page applying the desk's choice) keeps who chose it.
        if ((await deps.modes.get(sessionId, pointId)).mode !== mode) {
          await deps.modes.set(sessionId, pointId, mode, 'point');
        }
        return { mode };
      },
      'hand:raise': async () => ({ position: await live.hands.raise(pointId) }),
      'hand:lower': async () => {
        await live.hands.lower(pointId);
        return {};
      },
      'preflight:report': async (report) => {
        await deps.store.savePreflight(sessionId, pointId, report);
        // Also into the point's connection events, shown on the monitor.
        await deps.attendance.recordPreflight({ sessionId, pointId }, report);
        return {};
      },
    });
    const ready = attached.then(handlersFor);
    ready.catch(() => undefined); // reported above; requests then answer with an error
    bindRequests(socket, pointRequests, deferHandlers(pointRequests, ready), socket.data, plog);
    deps.talk.bindPoint(socket, { sessionId, pointId }, plog);
    attachPointAttendance(socket, { attendance: deps.attendance, identity: { sessionId, pointId }, logger: plog });
    plog.debug('point connected');
  });
}
