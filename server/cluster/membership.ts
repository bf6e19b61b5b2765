// A node's membership of the cluster, built before the live broadcast and the attendance
// module, which are built with what it gives:
//
// - the Socket.IO Redis adapter: a push to a room reaches sockets on every process;
// - SessionEvents relayed over Redis pub/sub (event-relay.ts);
// - the node registry with heartbeat and expiry (node-registry.ts), shown on /monitor;
// - `port`: what a live session asks of the other nodes (live-links.ts);
// - `health`: the points' health and the monitor shared with them (health-sharing.ts).
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createAdapter } from '@socket.io/redis-adapter';
import type { ClusterConfig, Config } from '../config';
import type { ControlPlane } from '../assembly/control-plane';
import type { HealthCluster } from '../domain/attendance/service';
import type { ClusterPort } from '../realtime/cluster-port';
import type { FeedLease } from '../realtime/monitor-namespace';
import type { OnAirView } from '../realtime/on-air';
import type { SocketServer } from '../realtime/sockets';
import { connectRedis } from '../redis/connect';
import type { SocketGate } from '../security/socket-gate';
import { SessionEventRelay } from './event-relay';
import { FloorGrants } from './floor-grants';
import { healthSharing } from './health-sharing';
import { LiveLinks } from './live-links';
import { NodeRegistry } from './node-registry';
import { RecordSeal } from './sealed';

export interface MembershipDeps {
  config: Config;
  logger: Logger;
  redis: Redis;
  redisUrl: string;
  io: SocketServer;
  control: Pick<ControlPlane, 'events' | 'keys'>;
  onAir: Pick<OnAirView, 'peek'>;
  /** This node's URL when NODE_PUBLIC_URL is unset: the listening address. */
  publicUrl: () => string;
  /** Socket.IO handshakes from the registered nodes' pages are from an allowed origin. */
  socketGate?: Pick<SocketGate, 'useNodeUrls'>;
}

export interface ClusterMembership {
  config: ClusterConfig;
  log: Logger;
  registry: NodeRegistry;
  grants: FloorGrants;
  links: LiveLinks;
  /** The pub/sub connection the relay listens on; the media links subscribe on it too. */
  subscriber: Redis;
  port: ClusterPort;
  health: { health: HealthCluster; lease: FeedLease };
  close: () => Promise<void>;
}

export async function joinCluster(d: MembershipDeps): Promise<ClusterMembership> {
  const cfg = d.config.cluster;
  const log = d.logger.child({ component: 'cluster', nodeId: cfg.nodeId, role: cfg.role });
  const pub = connectRedis(d.redisUrl, 'pubsub', log);
  const sub = connectRedis(d.redisUrl, 'pubsub', log);
  const relaySub = connectRedis(d.redisUrl, 'pubsub', log);
  const cleanups: (() => void | Promise<unknown>)[] = [];
  const quitAll = async () => {
    for (const r of [pub, sub, relaySub]) await r.quit().catch(() => r.disconnect());
  };
  try {
    d.io.adapter(createAdapter(pub, sub, { key: 'socket.io' }));
    const relay = await SessionEventRelay.start(d.control.events, d.redis, relaySub, log);
    cleanups.push(() => relay.close());
    const seal = new RecordSeal(d.control.keys.for('cluster-state'));
    const grants = new FloorGrants(d.redis, seal, cfg.nodeId);
    const registry = new NodeRegistry({
      redis: d.redis,
      seal,
      logger: log,
      self: {
        id: cfg.nodeId,
        role: cfg.role,
        url: () => cfg.publicUrl ?? d.publicUrl(),
        internalUrl: () => cfg.internalUrl ?? cfg.publicUrl ?? d.publicUrl(),
        region: cfg.region,
      },
      heartbeatMs: cfg.heartbeatMs,
      ttlMs: cfg.ttlMs,
    });
    d.socketGate?.useNodeUrls(async () => (await registry.list()).map((n) => n.url));
    cleanups.push(() => d.socketGate?.useNodeUrls(undefined));
    const links = new LiveLinks({
      role: cfg.role,
      redis: d.redis,
      registry,
      events: d.control.events,
      onAir: d.onAir,
      grants,
      logger: log,
    });
    cleanups.push(() => links.close());
    return {
      config: cfg,
      log,
      registry,
      grants,
      links,
      subscriber: relaySub,
      port: links.port(),
      health: healthSharing({ registry, redis: d.redis, nodeId: cfg.nodeId }),
      close: async () => {
        await registry.stop();
        for (const c of cleanups.splice(0).reverse()) await c();
        await quitAll();
      },
    };
  } catch (err) {
    for (const c of cleanups.reverse()) await c();
    for (const r of [pub, sub, relaySub]) r.disconnect();
    throw err;
  }
}
