// Media between nodes, for the rooms of this node's live sessions:
// - origin → edge: the feeding side (origin-pipes.ts, also on an edge feeding another
//   edge in a tree, NODE_UPSTREAM) and the receiving side (edge-feed.ts);
// - edge → origin: the floor of a point served by an edge (floor-uplink.ts,
//   uplink-pipes.ts); the origin's pipes carry it on to the other edges.
// Each room a live session creates is linked as it appears (OnAir's room events).
import { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BroadcastRoom, PipeListen } from '../../sfu';
import type { ClusterConfig } from '../config';
import type { LiveBroadcasts } from '../realtime/live-broadcasts';
import type { OnAirView } from '../realtime/on-air';
import { EdgeFeed } from './edge-feed';
import type { FloorGrants } from './floor-grants';
import { FloorUplink } from './floor-uplink';
import { clusterChannels } from './keys';
import type { NodeRegistry } from './node-registry';
import { OriginPipes, type ProducerMessage } from './origin-pipes';
import { UplinkPipes } from './uplink-pipes';

export interface MediaLinksDeps {
  config: ClusterConfig;
  logger: Logger;
  redis: Redis;
  /** The pub/sub connection producers are announced on. */
  subscriber: Redis;
  registry: Pick<NodeRegistry, 'list'>;
  grants: FloorGrants;
  broadcasts: Pick<LiveBroadcasts, 'get'>;
  onAir: Pick<OnAirView, 'onRoomCreated'>;
  /** Where this node's pipe transports listen. */
  listen: PipeListen;
  /** Authenticates the internal pipe calls between nodes. */
  token: string;
}

/** One link per session and room: a new one replaces the old, and is forgotten when its room closes. */
function replaceFor<L extends { close(): void }>(
  perSession: Map<string, L>,
  sessionId: string,
  room: BroadcastRoom,
  make: () => L,
): void {
  perSession.get(sessionId)?.close();
  const link = make();
  perSession.set(sessionId, link);
  room.once('closed', () => {
    if (perSession.get(sessionId) === link) perSession.delete(sessionId);
  });
}

export class MediaLinks {
  /** The internal pipe routes this node answers (origin, and an edge feeding others). */
  readonly router = Router();
  /** Edge: the feeds of the rooms this node serves, by session. */
  readonly feeds = new Map<string, EdgeFeed>();
  /** Edge: the floor of its points sent to the origin, by session. */
  readonly uplinks = new Map<string, FloorUplink>();
  readonly #origin: OriginPipes | undefined;
  readonly #uplinkPipes: UplinkPipes | undefined;
  readonly #d: MediaLinksDeps;
  readonly #offs: (() => void)[] = [];

  private constructor(d: MediaLinksDeps) {
    this.#d = d;
    const { config: cfg, logger: log, token, listen } = d;
    // The origin feeds edges; an edge can feed other edges too (a tree, NODE_UPSTREAM).
    if (cfg.role === 'origin' || cfg.role === 'edge') {
      this.#origin = new OriginPipes({
        broadcasts: d.broadcasts,
        redis: d.redis,
        logger: log,
        token,
        listen,
        selfId: cfg.nodeId,
      });
      this.router.use('/cluster/v1/internal/pipe', this.#origin.router);
    }
    // The origin takes the floor of points on edges and adopts it into its room.
    if (cfg.role === 'origin') {
      this.#uplinkPipes = new UplinkPipes({ broadcasts: d.broadcasts, logger: log, token, listen, grants: d.grants });
      this.router.use('/cluster/v1/internal/uplink', this.#uplinkPipes.router);
    }
    this.#offs.push(
      d.onAir.onRoomCreated((sessionId, room) => {
        this.#origin?.roomCreated(sessionId, room);
        if (cfg.role === 'edge') {
          this.#startFeed(sessionId, room);
          this.#startUplink(sessionId, room);
        }
      }),
    );
  }

  static async attach(d: MediaLinksDeps): Promise<MediaLinks> {
    const links = new MediaLinks(d);
    if (d.config.role === 'edge') {
      const onProducer = (_pattern: string, channel: string, message: string) => links.#onProducer(channel, message);
      d.subscriber.on('pmessage', onProducer);
      links.#offs.push(() => d.subscriber.off('pmessage', onProducer));
      try {
        await d.subscriber.psubscribe(clusterChannels.producersPattern);
      } catch (err) {
        links.close();
        throw err;
      }
    }
    return links;
  }

  /**
   * Called with the live node ids at each sweep: pipes to nodes that stopped beating close;
   * an edge whose upstream stopped beating takes the broadcast again from a live one.
   */
  sweep(alive: ReadonlySet<string>): void {
    this.#origin?.sweep(alive);
    this.#uplinkPipes?.sweep(alive);
    for (const [sessionId, feed] of this.feeds) {
      if (feed.upstreamId && !alive.has(feed.upstreamId) && !feed.room.closed) {
        this.#d.logger.warn({ sessionId, upstream: feed.upstreamId }, 'upstream node gone; feeding from another');
        this.#startFeed(sessionId, feed.room);
      }
    }
  }

  close(): void {
    for (const off of this.#offs.splice(0)) off();
    for (const f of this.feeds.values()) f.close();
    for (const u of this.uplinks.values()) u.close();
    this.#uplinkPipes?.close();
    this.#origin?.close();
  }

  #onProducer(channel: string, message: string): void {
    const [from, sessionId] = clusterChannels.parseProducers(channel) ?? [];
    if (!sessionId) return;
    let m: ProducerMessage;
    try {
      m = JSON.parse(message) as ProducerMessage;
    } catch {
      return; // not ours
    }
    const feed = this.feeds.get(sessionId);
    if (feed && feed.upstreamId === from) feed.onMessage(m);
    const uplink = this.uplinks.get(sessionId);
    if (uplink && uplink.originId === from) uplink.onMessage(m);
  }

  #startFeed(sessionId: string, room: BroadcastRoom): void {
    const { config: cfg, logger: log, registry } = this.#d;
    replaceFor(
      this.feeds,
      sessionId,
      room,
      () =>
        new EdgeFeed(sessionId, room, {
          selfId: cfg.nodeId,
          listen: this.#d.listen,
          token: this.#d.token,
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
  }

  #startUplink(sessionId: string, room: BroadcastRoom): void {
    const { config: cfg, logger: log, registry } = this.#d;
    replaceFor(
      this.uplinks,
      sessionId,
      room,
      () =>
        new FloorUplink(sessionId, room, {
          selfId: cfg.nodeId,
          listen: this.#d.listen,
          token: this.#d.token,
          logger: log,
          findOrigin: async () => (await registry.list()).find((n) => n.role === 'origin'),
        }),
    );
  }
}
