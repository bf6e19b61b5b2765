// Node-to-node HTTP calls carry a bearer token derived from APP_SECRET, which every node
// of a cluster shares; nothing on these routes is reachable without it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

export function internalToken(appSecret: string): string {
  return createHmac('sha256', appSecret).update('briefing-cluster-internal-v1').digest('hex');
}

export function requireInternal(appSecret: string): RequestHandler {
  const expected = Buffer.from(`Bearer ${internalToken(appSecret)}`);
  return (req, res, next) => {
    const got = Buffer.from(req.headers.authorization ?? '');
    if (got.length === expected.length && timingSafeEqual(got, expected)) return next();
    res.status(401).type('application/problem+json').json({ code: 'unauthenticated', title: 'node token required' });
  };
}
