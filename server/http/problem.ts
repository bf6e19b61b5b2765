// RFC 9457 problem+json for every HTTP error, with a stable `code`.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { issuesOf } from '../contract/errors';
import { AppError, toAppError } from '../errors';

export function problemBody(err: AppError, instance: string) {
  return {
    type: `urn:briefing:error:${err.code}`,
    title: err.code.replace(/_/g, ' '),
    status: err.status,
    code: err.code,
    detail: err.message,
    instance,
    ...(err.reason ? { reason: err.reason } : {}),
    ...(err.params ? { params: err.params } : {}),
    ...(err.details !== undefined ? { errors: err.details } : {}),
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('not_found', `no route for ${req.method} ${req.path}`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (raw, req, res, next) => {
    if (res.headersSent) return next(raw);
    let err: AppError;
    const r = raw as { type?: string; status?: number };
    if (raw instanceof z.ZodError) {
      err = new AppError('bad_request', 'invalid request', {
        details: issuesOf(raw.issues),
      });
    } else if (r?.type === 'entity.too.large') {
      err = new AppError('payload_too_large', 'request body too large');
    } else if (
      r?.type === 'entity.parse.failed' ||
      r?.type === 'encoding.unsupported' ||
      r?.type === 'charset.unsupported'
    ) {
      err = new AppError('bad_request', 'malformed request body');
    } else if (raw instanceof URIError) {
      // The router could not decode a path parameter (malformed percent-encoding).
      err = new AppError('bad_request', 'malformed URL');
    } else if (
      !(raw instanceof AppError) &&
      (raw as { expose?: unknown }).expose === true &&
      typeof r?.status === 'number' &&
      r.status >= 400 &&
      r.status < 500
    ) {
      // Other client errors raised by Express and its body parsers (http-errors: aborted,
      // bad length…).
      err = new AppError(r.status === 413 ? 'payload_too_large' : 'bad_request', 'malformed request');
    } else {
      err = toAppError(raw);
    }
    if (err.status >= 500) logger.error({ err: raw, path: req.path }, 'request failed');
    res.status(err.status).type('application/problem+json').json(problemBody(err, req.originalUrl));
  };
}
