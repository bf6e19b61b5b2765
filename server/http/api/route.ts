// One declaration per route serves both the Express router (role check, zod parsing of
// params, query and body; the handler sees only parsed values) and the OpenAPI document
// (the same zod schemas). Nothing reaches a handler unchecked.
import { OpenAPIRegistry, type ResponseConfig, type ZodContentObject } from '@asteasolutions/zod-to-openapi';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { ProblemSchema, type Role } from '../../contract/api';
import { currentUser, requireRole, type AuthUser } from '../../auth/auth';
import { AppError } from '../../errors';

type Method = 'get' | 'post' | 'patch' | 'put' | 'delete';
type AnyObject = z.ZodType<Record<string, unknown>, Record<string, unknown>>;

export interface RouteSpec<P extends AnyObject, Q extends AnyObject, B extends z.ZodType> {
  method: Method;
  /** Express path relative to /api/v1, e.g. `/points/:id`. */
  path: string;
  summary: string;
  tag: string;
  /** Who may call it; `public` needs no login. */
  roles: Role[] | 'public';
  params?: P;
  query?: Q;
  body?: B;
  /** Documents a body the handler reads itself (CSV upload). */
  bodyDoc?: ZodContentObject;
  /** Body parsers for this route instead of the default small JSON one. */
  parsers?: RequestHandler[];
  /** The success answer; the handler's return value is sent as JSON with this status. */
  success: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  /** Error codes worth documenting beyond 400/401/403. */
  errors?: number[];
}

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  user: AuthUser | undefined;
  req: Request;
  res: Response;
}

const ERROR_TEXT: Record<number, string> = {
  400: 'invalid input (`bad_request`)',
  401: 'not logged in, or a bad token (`unauthenticated`, `token_invalid`)',
  403: 'the role does not allow it (`forbidden`)',
  404: 'not found (`not_found`)',
  409: 'conflicts with the current state (`conflict`, `not_open`)',
  410: 'token expired or revoked (`token_expired`, `token_revoked`)',
  412: 'the file changed: If-Match or If-Unmodified-Since does not hold (`precondition_failed`)',
  413: 'body too large (`payload_too_large`)',
  416: 'the range starts past the end of the file; `Content-Range: bytes */<length>` (`range_not_satisfiable`)',
  429: 'too many attempts (`rate_limited`)',
  503: 'storage unavailable; retry (`unavailable`)',
};

export const DEFAULT_JSON_LIMIT = '256kb';
const DEFAULT_JSON_LIMIT_BYTES = 256 * 1024;

/**
 * Refuses a body whose announced length is over `maxBytes` at once, and closes the
 * connection after the answer. Without it the body parser reads (and discards) the whole
 * announced body before answering 413: a client announcing 100 MB and trickling it would
 * hold a request open until the server's request timeout.
 */
export function refuseAnnouncedOver(maxBytes: number, parser: RequestHandler): RequestHandler {
  return (req, res, next) => {
    const announced = Number(req.headers['content-length'] ?? 0);
    if (announced > maxBytes) {
      res.set('Connection', 'close');
      next(new AppError('payload_too_large', 'request body too large'));
      return;
    }
    parser(req, res, next);
  };
}

export class ApiBuilder {
  readonly router = Router();
  readonly registry = new OpenAPIRegistry();
  readonly #json = refuseAnnouncedOver(DEFAULT_JSON_LIMIT_BYTES, express.json({ limit: DEFAULT_JSON_LIMIT }));

  constructor(readonly prefix: string) {
    this.registry.registerComponent('securitySchemes', 'cookieAuth', {
      type: 'apiKey',
      in: 'cookie',
      name: 'briefing_sid',
      description: 'set by POST /api/v1/auth/login',
    });
  }

  /** The small JSON body parser every write route gets unless it says otherwise. */
  defaultParsers(): RequestHandler[] {
    return [this.#json];
  }

  route<
    P extends AnyObject = z.ZodObject<Record<string, never>>,
    Q extends AnyObject = z.ZodObject<Record<string, never>>,
    B extends z.ZodType = z.ZodUndefined,
  >(
    spec: RouteSpec<P, Q, B>,
    handler: (ctx: RouteContext<z.output<P>, z.output<Q>, z.output<B>>) => Promise<unknown> | unknown,
  ): void {
    const guards: RequestHandler[] = spec.roles === 'public' ? [] : [requireRole(...spec.roles)];
    const parsers = spec.parsers ?? (['post', 'patch', 'put'].includes(spec.method) ? [this.#json] : []);
    this.router[spec.method](spec.path, ...guards, ...parsers, async (req, res) => {
      const params = spec.params ? spec.params.parse(req.params) : {};
      const query = spec.query ? spec.query.parse(req.query) : {};
      const body = spec.body ? spec.body.parse(req.body) : undefined;
      const out = await handler({
        params: params as z.output<P>,
        query: query as z.output<Q>,
        body: body as z.output<B>,
        user: currentUser(res),
        req,
        res,
      });
      if (res.headersSent) return;
      if (spec.success.status === 204) {
        res.status(204).end();
      } else {
        res.status(spec.success.status).json(out);
      }
    });

    const responses: Record<string, ResponseConfig> = {
      [spec.success.status]: {
        description: spec.success.description,
        ...(spec.success.schema
          ? { content: { [spec.success.contentType ?? 'application/json']: { schema: spec.success.schema } } }
          : {}),
      },
    };
    const codes = new Set([400, ...(spec.roles === 'public' ? [] : [401, 403]), ...(spec.errors ?? []), 503]);
    if (spec.body || spec.bodyDoc) codes.add(413);
    for (const code of codes) {
      responses[code] = {
        description: ERROR_TEXT[code] ?? 'error',
        content: { 'application/problem+json': { schema: ProblemSchema } },
      };
    }
    this.registry.registerPath({
      method: spec.method,
      path: this.prefix + spec.path.replace(/:([A-Za-z]+)/g, '{$1}'),
      summary: spec.summary,
      tags: [spec.tag],
      ...(spec.roles === 'public'
        ? { security: [] }
        : { security: [{ cookieAuth: [] }], description: `Roles: ${spec.roles.join(', ')}.` }),
      request: {
        ...(spec.params ? { params: spec.params as never } : {}),
        ...(spec.query ? { query: spec.query as never } : {}),
        ...(spec.body
          ? { body: { required: true, content: { 'application/json': { schema: spec.body } } } }
          : spec.bodyDoc
            ? { body: { required: true, content: spec.bodyDoc } }
            : {}),
      },
      responses,
    });
  }
}
