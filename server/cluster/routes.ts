// The cluster's HTTP routes: which node a point connects to, the nodes' URLs for a point
// page's `?home=`, and the node list for logged-in users.
import { Router } from 'express';
import { currentUser } from '../auth/auth';
import type { ControlPlane } from '../assembly/control-plane';
import type { NodeUrls } from '../contract/cluster';
import { AppError, unauthenticated } from '../errors';
import type { PointAssignment } from './assignment';
import type { NodeRegistry } from './node-registry';

export function clusterRouter(o: {
  registry: Pick<NodeRegistry, 'list'>;
  assignment: Pick<PointAssignment, 'assign'>;
  control: Pick<ControlPlane, 'links' | 'sessions' | 'auth'>;
  /** PUBLIC_URL, listed among the node URLs. */
  publicUrl: string | undefined;
}): Router {
  const router = Router();
  router.get('/cluster/v1/join/:token/node', async (req, res) => {
    const claims = await o.control.links.verifyJoinToken(req.params.token);
    const session = await o.control.sessions.require(claims.sessionId);
    const node = await o.assignment.assign(claims.sessionId, claims.pointId, session.invitedPointIds.length);
    if (!node) throw new AppError('unavailable', 'no node serves points right now; retry');
    res.set('cache-control', 'no-store').json({ nodeId: node.id, url: node.url, role: node.role });
  });
  // For a point page's `?home=` (client/src/point/cluster.ts): only the URLs, which
  // browsers are sent to anyway, so no login; nothing of the nodes' load or points.
  router.get('/cluster/v1/node-urls', async (_req, res) => {
    try {
      const urls = new Set((await o.registry.list()).map((n) => n.url));
      if (o.publicUrl) urls.add(o.publicUrl);
      const body: NodeUrls = { urls: [...urls].sort() };
      res.set('cache-control', 'no-store').json(body);
    } catch (err) {
      throw new AppError('unavailable', 'the cluster registry cannot be read; retry', { cause: err });
    }
  });
  router.get('/cluster/v1/nodes', o.control.auth.attachUser(), async (_req, res) => {
    if (!currentUser(res)) throw unauthenticated();
    res.set('cache-control', 'no-store').json(await o.registry.list());
  });
  return router;
}
