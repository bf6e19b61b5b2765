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
    /** Headers the file sender gave its error (a 416's `Content-Range: bytes *\/<length>`). */
    let errorHeaders: unknown;
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
      if (r.status === 412 || r.status === 416) {
        err = unmetFileCondition(r.status);
        errorHeaders = (raw as { headers?: unknown }).headers;
      } else {
        err = new AppError(r.status === 413 ? 'payload_too_large' : 'bad_request', 'malformed request');
      }
    } else {
      err = toAppError(raw);
    }
    if (err.status >= 500) logger.error({ err: raw, path: req.path }, 'request failed');
    sendProblem(res, problemBody(err, req.originalUrl), errorHeaders);
  };
}

/**
 * What describes a representation (a file being sent, a body a route began) and so not
 * the problem answered in its place: the file's name, encoding, range and length, its
 * validators and its caching.
 */
const REPRESENTATION_HEADERS = [
  'Accept-Ranges',
  'Cache-Control',
  'Content-Disposition',
  'Content-Encoding',
  'Content-Language',
  'Content-Length',
  'Content-Location',
  'Content-Range',
  'ETag',
  'Expires',
  'Last-Modified',
];

/**
 * A problem goes out with none of the headers of what it replaces and is never stored. It
 * has no validators either: Express's `res.json` would give it an ETag of its own, against
 * which a client could revalidate or send `If-Range`, so the body is ended directly.
 */
function sendProblem(res: Response, body: ReturnType<typeof problemBody>, errorHeaders: unknown): void {
  for (const h of REPRESENTATION_HEADERS) res.removeHeader(h);
  if (errorHeaders && typeof errorHeaders === 'object') {
    for (const [k, v] of Object.entries(errorHeaders)) if (typeof v === 'string') res.setHeader(k, v);
  }
  const json = JSON.stringify(body);
  res
    .status(body.status)
    .set('Content-Type', 'application/problem+json; charset=utf-8')
    .set('Content-Length', String(Buffer.byteLength(json)))
    .set('Cache-Control', 'no-store')
    .end(json);
}

/**
 * A file sent by Express (`express.static`, `res.sendFile`: the `send` package) whose
 * If-Match or If-Unmodified-Since does not hold (412), or whose range starts past its end
 * (416, with a Content-Range giving the file's length in the error's headers, as `send`
 * answers by itself).
 */
function unmetFileCondition(status: 412 | 416): AppError {
  return status === 412
    ? new AppError('precondition_failed', 'the file has changed: a precondition does not hold')
    : new AppError('range_not_satisfiable', 'the range starts past the end of the file');
}
