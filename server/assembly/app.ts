// The HTTP server and the Socket.IO server around already-started dependencies, in two
// steps: `createApp` makes the servers and the namespaces, which the domain modules are
// built with; `serveRoutes` then mounts every HTTP route at once, the modules' included,
// with the fallbacks last. Listening is separate (Orchestrator.listen) so tests can bind
// port 0.
import http from 'node:http';
import path from 'node:path';
import express from 'express';
import helmet from 'helmet';
import type { Router } from 'express';
import { Server } from 'socket.io';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { WorkerPool } from '../../sfu';
import type { Config } from '../config';
import type { ControlPlane } from './control-plane';
import { apiRouter } from '../http/api';
import type { ApiBuilder } from '../http/api/route';
import { healthRouter, redisCheck, workersCheck, type ReadinessCheck } from '../http/health';
import { createMetrics } from '../http/metrics';
import { registerProductMetrics, type ProductSources } from '../http/product-metrics';
import { compressResponses } from '../http/compress';
import { errorHandler, notFoundHandler } from '../http/problem';
import { socketNamespaces, type SocketNamespaces, type SocketServer } from '../realtime/sockets';
import { pagesRouter } from '../http/pages';
import { trustOf, warnUntrustedProxy } from '../security/client-address';
import { closeSocketsOfEndedLogins } from '../security/login-sockets';
import { metricsGuard } from '../security/metrics-access';
import { SocketGate } from '../security/socket-gate';

export interface AppDeps {
  config: Config;
  logger: Logger;
  control: ControlPlane;
}

/** A module's HTTP routes and their declarations for /api/openapi.json. */
export interface ModuleRoutes {
  router: Router;
  api?: ApiBuilder;
}

export interface App {
  express: express.Express;
  http: http.Server;
  io: SocketServer;
  /** `/point`, `/host` and `/monitor`, typed from the contract. */
  namespaces: SocketNamespaces;
  /** Origin allow-list and per-address cap of Socket.IO handshakes (the cluster adds node URLs). */
  socketGate: SocketGate;
}

export const ROOT_DIR = path.resolve(__dirname, '..', '..');

export function createApp(deps: AppDeps): App {
  const app = express();
  app.disable('x-powered-by');
  // TRUST_PROXY: which proxies' X-Forwarded-For to believe, so limits and logs see the client.
  app.set('trust proxy', deps.config.net.trustProxy);
  app.use(warnUntrustedProxy(() => trustOf(app), deps.logger));
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          mediaSrc: ["'self'", 'blob:'],
          connectSrc: ["'self'"],
          objectSrc: ["'none'"],
          frameAncestors: ["'none'"],
          baseUri: ["'self'"],
          formAction: ["'self'"],
          upgradeInsecureRequests: null,
        },
      },
      // Pages are served over plain HTTP on a LAN too; HSTS is the reverse proxy's job.
      strictTransportSecurity: false,
    }),
  );

  // Points may sit behind a 2 Mbps link: pages and answers shrink about 4x with gzip (the
  // bundles go out as the build compressed them: server/http/pages.ts).
  app.use(compressResponses());

  const server = http.createServer(app);
  const socketGate = new SocketGate({
    ownUrls: [deps.config.publicUrl, deps.config.cluster.publicUrl],
    maxPerAddress: deps.config.sockets.maxPerAddress,
    trust: () => trustOf(app),
    logger: deps.logger,
  });
  const io: SocketServer = new Server(server, {
    serveClient: false,
    allowRequest: socketGate.allowRequest,
    maxHttpBufferSize: 64 * 1024,
    pingInterval: 10_000,
    pingTimeout: 10_000,
    // A point that drops for a moment resumes with its rooms and missed packets.
    connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: false },
  });

  socketGate.attach(io);
  const namespaces = socketNamespaces(io);
  closeSocketsOfEndedLogins(namespaces, deps.control.auth, deps.logger);

  return { express: app, http: server, io, namespaces, socketGate };
}

export interface RoutesDeps {
  config: Config;
  logger: Logger;
  redis: Redis;
  pool: WorkerPool;
  control: ControlPlane;
  /** What /metrics reports of the briefings (server/http/product-metrics.ts). */
  product: ProductSources;
  /** The modules' routes, mounted in this order after the control plane's API. */
  routes: ModuleRoutes[];
  /** Readiness of what the process start runs besides (the embedded coturn). */
  readiness?: ReadinessCheck[];
  /** Restarts of the embedded service processes, for /metrics. */
  processRestarts?: () => Record<string, number>;
}

/** Mounts every route: probes, metrics, pages, the API, the modules', then the fallbacks. */
export function serveRoutes(app: App, deps: RoutesDeps): void {
  const { express: e } = app;
  const metrics = createMetrics({
    pool: deps.pool,
    connectedSockets: () => app.io.engine.clientsCount,
    processRestarts: deps.processRestarts,
  });
  registerProductMetrics(metrics.registry, deps.product);
  e.use(healthRouter([redisCheck(deps.redis, deps.logger), workersCheck(deps.pool), ...(deps.readiness ?? [])]));
  e.use('/metrics', metricsGuard(deps.config.metrics));
  e.use(metrics.router);
  e.use(
    pagesRouter(path.join(ROOT_DIR, 'client', 'pages'), path.join(ROOT_DIR, 'build', 'client'), {
      // Source maps would hand out the pages' whole source; developers have them locally.
      sourceMaps: deps.config.nodeEnv !== 'production',
      timeZone: deps.config.timeZone,
      singleNode: deps.config.cluster.role === 'all',
    }),
  );
  const apis = deps.routes.flatMap((r) => (r.api ? [r.api] : []));
  e.use(apiRouter(deps.control, () => apis));
  for (const r of deps.routes) e.use(r.router);
  e.use(notFoundHandler);
  e.use(errorHandler(deps.logger));
}
