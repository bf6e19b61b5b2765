// Starts and stops the whole control server around its dependencies, in a fixed order.
// main.ts adds the process concerns (embedded Redis, signals, forced exit); tests use
// this directly with port 0.
import type { AddressInfo } from 'node:net';
import type { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { setMediasoupLogSink, WorkerPool } from '../../sfu';
import { createApp, serveRoutes, type App } from './app';
import type { Config } from '../config';
import { ControlPlane } from './control-plane';
import { AttendanceModule } from './attendance';
import { RecordingModule } from './recording';
import { connectRedis, waitForRedis } from '../redis/connect';
import { attachRealtime, type Realtime } from '../realtime';
import { SINGLE_NODE } from '../realtime/cluster-port';
import { OnAir } from '../realtime/on-air';
import { DeskFloorControl } from '../realtime/desk-floor';
import { DeskTalk } from '../realtime/desk-talk';
import { TalkStore } from '../domain/talk/store';
import { attachCluster, joinCluster, type Cluster, type ClusterMembership } from '../cluster';
import { standaloneClusterRouter } from '../cluster/standalone';
import { roomFigures, sfuStatsSource } from '../realtime/sfu-stats';
import type { IceServer } from '../contract/broadcast';
import { Front, type FrontOptions } from '../net/listener';
import { PublicUrl } from '../net/public-url';
import type { ReadinessCheck } from '../http/health';
import type { ProductSources } from '../http/product-metrics';
import { FirstRun } from '../setup/first-run';

/** What the process start adds around the orchestrator (server/launch.ts). */
export interface OrchestratorExtras {
  /** TURN relays handed to each page with its transports (server/net/turn.ts). */
  iceServers?: (peerId: string) => IceServer[];
  /** Routes of the process start (the local CA's page), mounted before the fallbacks. */
  routers?: Router[];
  /** HTTPS on the listening port, plain HTTP redirected (server/net/listener.ts). */
  tls?: Omit<FrontOptions, 'app' | 'publicUrl'>;
  /** Readiness of the process start's own services (the embedded coturn), on /readyz. */
  readiness?: ReadinessCheck[];
  /** Restarts of the embedded redis-server and coturn, on /metrics. */
  processRestarts?: () => Record<string, number>;
}

export class Orchestrator {
  #stopping: Promise<void> | undefined;
  #front: Front | undefined;

  private constructor(
    readonly config: Config,
    readonly logger: Logger,
    readonly redis: Redis,
    readonly pool: WorkerPool,
    readonly app: App,
    /** Points, sessions, links, accounts, jobs and session events (server/assembly/control-plane.ts). */
    readonly control: ControlPlane,
    /** Attendance, health, alerts, the monitor and reports (server/assembly/attendance.ts). */
    readonly attendance: AttendanceModule,
    /** The live broadcast's namespaces and rooms (server/realtime). */
    readonly realtime: Realtime,
    /** Scale-out: set when NODE_ROLE is not `all` (server/cluster). */
    readonly cluster: Cluster | undefined,
    /** The one-time setup link while no admin exists (server/setup/first-run.ts). */
    readonly firstRun: FirstRun,
    /** Archives of finished recordings (server/assembly/recording.ts). */
    readonly recording: RecordingModule,
    readonly extras: OrchestratorExtras,
    private readonly addressing: PublicUrl,
  ) {}

  /** Connects to Redis, starts the mediasoup workers and builds the app (not listening yet). */
  static async create(
    config: Config,
    logger: Logger,
    redisUrl: string,
    extras: OrchestratorExtras = {},
  ): Promise<Orchestrator> {
    setMediasoupLogSink(logger.child({ component: 'mediasoup' }), { debug: config.mediasoup.logLevel === 'debug' });
    const redis = connectRedis(redisUrl, 'store', logger.child({ component: 'redis' }));
    let pool: WorkerPool | undefined;
    let control: ControlPlane | undefined;
    let node: ClusterMembership | undefined;
    let attendance: AttendanceModule | undefined;
    let realtime: Realtime | undefined;
    let cluster: Cluster | undefined;
    let recording: RecordingModule | undefined;
    const publicUrl = new PublicUrl({ configured: config.publicUrl, https: !!extras.tls, port: config.port });
    try {
      await waitForRedis(redis, redisUrl);
      pool = await startWorkers(config, logger);
      control = await ControlPlane.create({ config, logger, redis, redisUrl, baseUrl: publicUrl.get });
      const app = createApp({ config, logger, control });
      // The sessions on the air: filled by the live broadcast, read by attendance and cluster.
      const onAir = new OnAir();
      // A node of several joins the others before anything asks them.
      if (config.cluster.role !== 'all') {
        node = await joinCluster({
          config,
          logger,
          redis,
          redisUrl,
          io: app.io,
          control,
          onAir,
          publicUrl: publicUrl.get,
          socketGate: app.socketGate,
        });
      }
      // The desk's text channel with the points, on the monitor, the console and the point pages.
      const talk = new DeskTalk({ store: new TalkStore(redis), namespaces: app.namespaces, control, logger });
      attendance = new AttendanceModule({
        config,
        logger,
        redis,
        redisUrl,
        control,
        namespaces: app.namespaces,
        publicUrl: publicUrl.get,
        sfu: sfuStatsSource(onAir),
        cluster: node?.health,
        desk: { talk, floor: new DeskFloorControl(onAir, logger) },
      });
      const { service } = attendance;
      recording = new RecordingModule({ config, logger, redisUrl, auth: control.auth });
      realtime = attachRealtime({
        namespaces: app.namespaces,
        control,
        pool,
        redis,
        logger,
        attendance: service,
        delegatesReported: (sessionId) => delegatesReported(service, sessionId),
        cluster: node?.port ?? SINGLE_NODE,
        onAir,
        iceServers: extras.iceServers,
        recording: recordingHere(config),
        baseUrl: publicUrl.get,
        streamIngest: config.streamIngest,
        sip: config.sip && { ...config.sip, announcedIp: config.sip.announcedIp ?? config.rtc.announcedIp },
        keyFrameRequestDelayMs: config.mediasoup.keyFrameRequestDelayMs,
        pointConnected: async (sessionId, pointId) => (await service.detail(sessionId, pointId)).tile.connected,
        archives: recording.archives,
        talk,
      });
      if (node) {
        cluster = await attachCluster({
          node,
          config,
          redis,
          namespaces: app.namespaces,
          control,
          broadcasts: realtime.broadcasts,
          onAir,
          pool,
          publicUrl: publicUrl.get,
        });
      }
      const firstRun = new FirstRun({ redis, accounts: control.accounts, logger });
      serveRoutes(app, {
        config,
        logger,
        redis,
        pool,
        control,
        product: productSources(config, service, onAir),
        routes: [
          attendance.routes,
          recording.routes,
          { router: realtime.whip.router() },
          { router: cluster?.router ?? standaloneClusterRouter() },
          firstRun.routes(),
          ...(extras.routers ?? []).map((router) => ({ router })),
        ],
        readiness: extras.readiness,
        processRestarts: extras.processRestarts,
      });
      return new Orchestrator(
        config,
        logger,
        redis,
        pool,
        app,
        control,
        attendance,
        realtime,
        cluster,
        firstRun,
        recording,
        extras,
        publicUrl,
      );
    } catch (err) {
      await (cluster ?? node)?.close();
      await realtime?.close();
      await recording?.close();
      await attendance?.close();
      await control?.close();
      pool?.close();
      redis.disconnect();
      throw err;
    }
  }

  async listen(port = this.config.port, host = this.config.host): Promise<AddressInfo> {
    // SIP binds first: if its port is taken, nothing has been opened to the outside yet.
    await this.realtime.sip?.listen();
    let addr: AddressInfo;
    try {
      addr = await this.#listenHttp(port, host);
    } catch (err) {
      this.realtime.sip?.close();
      throw err;
    }
    this.addressing.listeningOn(addr);
    await this.cluster?.start();
    return addr;
  }

  async #listenHttp(port: number, host: string): Promise<AddressInfo> {
    if (this.extras.tls) {
      this.#front = new Front({ ...this.extras.tls, app: this.app.http, publicUrl: this.publicUrl });
      return this.#front.listen(port, host);
    }
    await new Promise<void>((resolve, reject) => {
      this.app.http.once('error', reject);
      this.app.http.listen(port, host, () => {
        this.app.http.off('error', reject);
        resolve();
      });
    });
    return this.app.http.address() as AddressInfo;
  }

  /** The base URL links are built on: PUBLIC_URL, else the listening address. */
  get publicUrl(): string {
    return this.addressing.get();
  }

  /**
   * Ordered shutdown: stop accepting connections, close sockets and rooms, then queues,
   * then Redis, then the mediasoup workers. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const log = this.logger;
      log.info('shutting down: closing HTTP and Socket.IO');
      const httpClosed = new Promise<void>((resolve) => this.app.http.close(() => resolve()));
      this.app.io.disconnectSockets(true);
      await new Promise<void>((resolve) => this.app.io.close(() => resolve()));
      this.app.http.closeAllConnections();
      await httpClosed;
      await this.#front?.close();
      log.info('shutting down: closing broadcast rooms');
      await this.cluster?.close();
      await this.realtime.close();
      log.info('shutting down: closing job workers and queues');
      await this.recording.close();
      await this.attendance.close();
      await this.control.close();
      log.info('shutting down: closing Redis');
      await this.redis.quit().catch(() => this.redis.disconnect());
      log.info('shutting down: closing mediasoup workers');
      this.pool.close();
      log.info('shutdown complete');
    })();
    return this.#stopping;
  }
}

// ----- the steps of Orchestrator.create -----

function startWorkers(config: Config, logger: Logger): Promise<WorkerPool> {
  return WorkerPool.create({
    numWorkers: config.mediasoup.numWorkers,
    listenIp: config.rtc.listenIp,
    announcedIp: config.rtc.announcedIp,
    basePort: config.rtc.basePort,
    logLevel: config.mediasoup.logLevel,
    bweTickMs: config.mediasoup.bweTickMs,
    udpRecvBufferBytes: config.mediasoup.udpRecvBufferBytes,
    logger: logger.child({ component: 'sfu' }),
  });
}

/** Delegates reported by headcount in a session, over all its points. */
async function delegatesReported(service: AttendanceModule['service'], sessionId: string): Promise<number> {
  let n = 0;
  for (const h of (await service.ledger.headcounts(sessionId)).values()) n += h.count;
  return n;
}

/** Recording, only where the hall is received: an edge's rooms carry the same media again. */
function recordingHere(config: Config): Config['recording'] {
  return { ...config.recording, enabled: config.recording.enabled && config.cluster.role !== 'edge' };
}

/** What /metrics reports of the briefings: the sessions on the air, their tiles, alerts and media. */
function productSources(config: Config, service: AttendanceModule['service'], onAir: OnAir): ProductSources {
  return {
    nodeId: config.cluster.nodeId,
    activeSessions: async () =>
      (await service.monitorSessions()).filter((s) => s.state === 'lobby' || s.state === 'live').map((s) => s.id),
    session: async (id) => {
      const [{ tiles }, alerts] = await Promise.all([service.tiles(id), service.alerts.list(id)]);
      return { tiles, alerts };
    },
    media: (id) => roomFigures(onAir, id),
  };
}
