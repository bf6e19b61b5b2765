// The SFU's view of one point for the health monitor: its consumers' worst score, the
// hall camera's current layer, what its receive transport sends, and what its transports
// receive (for silent-media detection, server/domain/health/media-silence.ts).
import type { SfuViewerStats } from '../contract/attendance';
import type { MediaFigures } from '../http/product-metrics';
import type { OnAirView } from './on-air';

export function sfuStatsSource(onAir: Pick<OnAirView, 'peek'>) {
  return {
    async getViewerStats(sessionId: string, pointId: string): Promise<SfuViewerStats | null> {
      const live = await onAir.peek(sessionId);
      const room = live?.room;
      if (!room || room.closed || !room.hasPeer(pointId)) return null;
      const v = await room.getViewerStats(pointId);
      const active = v.consumers.filter((c) => !c.paused && !c.producerPaused);
      const camera = v.consumers.find((c) => c.source === 'host-camera');
      const recv = v.transports.filter((t) => t.direction === 'recv');
      // Every transport of the point that has connected: what it sends us (STUN, RTCP, media).
      const heard = v.transports.filter((t) => t.iceState !== 'new' && t.iceState !== 'closed');
      return {
        score: active.length ? Math.min(...active.map((c) => c.score)) : null,
        spatialLayer: camera?.currentLayers?.spatialLayer ?? null,
        bytesSent: recv.length ? recv.reduce((n, t) => n + t.bytesSent, 0) : null,
        availableOutgoingBitrate: recv[0]?.availableOutgoingBitrate ?? null,
        media: heard.length
          ? {
              link: heard.map((t) => t.transportId).join(','),
              bytesReceived: heard.reduce((n, t) => n + t.bytesReceived, 0),
            }
          : null,
      };
    },
  };
}

/** A session's room on this process for /metrics: consumers and bitrates in and out. */
export async function roomFigures(onAir: Pick<OnAirView, 'peek'>, sessionId: string): Promise<MediaFigures | null> {
  const room = (await onAir.peek(sessionId))?.room;
  if (!room || room.closed) return null;
  const shape = room.stats();
  const consumers = shape.routers.reduce((n, r) => n + r.consumers, 0);
  // The viewers and every peer that produces (the host, a point on the floor).
  const peers = await room.getViewersStats();
  const producing = [...new Set(shape.producers.map((p) => p.peerId))].filter(
    (id) => room.hasPeer(id) && !peers.some((v) => v.peerId === id),
  );
  const all = producing.length ? [...peers, ...(await room.getViewersStats(producing))] : peers;
  let bitrateIn = 0;
  let bitrateOut = 0;
  for (const p of all)
    for (const t of p.transports) {
      bitrateIn += t.recvBitrate;
      bitrateOut += t.sendBitrate;
    }
  return { consumers, bitrateIn, bitrateOut };
}
