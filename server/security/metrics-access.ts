// Who may read /metrics (it tells worker counts, CPU, connections: an attacker's map of
// the load). Allowed: a client address in METRICS_ALLOW (default loopback only, so a
// Prometheus on the same host works as it is), or a request carrying
// `Authorization: Bearer <METRICS_TOKEN>` (Prometheus: `authorization: { credentials: … }`
// in the scrape config). Anything else: 401 with a token configured, else 403.
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { MetricsAccess } from '../config';
import { AppError, forbidden } from '../errors';
import { addressMatcher, clientAddress, trustOf } from './client-address';

export function metricsGuard(access: MetricsAccess): RequestHandler {
  const allowed = addressMatcher(access.allow);
  const expected = access.token ? Buffer.from(`Bearer ${access.token}`) : undefined;
  return (req, res, next) => {
    if (expected) {
      const got = Buffer.from(req.headers.authorization ?? '');
      if (got.length === expected.length && timingSafeEqual(got, expected)) return next();
    }
    if (allowed(clientAddress(req, trustOf(req.app)))) return next();
    if (!expected) return next(forbidden('metrics are served to the addresses in METRICS_ALLOW only'));
    res.set('WWW-Authenticate', 'Bearer realm="metrics"');
    next(new AppError('unauthenticated', 'metrics need the bearer token (METRICS_TOKEN)'));
  };
}
