// What a broadcast room reports about itself: the room's shape (routers, producers, viewers
// per router), each viewer's transports and consumers (for the monitor's per-point
// health), and what reaches the origin from a producer (for the host console). Cheap enough
// to poll: consumer figures come from memory (mediasoup's score and layer events), and each
// transport costs one getStats, cached for a while.
import type { types as ms } from 'mediasoup';
import { SfuError } from './errors';
import type { Peer } from './peer';
import type { RoomContext } from './room-context';
import { producerInfo, type RoomProducers } from './room-producers';
import type { RoomTopology } from './room-topology';
import type {
  ConsumerStatsInfo,
  ProducerStats,
  RoomStats,
  RouterStats,
  TransportStatsInfo,
  ViewerStats,
} from './types';

export interface RoomStatsDeps extends Pick<RoomContext, 'roomId' | 'peers' | 'floorHolder'> {
  topology: Pick<RoomTopology, 'liveFanouts' | 'origin'>;
  producers: Pick<RoomProducers, 'get' | 'list' | 'size'>;
  /** Transport stats younger than this are served from cache (ms). */
  maxAgeMs: number;
}

export class RoomStatsReader {
  readonly #deps: RoomStatsDeps;
  readonly #cache = new WeakMap<ms.WebRtcTransport, { at: number; stat: ms.WebRtcTransportStat | undefined }>();

  constructor(deps: RoomStatsDeps) {
    this.#deps = deps;
  }

  room(): RoomStats {
    const { peers } = this.#deps;
    const routers: RouterStats[] = [];
    for (const f of this.#deps.topology.liveFanouts()) {
      let transports = 0;
      let consumers = 0;
      for (const peer of peers.values()) {
        if (peer.role !== 'viewer') continue;
        for (const t of peer.transports.values()) if (t.router === f.router && t.direction === 'recv') transports += 1;
        for (const pc of peer.consumers.values())
          if (peer.transports.get(pc.transportId)?.router === f.router) consumers += 1;
      }
      const producers = f.isOrigin ? this.#deps.producers.size : f.pipedCount;
      routers.push({ slot: f.slot, routerId: f.router.id, origin: f.isOrigin, producers, transports, consumers });
    }
    routers.sort((a, b) => a.slot - b.slot);
    let viewers = 0;
    for (const p of peers.values()) if (p.role === 'viewer') viewers += 1;
    return {
      roomId: this.#deps.roomId,
      originSlot: this.#deps.topology.origin?.slot,
      floorPeerId: this.#deps.floorHolder(),
      peers: peers.size,
      viewers,
      producers: this.#deps.producers.list(),
      routers,
    };
  }

  async viewer(peer: Peer): Promise<ViewerStats> {
    const transports: TransportStatsInfo[] = [];
    for (const t of peer.transports.values()) {
      const stat = await this.#transportStat(t.transport);
      transports.push({
        transportId: t.transport.id,
        direction: t.direction,
        slot: t.slot,
        iceState: t.transport.iceState,
        dtlsState: t.transport.dtlsState,
        bytesSent: stat?.bytesSent ?? 0,
        bytesReceived: stat?.bytesReceived ?? 0,
        sendBitrate: stat?.sendBitrate ?? 0,
        recvBitrate: stat?.recvBitrate ?? 0,
        availableOutgoingBitrate: stat?.availableOutgoingBitrate ?? t.availableBitrate,
      });
    }
    const consumers: ConsumerStatsInfo[] = [...peer.consumers.values()].map((pc) => {
      const c = pc.consumer;
      return {
        consumerId: c.id,
        producerId: c.producerId,
        source: pc.source,
        kind: c.kind,
        paused: c.paused,
        producerPaused: c.producerPaused,
        score: c.score?.score ?? 0,
        producerScore: c.score?.producerScore ?? 0,
        currentLayers: c.currentLayers ?? null,
        preferredLayers: c.preferredLayers ?? null,
      };
    });
    return { peerId: peer.id, mode: peer.mode, slot: peer.recvTransport()?.slot, transports, consumers };
  }

  /** Stats of many viewers at once (all by default), at most `concurrency` worker requests in flight. */
  async viewers(peerIds: string[] | undefined, concurrency: number): Promise<ViewerStats[]> {
    const { peers } = this.#deps;
    const ids = peerIds ?? [...peers.values()].filter((p) => p.role === 'viewer').map((p) => p.id);
    const out: ViewerStats[] = [];
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        const peer = peers.get(id);
        if (!peer) continue;
        const empty: ViewerStats = { peerId: id, mode: 'full', slot: undefined, transports: [], consumers: [] };
        out.push(await this.viewer(peer).catch(() => empty));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
    return out;
  }

  async producer(producerId: string): Promise<ProducerStats> {
    const rp = this.#deps.producers.get(producerId);
    if (!rp) throw new SfuError('not_found', `producer ${producerId} not found`);
    const stats = (await rp.producer.getStats().catch(() => [])) as ms.ProducerStat[];
    return {
      ...producerInfo(rp),
      streams: stats.map((s) => ({
        ssrc: s.ssrc,
        rid: s.rid,
        score: s.score,
        packetCount: s.packetCount,
        byteCount: s.byteCount,
        bitrate: s.bitrate,
      })),
    };
  }

  async #transportStat(t: ms.WebRtcTransport): Promise<ms.WebRtcTransportStat | undefined> {
    const cached = this.#cache.get(t);
    const now = Date.now();
    if (cached && now - cached.at < this.#deps.maxAgeMs) return cached.stat;
    if (t.closed) return undefined;
    const stat = (await t.getStats().catch(() => []))[0];
    this.#cache.set(t, { at: now, stat });
    return stat;
  }
}
