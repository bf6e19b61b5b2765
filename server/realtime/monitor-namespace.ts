// The `/monitor` namespace for the network desk (technician, host or admin, by login
// cookie). A watcher gets a snapshot of the session, then batched deltas about once a
// second: only the tiles and alerts that changed, and the totals. One feed (one timer)
// per watched session, shared by every watcher in this process, never one per point
// (./monitor-feed.ts). A watcher may watch a province or a district only
// (`monitor:watch` with `province`, `district`): its snapshot and deltas carry only
// those points, their alerts and their totals.
//
// The feed reads the state from Redis (a few bulk reads per tick), so it shows what every
// server process stored, not only what this one saw. A point's detail view also gets that
// point's samples as they arrive.
//
// With several nodes (a FeedLease set by server/cluster/health-sharing.ts) one process per
// session computes the deltas, the holder of the session's lease, and the Socket.IO Redis
// adapter carries each filter's delta to its watchers on every process: every technician
// with the same filter gets the same deltas, and 420 tiles are read once a second for the
// cluster, not once per node. A process that takes the lease over sends every tile and
// alert in its first delta, since it cannot know what the previous holder sent. A point's
// samples cross to the other nodes only while some process announced its detail view
// open: a health report nobody looks at costs no PUBLISH.
import type { Logger } from 'pino';
import type { AuthUser } from '../auth/auth';
import type { Role } from '../contract/api';
import { monitorRequests, type MonitorSample, type MonitorSnapshot } from '../contract/attendance';
import { cutSnapshot, filterKey } from '../domain/attendance/monitor-filter';
import { AppError } from '../errors';
import type { AttendanceService } from '../domain/attendance/service';
import { monitorDeskRequests } from '../contract/desk';
import type { DeskFloorControl } from './desk-floor';
import { monitorRoom, type DeskTalk } from './desk-talk';
import { askPreflight, type PointModes } from './point-modes';
import { bindRequests } from './requests';
import { handshakeError } from './socket-errors';
import type { MonitorNamespace } from './sockets';
import { detailKey, keyRoom, SessionFeed, type FeedLease } from './monitor-feed';

export type { FeedLease } from './monitor-feed';

export interface MonitorNamespaceOptions {
  nsp: MonitorNamespace;
  service: AttendanceService;
  /** The control plane's cookie check (`control.auth.authenticateCookie`). */
  authenticate: (cookieHeader: string | undefined) => Promise<AuthUser | undefined>;
  logger: Logger;
  /** Delta period (default 1000 ms). */
  periodMs?: number;
  /** The points' modes (./point-modes.ts): the desk reads and sets them. */
  modes: PointModes;
  /** The text channel with the points (./desk-talk.ts). */
  talk: DeskTalk;
  /** The floor, for hosts and admins (./desk-floor.ts). */
  floor: DeskFloorControl;
  /** Several nodes: one delta computer per session (unset: this process is the only one). */
  lease?: FeedLease;
}

const ROLES: readonly Role[] = ['technician', 'host', 'admin'];
const room = monitorRoom;

export interface MonitorFeeds {
  close: () => void;
}

export function attachMonitorNamespace(o: MonitorNamespaceOptions): MonitorFeeds {
  const { nsp } = o;
  const log = o.logger.child({ component: 'monitor' });
  const feeds = new Map<string, SessionFeed>();

  nsp.use((socket, next) => {
    o.authenticate(socket.request.headers.cookie)
      .then((user) => {
        if (!user) return next(handshakeError(new AppError('unauthenticated', 'log in first')));
        if (!ROLES.includes(user.role))
          return next(handshakeError(new AppError('forbidden', 'your role does not allow this')));
        socket.data = { user };
        next();
      })
      .catch((err: unknown) => {
        next(handshakeError(new AppError('unavailable', 'storage is temporarily unavailable; retry', { cause: err })));
      });
  });

  const watch = (s: string, key: string, snap: MonitorSnapshot) => {
    let f = feeds.get(s);
    if (!f) {
      f = new SessionFeed(s, nsp, o.service, log, o.periodMs ?? 1000, o.lease);
      feeds.set(s, f);
    }
    f.seed(snap, key);
    f.add(key);
    f.start();
    o.service.watch(s, 1);
  };
  /** A socket stops watching `s` under `key`, and its detail view with it. */
  const unwatch = (s: string, key: string, detail: string | undefined) => {
    const f = feeds.get(s);
    if (!f) return;
    if (detail) f.remove(detail);
    f.remove(key);
    o.service.watch(s, -1);
    if (f.empty) {
      f.stop();
      feeds.delete(s);
    }
  };

  // A sample goes to the other nodes only while some process announced the point's detail
  // view open (read at most a second ago); otherwise only to this process's own viewers.
  const onSample = (e: MonitorSample) => {
    const key = detailKey(e.pointId);
    const to = keyRoom(e.sessionId, key);
    if (!o.lease || o.lease.watching(e.sessionId, key)) nsp.to(to).emit('sample', e);
    else if (feeds.get(e.sessionId)?.has(key)) nsp.local.to(to).emit('sample', e);
  };
  o.service.on('sample', onSample);

  nsp.on('connection', (socket) => {
    const { user } = socket.data;
    /** The session watched, under which filter key, and the open detail view's key. */
    const state: { watching?: string; key?: string; detail?: string } = {};
    const by = user.username;
    const requireWatching = (sessionId: string) => {
      if (state.watching !== sessionId) throw new AppError('bad_request', 'watch the session first');
    };
    /** After an await: a socket that left meanwhile must not watch or announce anything. */
    const requireConnected = () => {
      if (socket.disconnected) throw new AppError('unavailable', 'the monitor disconnected');
    };
    bindRequests(
      socket,
      monitorRequests,
      {
        'monitor:sessions': () => o.service.monitorSessions(),
        'monitor:watch': async ({ sessionId, province, district }) => {
          const filter = { ...(province ? { province } : {}), ...(district ? { district } : {}) };
          const key = filterKey(filter);
          const snapshot = await o.service.snapshot(sessionId);
          // Gone while the snapshot was read: its disconnect already let go of what it held.
          requireConnected();
          if (state.watching !== sessionId || state.key !== key) {
            // The bookkeeping first, in one go (a disconnect may come while rooms change).
            const was = state.watching;
            const left: string[] = [];
            if (was && state.key && was !== sessionId) {
              // Another session: leave this one, its filter and its detail view.
              left.push(room(was), keyRoom(was, state.key), ...(state.detail ? [keyRoom(was, state.detail)] : []));
              unwatch(was, state.key, state.detail);
              state.detail = undefined;
            } else if (was && state.key) {
              // Another filter of the same session: the detail view stays open.
              left.push(keyRoom(was, state.key));
              feeds.get(was)?.remove(state.key);
              o.service.watch(was, -1);
            }
            state.watching = sessionId;
            state.key = key;
            socket.data.watching = sessionId;
            watch(sessionId, key, snapshot);
            for (const r of left) await socket.leave(r);
            await socket.join([room(sessionId), keyRoom(sessionId, key)]);
          }
          return cutSnapshot(snapshot, filter);
        },
        'monitor:detail': async ({ sessionId, pointId }) => {
          requireWatching(sessionId);
          const detail = await o.service.detail(sessionId, pointId);
          requireConnected();
          const key = detailKey(pointId);
          const feed = feeds.get(sessionId);
          const was = state.detail;
          if (was !== key && state.watching === sessionId) {
            if (was) feed?.remove(was);
            feed?.add(key);
            state.detail = key;
            if (was) await socket.leave(keyRoom(sessionId, was));
            await socket.join(keyRoom(sessionId, key));
          }
          return detail;
        },
        'monitor:undetail': async ({ sessionId }) => {
          requireWatching(sessionId);
          const was = state.detail;
          if (was) {
            feeds.get(sessionId)?.remove(was);
            state.detail = undefined;
            await socket.leave(keyRoom(sessionId, was));
          }
          return {};
        },
        'alert:ack': ({ sessionId, alertId }) => {
          requireWatching(sessionId);
          return o.service.acknowledgeAlert(sessionId, alertId, by);
        },
        'alert:assign': ({ sessionId, alertId, assignee }) => {
          requireWatching(sessionId);
          return o.service.assignAlert(sessionId, alertId, assignee, by);
        },
        'alert:clear': ({ sessionId, alertId }) => {
          requireWatching(sessionId);
          return o.service.clearAlert(sessionId, alertId, by);
        },
        'checkin:void': ({ sessionId, pointId, checkinId, reason }) => {
          requireWatching(sessionId);
          return o.service.voidCheckin({ sessionId, pointId }, checkinId, reason, by);
        },
        'preflight:rerun': async ({ sessionId, pointId }) => {
          requireWatching(sessionId);
          if (pointId) await o.service.requireInvited(sessionId, pointId);
          log.info({ sessionId, pointId: pointId ?? 'all', by }, 'the desk asked for the pre-flight check again');
          askPreflight(o.modes.pointNs, sessionId, pointId);
          return {};
        },
        'point:mode': async ({ sessionId, pointId, mode }) => {
          requireWatching(sessionId);
          await o.service.requireInvited(sessionId, pointId);
          if (!mode) return o.modes.get(sessionId, pointId);
          log.info({ sessionId, pointId, mode, by }, 'the desk set a point mode');
          return o.modes.set(sessionId, pointId, mode, 'desk');
        },
      },
      {},
      log.child({ user: by }),
    );
    const { role } = user;
    bindRequests(
      socket,
      monitorDeskRequests,
      {
        'talk:send': ({ sessionId, to, text }) => {
          requireWatching(sessionId);
          return o.talk.fromDesk(sessionId, by, to, text);
        },
        'talk:history': async ({ sessionId, pointId }) => {
          requireWatching(sessionId);
          await o.service.requireInvited(sessionId, pointId);
          const messages = await o.talk.history(sessionId, pointId);
          await o.talk.markRead(sessionId, pointId);
          return { messages };
        },
        'talk:unread': ({ sessionId }) => {
          requireWatching(sessionId);
          return o.talk.unread(sessionId);
        },
        'floor:state': ({ sessionId }) => {
          requireWatching(sessionId);
          return o.floor.state(sessionId, role);
        },
        'floor:grant': async ({ sessionId, pointId }) => {
          requireWatching(sessionId);
          await o.service.requireInvited(sessionId, pointId);
          log.info({ sessionId, pointId, by }, 'the desk gave a point the floor');
          return o.floor.grant(sessionId, role, pointId);
        },
        'floor:mute': ({ sessionId, muted }) => {
          requireWatching(sessionId);
          log.info({ sessionId, muted, by }, 'the desk muted the floor');
          return o.floor.mute(sessionId, role, muted);
        },
        'floor:revoke': ({ sessionId }) => {
          requireWatching(sessionId);
          log.info({ sessionId, by }, 'the desk took the floor back');
          return o.floor.revoke(sessionId, role);
        },
      },
      {},
      log.child({ user: by }),
    );
    socket.on('disconnect', () => {
      if (state.watching && state.key) unwatch(state.watching, state.key, state.detail);
    });
  });

  return {
    close: () => {
      o.service.off('sample', onSample);
      for (const f of feeds.values()) f.stop();
      feeds.clear();
    },
  };
}
