// What this node tells the others at each heartbeat (node-registry.ts): its load (points,
// consumers, workers, CPU), its points by session, the points receiving the hall's video,
// and its feeds from upstream. The control server assigns points by it; the host's
// numbers and the monitor add it up.
import type { WorkerPool } from '../../sfu';
import type { OnAirView } from '../realtime/on-air';
import type { PointNamespace } from '../realtime/sockets';
import type { EdgeFeed } from './edge-feed';
import type { NodeSample } from './node-registry';

export function nodeSample(o: {
  pointNs: PointNamespace;
  onAir: Pick<OnAirView, 'peek' | 'rooms'>;
  pool: WorkerPool;
  feeds: ReadonlyMap<string, EdgeFeed>;
}): NodeSample {
  let cpuAt = Date.now();
  let cpuMs = 0;
  return async () => {
    const sessions: Record<string, string[]> = {};
    const pointSockets = await o.pointNs.local.fetchSockets();
    for (const s of pointSockets) {
      const { sessionId, pointId } = s.data;
      if (sessionId && pointId) (sessions[sessionId] ??= []).push(pointId);
    }
    let consumers = 0;
    for (const room of o.onAir.rooms()) for (const r of room.stats().routers) consumers += r.consumers;
    const usage = await o.pool.resourceUsage().catch(() => []);
    const total = usage.reduce((n, u) => n + u.usage.ru_utime + u.usage.ru_stime, 0);
    const now = Date.now();
    const cpuPct = cpuMs && now > cpuAt ? Math.max(0, ((total - cpuMs) / (now - cpuAt)) * 100) : 0;
    cpuMs = total;
    cpuAt = now;
    return {
      load: {
        points: new Set(pointSockets.map((s) => s.data.pointId)).size,
        consumers,
        workers: o.pool.aliveSlots().length,
        cpuPct: Math.round(cpuPct * 10) / 10,
      },
      sessions,
      receiving: Object.fromEntries(
        await Promise.all(
          Object.keys(sessions).map(async (id) => {
            const live = await o.onAir.peek(id)?.catch(() => undefined);
            return [id, live?.points.receivingVideo() ?? []] as const;
          }),
        ),
      ),
      feeds: Object.fromEntries(await Promise.all([...o.feeds].map(async ([id, f]) => [id, await f.stats()] as const))),
    };
  };
}
