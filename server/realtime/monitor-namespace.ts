// The `/monitor` namespace for the network desk (technician, host or admin, by login
// cookie). A watcher gets a snapshot of the session, then batched deltas about once a
// second: only the tiles and alerts that changed, and the totals. One feed (one timer)
// per watched session, shared by every watcher in this process, never one per point.
//
// The feed reads the state from Redis (a few bulk reads per tick), so it shows what every
// server process stored, not only what this one saw. A point's detail view also gets that
// point's samples as they arrive.
//
// With several nodes (a FeedLease set by server/cluster/health-sharing.ts) one process per
// session computes the deltas, the holder of the session's lease, and the Socket.IO Redis
// adapter carries each delta to the watchers of every process: every technician gets the
// same deltas, and 420 tiles are read once a second for the cluster, not once per node.
// A process that takes the lease over sends every tile and alert in its first delta,
// since it cannot know what the previous holder sent.
import type { Logger } from 'pino';
import type { AuthUser } from '../auth/auth';
import type { Role } from '../contract/api';
import {
  monitorRequests,
  type Alert,
  type MonitorDelta,
  type MonitorSample,
  type MonitorSnapshot,
  type PointTile,
} from '../contract/attendance';
import { AppError } from '../errors';
import type { AttendanceService } from '../domain/attendance/service';
import { monitorDeskRequests } from '../contract/desk';
import type { DeskFloorControl } from './desk-floor';
import { monitorRoom, type DeskTalk } from './desk-talk';
import { askPreflight, type PointModes } from './point-modes';
import { bindRequests } from './requests';
import { handshakeError } from './socket-errors';
import type { MonitorNamespace } from './sockets';

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

/** One delta computer per session across processes (server/cluster/monitor-lease.ts). */
export interface FeedLease {
  /** Takes or renews the session's lease; true while this process holds it. */
  hold(sessionId: string): Promise<boolean>;
  /** Lets it go (this process's last watcher of the session left). */
  release(sessionId: string): Promise<void>;
}

const ROLES: readonly Role[] = ['technician', 'host', 'admin'];
const room = monitorRoom;
const detailRoom = (s: string, p: string) => `mon:${s}:p:${p}`;

class SessionFeed {
  watchers = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #seq = 0;
  #tiles = new Map<string, string>();
  #alerts = new Map<string, string>();
  #session = '';
  #totals = '';
  /** This process held the lease at the last tick. */
  #leader = false;

  constructor(
    readonly sessionId: string,
    private readonly nsp: MonitorNamespace,
    private readonly service: AttendanceService,
    private readonly log: Logger,
    private readonly periodMs: number,
    private readonly lease: FeedLease | undefined,
  ) {}

  /** A new feed starts from the snapshot its first watcher got, so its first delta is small. */
  seed(snap: MonitorSnapshot): void {
    if (this.#seq > 0 || this.#tiles.size > 0) return;
    for (const tile of snap.points) this.#tiles.set(tile.id, JSON.stringify(tile));
    for (const a of snap.alerts) this.#alerts.set(a.id, JSON.stringify(a));
    this.#totals = JSON.stringify([snap.province, snap.districts]);
    this.#session = JSON.stringify(snap.session);
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.tick(), this.periodMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#leader) {
      this.#leader = false;
      this.lease?.release(this.sessionId).catch(() => undefined);
    }
  }

  async tick(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      let full = false;
      const lease = this.lease;
      if (lease) {
        if (!(await lease.hold(this.sessionId))) {
          this.#leader = false;
          return;
        }
        if (!this.#timer) return void (await lease.release(this.sessionId)); // stopped meanwhile
        full = !this.#leader;
        this.#leader = true;
      }
      const at = new Date().toISOString();
      const [t, alerts] = await Promise.all([
        this.service.tiles(this.sessionId),
        this.service.alerts.list(this.sessionId),
      ]);
      const points: PointTile[] = [];
      for (const tile of t.tiles) {
        const j = JSON.stringify(tile);
        if (full || this.#tiles.get(tile.id) !== j) {
          this.#tiles.set(tile.id, j);
          points.push(tile);
        }
      }
      const changedAlerts: Alert[] = [];
      for (const a of alerts) {
        const j = JSON.stringify(a);
        if (full || this.#alerts.get(a.id) !== j) {
          this.#alerts.set(a.id, j);
          changedAlerts.push(a);
        }
      }
      const totals = JSON.stringify([t.province, t.districts]);
      const session = JSON.stringify(t.session);
      const sessionChanged = session !== this.#session;
      if (!full && points.length === 0 && changedAlerts.length === 0 && totals === this.#totals && !sessionChanged)
        return;
      this.#totals = totals;
      this.#session = session;
      const delta: MonitorDelta = {
        sessionId: this.sessionId,
        seq: ++this.#seq,
        at,
        points,
        province: t.province,
        districts: t.districts,
        alerts: changedAlerts,
        ...(sessionChanged ? { session: t.session } : {}),
      };
      this.nsp.to(room(this.sessionId)).emit('delta', delta);
    } catch (err) {
      this.log.debug({ err: (err as Error).message, sessionId: this.sessionId }, 'monitor tick failed');
    } finally {
      this.#running = false;
    }
  }
}

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

  const watch = (s: string, snap: MonitorSnapshot) => {
    let f = feeds.get(s);
    if (!f) {
      f = new SessionFeed(s, nsp, o.service, log, o.periodMs ?? 1000, o.lease);
      feeds.set(s, f);
    }
    f.seed(snap);
    f.watchers++;
    f.start();
    o.service.watch(s, 1);
  };
  const unwatch = (s: string) => {
    const f = feeds.get(s);
    if (!f) return;
    o.service.watch(s, -1);
    if (--f.watchers <= 0) {
      f.stop();
      feeds.delete(s);
    }
  };

  const onSample = (e: MonitorSample) => {
    nsp.to(detailRoom(e.sessionId, e.pointId)).emit('sample', e);
  };
  o.service.on('sample', onSample);

  nsp.on('connection', (socket) => {
    const { user } = socket.data;
    const state: { watching?: string; detail?: string } = {};
    const by = user.username;
    const requireWatching = (sessionId: string) => {
      if (state.watching !== sessionId) throw new AppError('bad_request', 'watch the session first');
    };
    bindRequests(
      socket,
      monitorRequests,
      {
        'monitor:sessions': () => o.service.monitorSessions(),
        'monitor:watch': async ({ sessionId }) => {
          const snapshot = await o.service.snapshot(sessionId);
          if (state.watching !== sessionId) {
            if (state.watching) {
              await socket.leave(room(state.watching));
              unwatch(state.watching);
            }
            state.watching = sessionId;
            socket.data.watching = sessionId;
            await socket.join(room(sessionId));
            watch(sessionId, snapshot);
          }
          return snapshot;
        },
        'monitor:detail': async ({ sessionId, pointId }) => {
          requireWatching(sessionId);
          const detail = await o.service.detail(sessionId, pointId);
          if (state.detail) await socket.leave(state.detail);
          state.detail = detailRoom(sessionId, pointId);
          await socket.join(state.detail);
          return detail;
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
      if (state.watching) unwatch(state.watching);
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
