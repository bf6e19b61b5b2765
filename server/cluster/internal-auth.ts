// Node-to-node HTTP calls carry a bearer token made from the `cluster-internal` key
// (server/security/keys.ts), derived from the secret every node of a cluster shares;
// nothing on these routes is reachable without it. The token crosses the network on each
// call: it opens these routes and nothing else (no link, cookie or Redis signature).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { isSfuError } from '../../sfu';
import { AppError, toAppError } from '../errors';

export function internalToken(key: Buffer): string {
  return createHmac('sha256', key).update('bearer').digest('hex');
}

/** Refuses a request without this cluster's bearer token (`internalToken`). */
export function requireInternal(token: string): RequestHandler {
  const expected = Buffer.from(`Bearer ${token}`);
  return (req, res, next) => {
    const got = Buffer.from(req.headers.authorization ?? '');
    if (got.length === expected.length && timingSafeEqual(got, expected)) return next();
    next(new AppError('unauthenticated', 'node token required'));
  };
}

/**
 * A failed internal request as the error the app's handler answers: the SFU's own code
 * (the calling node acts on it), anything else `unavailable` so that node retries.
 */
export function internalFailure(err: unknown, log: Logger, what: string): AppError {
  if (err instanceof AppError) return err;
  if (!isSfuError(err)) return new AppError('unavailable', (err as Error).message, { cause: err });
  log.warn({ err }, what);
  return toAppError(err);
}

/** A node-to-node call that failed: the HTTP status and the problem's code, when there was an answer. */
export class InternalCallError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'InternalCallError';
  }
}

/** One JSON call to another node's internal API, with this cluster's token and a timeout. */
export async function callInternal<T>(
  baseUrl: string,
  token: string,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) {
    const text = await res.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { code?: unknown }).code as string | undefined;
    } catch {
      /* not a problem document */
    }
    throw new InternalCallError(`${baseUrl} answered ${res.status} to ${method} ${path}: ${text}`, res.status, code);
  }
  return (res.status === 204 ? undefined : await res.json()) as T;
}
