// The cluster's part of the Socket.IO namespaces: the monitor's node list, and where a
// point connected. A point is where it connected: later questions about it find this
// node, and a page of the same point still open on another node is let go (LiveSession
// does it within one process; the adapter carries it to the others).
import type { Logger } from 'pino';
import type { ClusterConfig } from '../config';
import { clusterMonitorRequests } from '../contract/cluster';
import { bindRequests } from '../realtime/requests';
import type { SocketNamespaces } from '../realtime/sockets';
import type { PointAssignment } from './assignment';
import type { NodeRegistry } from './node-registry';

export function clusterSockets(o: {
  config: ClusterConfig;
  namespaces: Pick<SocketNamespaces, 'point' | 'monitor'>;
  registry: Pick<NodeRegistry, 'list'>;
  assignment: Pick<PointAssignment, 'claim'>;
  logger: Logger;
}): void {
  const { config: cfg, logger: log } = o;
  o.namespaces.monitor.on('connection', (socket) => {
    bindRequests(socket, clusterMonitorRequests, { 'cluster:nodes': () => o.registry.list() }, {}, log);
  });
  const pointNs = o.namespaces.point;
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
      o.assignment.claim(sessionId, pointId, cfg.nodeId).catch((err: unknown) => {
        log.warn({ err, sessionId, pointId }, 'could not record where a point connected');
      });
    }
  });
}
