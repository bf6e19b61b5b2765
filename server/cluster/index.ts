// Scale-out: what a process adds when it runs as one node of several
// (NODE_ROLE control, origin or edge). Nothing here runs in the default `all` role.
// Built in two steps around the live broadcast:
//
// 1. `joinCluster` (membership.ts), before it: the Socket.IO Redis adapter, the relay of
//    session events, the node registry, and what live sessions and the attendance module
//    ask of the other nodes (their `ClusterPort` and health sharing).
// 2. `attachCluster`, after it, with its rooms: point assignment to edges (assignment.ts),
//    media between nodes (media-links.ts), the heartbeat's figures (heartbeat.ts), the
//    HTTP routes (routes.ts) and the namespaces' cluster events (sockets.ts).
//
// Redis: keys `cluster:*` (keys.ts), channels `cluster:session-events`,
// `cluster:producers:<session>`, and the adapter's `socket.io#*`.
import type { Router } from 'express';
import type { Redis } from 'ioredis';
import type { WorkerPool } from '../../sfu';
import type { ClusterConfig, Config } from '../config';
import type { ControlPlane } from '../assembly/control-plane';
import type { LiveBroadcasts } from '../realtime/live-broadcasts';
import type { OnAirView } from '../realtime/on-air';
import type { SocketNamespaces } from '../realtime/sockets';
import { PointAssignment } from './assignment';
import type { EdgeFeed } from './edge-feed';
import type { FloorUplink } from './floor-uplink';
import { nodeSample } from './heartbeat';
import { internalToken } from './internal-auth';
import { MediaLinks } from './media-links';
import type { ClusterMembership } from './membership';
import type { NodeRegistry } from './node-registry';
import { clusterRouter } from './routes';
import { clusterSockets } from './sockets';

export { joinCluster, type ClusterMembership } from './membership';

export interface ClusterDeps {
  /** This node's membership (joinCluster). */
  node: ClusterMembership;
  config: Config;
  redis: Redis;
  namespaces: Pick<SocketNamespaces, 'point' | 'monitor'>;
  control: Pick<ControlPlane, 'points' | 'links' | 'sessions' | 'auth' | 'keys' | 'events'>;
  broadcasts: Pick<LiveBroadcasts, 'get'>;
  onAir: Pick<OnAirView, 'peek' | 'rooms' | 'onRoomCreated'>;
  pool: WorkerPool;
  /** This node's URL when NODE_PUBLIC_URL is unset: the listening address. */
  publicUrl: () => string;
}

export interface Cluster {
  config: ClusterConfig;
  registry: NodeRegistry;
  assignment: PointAssignment;
  /** Edge: the feeds of the rooms this node serves, by session. */
  feeds: ReadonlyMap<string, EdgeFeed>;
  /** Edge: the floor of its points sent to the origin, by session. */
  uplinks: ReadonlyMap<string, FloorUplink>;
  /** Its HTTP routes: assignment, node URLs and list, the internal pipes. */
  router: Router;
  /** Registers the node and starts its heartbeat: once it listens (its URL is known). */
  start: () => Promise<void>;
  /** Closes the links and leaves the cluster (the membership too). */
  close: () => Promise<void>;
}

export async function attachCluster(d: ClusterDeps): Promise<Cluster> {
  const { node } = d;
  const cfg = node.config;
  const log = node.log;
  const assignment = new PointAssignment(d.redis, node.registry, d.control.points);
  const media = await MediaLinks.attach({
    config: cfg,
    logger: log,
    redis: d.redis,
    subscriber: node.subscriber,
    registry: node.registry,
    grants: node.grants,
    broadcasts: d.broadcasts,
    onAir: d.onAir,
    listen: cfg.pipeIp
      ? { listenIp: cfg.pipeIp, announcedIp: undefined }
      : { listenIp: d.config.rtc.listenIp, announcedIp: d.config.rtc.announcedIp },
    token: internalToken(d.control.keys.for('cluster-internal')),
  });
  const router = clusterRouter({
    registry: node.registry,
    assignment,
    control: d.control,
    publicUrl: d.config.publicUrl,
  });
  router.use(media.router);
  clusterSockets({ config: cfg, namespaces: d.namespaces, registry: node.registry, assignment, logger: log });

  // Nodes that stopped beating: their pipes close, their hands and floors go, an edge
  // fed by one takes the broadcast from a live node.
  const sweeper = setInterval(() => {
    node.registry
      .list()
      .then((nodes) => {
        const alive = new Set(nodes.map((n) => n.id));
        media.sweep(alive);
        node.links.nodesChanged(alive);
      })
      .catch(() => undefined);
  }, cfg.heartbeatMs);
  sweeper.unref();
  // A session over: where its points went no longer matters (every process hears it, the
  // first delete does it).
  const onState = (e: { sessionId: string; to: string }) => {
    if (e.to !== 'ended' && e.to !== 'cancelled') return;
    assignment.forget(e.sessionId).catch((err: unknown) => {
      log.warn({ err, sessionId: e.sessionId }, 'could not drop the assignments of an ended session; they expire');
    });
  };
  d.control.events.on('stateChanged', onState);
  return {
    config: cfg,
    registry: node.registry,
    assignment,
    feeds: media.feeds,
    uplinks: media.uplinks,
    router,
    start: async () => {
      await node.registry.start(
        nodeSample({ pointNs: d.namespaces.point, onAir: d.onAir, pool: d.pool, feeds: media.feeds }),
      );
      log.info({ url: cfg.publicUrl ?? d.publicUrl() }, 'joined the cluster');
    },
    close: async () => {
      d.control.events.off('stateChanged', onState);
      await node.registry.stop();
      clearInterval(sweeper);
      media.close();
      await node.close();
    },
  };
}
