// Health, attendance and the monitor across nodes: what the attendance module
// (server/assembly/attendance.ts) of a node that is not `all` is built with:
//
// - the point's status machine runs on the node that serves its socket, fenced in Redis
//   (`health:<s>:owner`, server/domain/health/store.ts), and continues from Redis on the
//   node a page moves to;
// - when a node leaves the registry (its heartbeat expired), the survivors close the
//   presence of the points it served, which turn lost on every monitor
//   (AttendanceService's node sweep, driven by `aliveNodes` below);
// - one process per session computes the monitor's deltas (MonitorFeedLease) and the
//   Socket.IO Redis adapter carries them, and the alerts' acknowledgements, to every node;
//   each process announces what its desks watch (areas, open detail views), so deltas go
//   only to the areas watched and a point's samples only while its detail is open.
//
// The single process (NODE_ROLE=all) is built without it and keeps its in-memory paths.
import type { Redis } from 'ioredis';
import type { HealthCluster } from '../domain/attendance/service';
import type { FeedLease } from '../realtime/monitor-namespace';
import { MonitorFeedLease } from './monitor-lease';
import type { NodeRegistry } from './node-registry';

/** Many session runtimes ask each second; the registry changes at heartbeat pace. */
const ALIVE_CACHE_MS = 500;

export function healthSharing(o: { registry: Pick<NodeRegistry, 'list'>; redis: Redis; nodeId: string }): {
  health: HealthCluster;
  lease: FeedLease;
} {
  let cached: { at: number; ids: Promise<ReadonlySet<string>> } | undefined;
  const health: HealthCluster = {
    nodeId: o.nodeId,
    aliveNodes: () => {
      const now = Date.now();
      if (!cached || now - cached.at > ALIVE_CACHE_MS) {
        const ids = o.registry.list().then((nodes) => new Set([o.nodeId, ...nodes.map((n) => n.id)]));
        cached = { at: now, ids };
        // A failed look is not kept: the next caller asks again.
        ids.catch(() => {
          if (cached?.ids === ids) cached = undefined;
        });
      }
      return cached.ids;
    },
  };
  return { health, lease: new MonitorFeedLease(o.redis, o.nodeId) };
}
