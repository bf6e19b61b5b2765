// Attendance, connection health, alerts, the monitor and reports, built once around the
// store connection and the control plane, and attached to the app:
//   - point sockets report to `service` (the live broadcast is built with it:
//     realtime/point-attendance.ts);
//   - the `/monitor` namespace (realtime/monitor-namespace.ts) and the room view
//     (realtime/room-views.ts);
//   - REST under /api/v1 (http/attendance-routes.ts);
//   - the BullMQ queue `attendance-jobs` (alert checks, reports).
//
// It is built before the live broadcast and reads the SFU's per-point view through `sfu`
// (the sessions on the air, server/realtime/on-air.ts); on a node of several, `cluster`
// shares the points' health and the monitor with the other nodes.
import type { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { ControlPlane } from './control-plane';
import { AttendanceService, type HealthCluster, type SfuStatsSource } from '../domain/attendance/service';
import { AlertWebhooks } from '../domain/health/alert-webhooks';
import { attendanceRouter } from '../http/attendance-routes';
import type { ApiBuilder } from '../http/api/route';
import { attachMonitorNamespace, type FeedLease, type MonitorFeeds } from '../realtime/monitor-namespace';
import type { DeskFloorControl } from '../realtime/desk-floor';
import type { DeskTalk } from '../realtime/desk-talk';
import { PointModes } from '../realtime/point-modes';
import { RoomViews } from '../realtime/room-views';
import type { SocketNamespaces } from '../realtime/sockets';

export interface AttendanceModuleOptions {
  config: Config;
  logger: Logger;
  redis: Redis;
  redisUrl: string;
  control: Pick<ControlPlane, 'sessions' | 'points' | 'events' | 'auth' | 'keys'>;
  namespaces: Pick<SocketNamespaces, 'point' | 'monitor'>;
  publicUrl: () => string;
  sfu: SfuStatsSource;
  /** Several nodes (server/cluster/health-sharing.ts); unset for one process. */
  cluster?: { health: HealthCluster; lease: FeedLease };
  /** The desk's text channel and floor controls on the monitor. */
  desk: { talk: DeskTalk; floor: DeskFloorControl };
}

export class AttendanceModule {
  readonly service: AttendanceService;
  /** Its HTTP routes and their declarations, for the OpenAPI document. */
  readonly routes: { router: Router; api: ApiBuilder };
  readonly #monitor: MonitorFeeds;
  readonly #roomViews: RoomViews;
  readonly #webhooks: AlertWebhooks | undefined;
  #closing: Promise<void> | undefined;

  constructor(o: AttendanceModuleOptions) {
    const urls = o.config.health.webhookUrls;
    this.#webhooks = urls.length
      ? new AlertWebhooks({
          urls,
          key: o.control.keys.for('alert-webhook'),
          logger: o.logger.child({ component: 'alert-webhooks' }),
        })
      : undefined;
    this.service = new AttendanceService({
      alertWebhooks: this.#webhooks,
      config: o.config,
      logger: o.logger,
      redis: o.redis,
      redisUrl: o.redisUrl,
      sessions: o.control.sessions,
      points: o.control.points,
      events: o.control.events,
      publicUrl: o.publicUrl,
      checkinKey: o.control.keys.for('checkin'),
      sfu: o.sfu,
      cluster: o.cluster?.health,
    });
    this.service.start();
    this.routes = attendanceRouter(this.service, o.redis, o.control.auth);
    this.#monitor = attachMonitorNamespace({
      nsp: o.namespaces.monitor,
      service: this.service,
      authenticate: (cookie) => o.control.auth.authenticateCookie(cookie),
      logger: o.logger,
      modes: new PointModes(o.redis, o.namespaces.point),
      talk: o.desk.talk,
      floor: o.desk.floor,
      lease: o.cluster?.lease,
    });
    this.#roomViews = new RoomViews({
      pointNs: o.namespaces.point,
      monitorNs: o.namespaces.monitor,
      redis: o.redis,
      requireInvited: (sessionId, pointId) => this.service.requireInvited(sessionId, pointId),
      sessionState: async (sessionId) => (await o.control.sessions.get(sessionId))?.state,
      logger: o.logger,
    });
  }

  /** After HTTP and sockets are closed, before Redis quits: timers, then worker and queue. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#monitor.close();
      this.#roomViews.close();
      await this.service.close();
      await this.#webhooks?.close();
    })();
    return this.#closing;
  }
}
