// RFC 9457 problem+json for every HTTP error, with a stable `code`.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
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
      // Client errors raised by Express, its file sender and its body parsers (http-errors:
      // an unmet precondition or range on a file, aborted, bad length…).
      err =
        r.status === 412 || r.status === 416
          ? unmetFileCondition(raw, res)
          : new AppError(r.status === 413 ? 'payload_too_large' : 'bad_request', 'malformed request');
    } else {
      err = toAppError(raw);
    }
    if (err.status >= 500) logger.error({ err: raw, path: req.path }, 'request failed');
    res.status(err.status).type('application/problem+json').json(problemBody(err, req.originalUrl));
  };
}

/** What the file sender set for the file, which the problem answered instead does not have. */
const FILE_HEADERS = [
  'Cache-Control',
  'Content-Disposition',
  'Content-Encoding',
  'Content-Range',
  'ETag',
  'Last-Modified',
];

/**
 * A file sent by Express (`express.static`, `res.sendFile`: the `send` package) whose
 * If-Match or If-Unmodified-Since does not hold (412), or whose range starts past its end
 * (416, with a Content-Range giving the file's length in the error's headers, as `send`
 * answers by itself). The problem answered in its place carries the sender's headers for
 * the error (that Content-Range), not the file's validators or caching, and is not stored.
 */
function unmetFileCondition(raw: unknown, res: Response): AppError {
  const { status, headers } = raw as { status: 412 | 416; headers?: unknown };
  for (const h of FILE_HEADERS) res.removeHeader(h);
  if (headers && typeof headers === 'object') {
    for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') res.setHeader(k, v);
  }
  res.setHeader('Cache-Control', 'no-store');
  return status === 412
    ? new AppError('precondition_failed', 'the file has changed: a precondition does not hold')
    : new AppError('range_not_satisfiable', 'the range starts past the end of the file');
}
