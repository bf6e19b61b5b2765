// Scale-out: what a process adds when it runs as one node of several
// (NODE_ROLE control, origin or edge). Nothing here runs in the default `all` role.
//
// - Socket.IO Redis adapter: a push to a room reaches sockets on every process.
// - SessionEvents relayed over Redis pub/sub (event-relay.ts).
// - Node registry with heartbeat and expiry (node-registry.ts), shown on /monitor.
// - Point assignment to edges (assignment.ts), answered at /cluster/v1/join/:token/node.
// - Origin → edge media over PipeTransports (origin-pipes.ts, edge-feed.ts).
// - Edge → origin media: the floor of a point served by an edge (floor-uplink.ts,
//   uplink-pipes.ts); the origin's pipes carry it on to the other edges.
//
// Redis: keys `cluster:*` (keys.ts), channels `cluster:session-events`,
// `cluster:producers:<session>`, and the adapter's `socket.io#*`.
import express, { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createAdapter } from '@socket.io/redis-adapter';
import type { BroadcastRoom, WorkerPool } from '../../sfu';
import { currentUser } from '../auth/auth';
import type { ClusterConfig, Config } from '../config';
import { clusterMonitorRequests, type NodeInfo, type NodeUrls } from '../contract/cluster';
import type { ControlPlane } from '../assembly/control-plane';
import { AppError, unauthenticated } from '../errors';
import type { LiveBroadcasts } from '../realtime/live-broadcasts';
import type { RoomHooks } from '../realtime/live-session';
import { bindRequests } from '../realtime/requests';
import type { SocketNamespaces, SocketServer } from '../realtime/sockets';
import { connectRedis } from '../redis/connect';
import type { SocketGate } from '../security/socket-gate';
import { PointAssignment } from './assignment';
import { EdgeFeed } from './edge-feed';
import { SessionEventRelay } from './event-relay';
import { FloorGrants } from './floor-grants';
import { FloorUplink } from './floor-uplink';
import { internalToken } from './internal-auth';
import { clusterChannels } from './keys';
import { LiveLinks } from './live-links';
import { NodeRegistry } from './node-registry';
import { OriginPipes, type ProducerMessage } from './origin-pipes';
import { RecordSeal } from './sealed';
import { UplinkPipes } from './uplink-pipes';

/** Set by the cluster layer, called by LiveSession (server/realtime/live-session.ts). */
export type { RoomHooks };

export interface ClusterDeps {
  config: Config;
  logger: Logger;
  redis: Redis;
  redisUrl: string;
  io: SocketServer;
  namespaces: SocketNamespaces;
  express: express.Express;
  control: ControlPlane;
  broadcasts: LiveBroadcasts;
  pool: WorkerPool;
  roomHooks: RoomHooks;
  /** This node's URL when NODE_PUBLIC_URL is unset: the listening address. */
  publicUrl: () => string;
  /** Socket.IO handshakes from the registered nodes' pages are from an allowed origin. */
  socketGate?: Pick<SocketGate, 'useNodeUrls'>;
}

export interface Cluster {
  config: ClusterConfig;
  registry: NodeRegistry;
  assignment: PointAssignment;
  /** Edge: the feeds of the rooms this node serves, by session. */
  feeds: Map<string, EdgeFeed>;
  /** Edge: the floor of its points sent to the origin, by session. */
  uplinks: Map<string, FloorUplink>;
  /** Registers the node and starts its heartbeat: once it listens (its URL is known). */
  start: () => Promise<void>;
  close: () => Promise<void>;
}

export async function attachCluster(d: ClusterDeps): Promise<Cluster> {
  const cfg = d.config.cluster;
  const log = d.logger.child({ component: 'cluster', nodeId: cfg.nodeId, role: cfg.role });
  const pub = connectRedis(d.redisUrl, 'pubsub', log);
  const sub = connectRedis(d.redisUrl, 'pubsub', log);
  const relaySub = connectRedis(d.redisUrl, 'pubsub', log);
  const cleanups: (() => void | Promise<unknown>)[] = [];
  try {
    d.io.adapter(createAdapter(pub, sub, { key: 'socket.io' }));
    const relay = await SessionEventRelay.start(d.control.events, d.redis, relaySub, log);
    cleanups.push(() => relay.close());

    const rooms = new Map<string, BroadcastRoom>();
    let cpuAt = Date.now();
    let cpuMs = 0;
    const feeds = new Map<string, EdgeFeed>();
    const uplinks = new Map<string, FloorUplink>();
    const sample = async (): Promise<Pick<NodeInfo, 'load' | 'sessions' | 'feeds' | 'receiving'>> => {
      const sessions: Record<string, string[]> = {};
      const pointSockets = await d.namespaces.point.local.fetchSockets();
      for (const s of pointSockets) {
        const { sessionId, pointId } = s.data;
        if (sessionId && pointId) (sessions[sessionId] ??= []).push(pointId);
      }
      let consumers = 0;
      for (const room of rooms.values()) {
        if (!room.closed) for (const r of room.stats().routers) consumers += r.consumers;
      }
      const usage = await d.pool.resourceUsage().catch(() => []);
      const total = usage.reduce((n, u) => n + u.usage.ru_utime + u.usage.ru_stime, 0);
      const now = Date.now();
      const cpuPct = cpuMs && now > cpuAt ? Math.max(0, ((total - cpuMs) / (now - cpuAt)) * 100) : 0;
      cpuMs = total;
      cpuAt = now;
      return {
        load: {
          points: new Set(pointSockets.map((s) => s.data.pointId)).size,
          consumers,
          workers: d.pool.aliveSlots().length,
          cpuPct: Math.round(cpuPct * 10) / 10,
        },
        sessions,
        receiving: Object.fromEntries(
          await Promise.all(
            Object.keys(sessions).map(async (id) => {
              const live = await d.broadcasts.peek(id)?.catch(() => undefined);
              return [id, live?.pointsReceivingVideo() ?? []] as const;
            }),
          ),
        ),
        feeds: Object.fromEntries(await Promise.all([...feeds].map(async ([id, f]) => [id, await f.stats()] as const))),
      };
    };
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
      sample,
    });
    const assignment = new PointAssignment(d.redis, registry, d.control.points);
    d.socketGate?.useNodeUrls(async () => (await registry.list()).map((n) => n.url));
    cleanups.push(() => d.socketGate?.useNodeUrls(undefined));
    const links = new LiveLinks({
      redis: d.redis,
      registry,
      events: d.control.events,
      broadcasts: d.broadcasts,
      grants,
      logger: log,
    });
    cleanups.push(() => links.close());
    const listen = cfg.pipeIp
      ? { listenIp: cfg.pipeIp, announcedIp: undefined }
      : { listenIp: d.config.rtc.listenIp, announcedIp: d.config.rtc.announcedIp };
    const token = internalToken(d.control.keys.for('cluster-internal'));

    // ---- media between nodes
    /** One link per session and room: a new one replaces the old, and is forgotten when its room closes. */
    const replaceFor = <L extends { close(): void }>(
      perSession: Map<string, L>,
      sessionId: string,
      room: BroadcastRoom,
      make: () => L,
    ) => {
      perSession.get(sessionId)?.close();
      const link = make();
      perSession.set(sessionId, link);
      room.once('closed', () => {
        if (perSession.get(sessionId) === link) perSession.delete(sessionId);
      });
    };
    const startFeed = (sessionId: string, room: BroadcastRoom) =>
      replaceFor(
        feeds,
        sessionId,
        room,
        () =>
          new EdgeFeed(sessionId, room, {
            selfId: cfg.nodeId,
            listen,
            token,
            logger: log,
            findUpstream: async () => {
              const list = await registry.list();
              return (
                (cfg.upstream ? list.find((n) => n.id === cfg.upstream && n.role !== 'control') : undefined) ??
                list.find((n) => n.role === 'origin')
              );
            },
          }),
      );
    const startUplink = (sessionId: string, room: BroadcastRoom) =>
      replaceFor(
        uplinks,
        sessionId,
        room,
        () =>
          new FloorUplink(sessionId, room, {
            selfId: cfg.nodeId,
            listen,
            token,
            logger: log,
            findOrigin: async () => (await registry.list()).find((n) => n.role === 'origin'),
          }),
      );
    let originPipes: OriginPipes | undefined;
    let uplinkPipes: UplinkPipes | undefined;
    const router = Router();
    // The origin feeds edges; an edge can feed other edges too (a tree, NODE_UPSTREAM).
    if (cfg.role === 'origin' || cfg.role === 'edge') {
      originPipes = new OriginPipes({
        broadcasts: d.broadcasts,
        redis: d.redis,
        logger: log,
        token,
        listen,
        selfId: cfg.nodeId,
      });
      router.use('/cluster/v1/internal/pipe', originPipes.router);
      const op = originPipes;
      cleanups.push(() => op.close());
    }
    // The origin takes the floor of points on edges and adopts it into its room.
    if (cfg.role === 'origin') {
      uplinkPipes = new UplinkPipes({
        broadcasts: d.broadcasts,
        logger: log,
        token,
        listen,
        grants,
      });
      router.use('/cluster/v1/internal/uplink', uplinkPipes.router);
      const up = uplinkPipes;
      cleanups.push(() => up.close());
    }
    if (cfg.role === 'edge') {
      const onProducer = (_pattern: string, channel: string, message: string) => {
        const [from, sessionId] = clusterChannels.parseProducers(channel) ?? [];
        if (!sessionId) return;
        let m: ProducerMessage;
        try {
          m = JSON.parse(message) as ProducerMessage;
        } catch {
          return; // not ours
        }
        const feed = feeds.get(sessionId);
        if (feed && feed.upstreamId === from) feed.onMessage(m);
        const uplink = uplinks.get(sessionId);
        if (uplink && uplink.originId === from) uplink.onMessage(m);
      };
      relaySub.on('pmessage', onProducer);
      await relaySub.psubscribe(clusterChannels.producersPattern);
    }
    d.roomHooks.created = (sessionId, room) => {
      rooms.set(sessionId, room);
      room.once('closed', () => {
        if (rooms.get(sessionId) === room) rooms.delete(sessionId);
      });
      originPipes?.roomCreated(sessionId, room);
      if (cfg.role === 'edge') {
        startFeed(sessionId, room);
        startUplink(sessionId, room);
      }
    };

    // The host's live numbers count the points of every node (as of their last heartbeat).
    d.roomHooks.connectedPoints = async (sessionId) => {
      const ids = new Set<string>();
      for (const n of await registry.list()) for (const p of n.sessions[sessionId] ?? []) ids.add(p);
      return ids.size;
    };
    Object.assign(d.roomHooks, links.hooks());

    // ---- where a point connects, and what the monitor sees
    router.get('/cluster/v1/join/:token/node', async (req, res) => {
      const claims = await d.control.links.verifyJoinToken(req.params.token);
      const session = await d.control.sessions.require(claims.sessionId);
      const node = await assignment.assign(claims.sessionId, claims.pointId, session.invitedPointIds.length);
      if (!node) throw new AppError('unavailable', 'no node serves points right now; retry');
      res.set('cache-control', 'no-store').json({ nodeId: node.id, url: node.url, role: node.role });
    });
    // For a point page's `?home=` (client/src/point/cluster.ts): only the URLs, which
    // browsers are sent to anyway, so no login; nothing of the nodes' load or points.
    router.get('/cluster/v1/node-urls', async (_req, res) => {
      try {
        const urls = new Set((await registry.list()).map((n) => n.url));
        if (d.config.publicUrl) urls.add(d.config.publicUrl);
        const body: NodeUrls = { urls: [...urls].sort() };
        res.set('cache-control', 'no-store').json(body);
      } catch (err) {
        throw new AppError('unavailable', 'the cluster registry cannot be read; retry', { cause: err });
      }
    });
    router.get('/cluster/v1/nodes', d.control.auth.attachUser(), async (_req, res) => {
      if (!currentUser(res)) throw unauthenticated();
      res.set('cache-control', 'no-store').json(await registry.list());
    });
    d.express.use(router);

    d.namespaces.monitor.on('connection', (socket) => {
      bindRequests(socket, clusterMonitorRequests, { 'cluster:nodes': () => registry.list() }, {}, log);
    });
    // A point is where it connected: later questions about it find this node, and a page
    // of the same point still open on another node is let go (LiveSession does it within
    // one process; the adapter carries it to the others).
    const pointNs = d.namespaces.point;
    pointNs.on('connection', (socket) => {
      const { sessionId, pointId } = socket.data;
      const own = `cluster:p:${sessionId}:${pointId}`;
      void socket.join(own);
      pointNs
        .to(own)
        .except(socket.id)
        .emit('kicked', { reason: 'Điểm cầu đã mở trên một màn hình khác · opened on another screen' });
      pointNs.in(own).except(socket.id).disconnectSockets(true);
      if (cfg.role === 'edge' || cfg.role === 'origin') {
        assignment.claim(sessionId, pointId, cfg.nodeId).catch((err: unknown) => {
          log.warn({ err, sessionId, pointId }, 'could not record where a point connected');
        });
      }
    });

    // Pipes to edges that stopped beating close; an edge whose upstream stopped beating
    // takes the broadcast again from a live one (the origin, in a tree).
    const sweeper = setInterval(() => {
      registry
        .list()
        .then((nodes) => {
          const alive = new Set(nodes.map((n) => n.id));
          originPipes?.sweep(alive);
          uplinkPipes?.sweep(alive);
          links.nodesChanged(alive);
          for (const [sessionId, feed] of feeds) {
            if (feed.upstreamId && !alive.has(feed.upstreamId) && !feed.room.closed) {
              log.warn({ sessionId, upstream: feed.upstreamId }, 'upstream node gone; feeding from another');
              startFeed(sessionId, feed.room);
            }
          }
        })
        .catch(() => undefined);
    }, cfg.heartbeatMs);
    sweeper.unref();
    cleanups.push(() => clearInterval(sweeper));
    return {
      config: cfg,
      start: async () => {
        await registry.start();
        log.info({ url: cfg.publicUrl ?? d.publicUrl() }, 'joined the cluster');
      },
      registry,
      assignment,
      feeds,
      uplinks,
      close: async () => {
        await registry.stop();
        for (const f of feeds.values()) f.close();
        for (const u of uplinks.values()) u.close();
        for (const c of cleanups.splice(0).reverse()) await c();
        for (const k of Object.keys(d.roomHooks)) delete d.roomHooks[k as keyof RoomHooks];
        for (const r of [pub, sub, relaySub]) await r.quit().catch(() => r.disconnect());
      },
    };
  } catch (err) {
    for (const c of cleanups.reverse()) await c();
    for (const r of [pub, sub, relaySub]) r.disconnect();
    throw err;
  }
}
