// One process serving everything (NODE_ROLE=all): the pages still ask the cluster
// routes, and are told plainly that there is no cluster (204) rather than a 404 that
// browsers log as an error on every load.
import { Router } from 'express';

export function standaloneClusterRouter(): Router {
  const router = Router();
  router.get(['/cluster/v1/nodes', '/cluster/v1/node-urls', '/cluster/v1/join/:token/node'], (_req, res) => {
    res.set('Cache-Control', 'no-store').status(204).end();
  });
  return router;
}
