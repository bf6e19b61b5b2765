// /api/v1 (the control plane's REST API) and /api/openapi.json, generated from the same
// zod schemas that validate the requests.
import { OpenApiGeneratorV3 } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import { sameOriginOnly } from '../../auth/auth';
import type { ControlPlane } from '../../assembly/control-plane';
import { registerAccountRoutes, registerAuthRoutes } from './auth-routes';
import { registerDocumentRoutes } from './document-routes';
import { registerPointRoutes } from './points-routes';
import { ApiBuilder } from './route';
import { registerLinkRoutes, registerSessionRoutes } from './sessions-routes';

export const API_PREFIX = '/api/v1';

export function buildApi(control: ControlPlane): ApiBuilder {
  const api = new ApiBuilder(API_PREFIX);
  registerAuthRoutes(api, control);
  registerAccountRoutes(api, control);
  registerPointRoutes(api, control);
  registerSessionRoutes(api, control);
  registerLinkRoutes(api, control);
  registerDocumentRoutes(api, control);
  return api;
}

export function openApiDocument(apis: ApiBuilder[]) {
  return new OpenApiGeneratorV3(apis.flatMap((a) => a.registry.definitions)).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'Briefing orchestrator control plane',
      version: '1',
      description:
        'Connection points, briefing sessions, join links and accounts. Errors are RFC 9457 ' +
        'application/problem+json with a stable `code`.',
    },
    servers: [{ url: '/' }],
  });
}

/**
 * The API under /api/v1 and its OpenAPI document, which also describes the routes other
 * modules declare with their own ApiBuilder (`extraApis`, read when the document is first
 * asked for). Mounted by serveRoutes (server/assembly/app.ts) before the fallbacks.
 */
export function apiRouter(control: ControlPlane, extraApis: () => ApiBuilder[] = () => []): Router {
  const api = buildApi(control);
  let doc: ReturnType<typeof openApiDocument> | undefined;
  const router = Router();
  router.get('/api/openapi.json', (_req, res) => {
    doc ??= openApiDocument([api, ...extraApis()]);
    res.json(doc);
  });
  router.use(API_PREFIX, sameOriginOnly(), control.auth.attachUser(), api.router);
  return router;
}
