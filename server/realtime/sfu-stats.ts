// The SFU's view of one point for the health monitor: its consumers' worst score, the
// hall camera's current layer, and what its receive transport sends.
import type { SfuViewerStats } from '../contract/attendance';
import type { LiveBroadcasts } from './live-broadcasts';

export function sfuStatsSource(broadcasts: LiveBroadcasts) {
  return {
    async getViewerStats(sessionId: string, pointId: string): Promise<SfuViewerStats | null> {
      const live = await broadcasts.peek(sessionId);
      const room = live?.room;
      if (!room || room.closed || !room.hasPeer(pointId)) return null;
      const v = await room.getViewerStats(pointId);
      const active = v.consumers.filter((c) => !c.paused && !c.producerPaused);
      const camera = v.consumers.find((c) => c.source === 'host-camera');
      const recv = v.transports.filter((t) => t.direction === 'recv');
      return {
        score: active.length ? Math.min(...active.map((c) => c.score)) : null,
        spatialLayer: camera?.currentLayers?.spatialLayer ?? null,
        bytesSent: recv.length ? recv.reduce((n, t) => n + t.bytesSent, 0) : null,
        availableOutgoingBitrate: recv[0]?.availableOutgoingBitrate ?? null,
      };
    },
  };
}
