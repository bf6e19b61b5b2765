// One error family for the control plane. Thrown anywhere; mapped to HTTP in
// http/problem.ts and to socket acks in one place, so only known codes reach a client.
import { isSfuError } from '../sfu';
import type { ErrorCode, ErrorParams, ErrorReason } from './contract/errors';

const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  precondition_failed: 412,
  range_not_satisfiable: 416,
  rate_limited: 429,
  limit_exceeded: 429,
  token_invalid: 401,
  token_expired: 410,
  token_revoked: 410,
  not_open: 409,
  device_unknown: 401,
  device_used: 409,
  checkin_full: 409,
  no_hall_media: 409,
  unavailable: 503,
  pipe_gone: 404,
  internal: 500,
};

export interface AppErrorOptions {
  /** Machine-readable detail for the client, e.g. validation issues. Must be safe to show. */
  details?: unknown;
  /** What the pages say, more precisely than the code (server/contract/errors.ts). */
  reason?: ErrorReason;
  params?: ErrorParams;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly reason: ErrorReason | undefined;
  readonly params: ErrorParams | undefined;

  constructor(code: ErrorCode, message: string, opts: AppErrorOptions = {}) {
    super(message, { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = STATUS[code];
    this.details = opts.details;
    this.reason = opts.reason;
    this.params = opts.params;
  }
}

/** The reason and its parameters the pages render (`why(reason, params)`). */
type Why = Pick<AppErrorOptions, 'reason' | 'params'>;
export const why = (reason: ErrorReason, params?: ErrorParams): Why => ({ reason, ...(params ? { params } : {}) });

export const badRequest = (message: string, details?: unknown, reason?: Why) =>
  new AppError('bad_request', message, { details, ...reason });
export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const conflict = (message: string, details?: unknown, reason?: Why) =>
  new AppError('conflict', message, { details, ...reason });
export const forbidden = (message = 'your role does not allow this') => new AppError('forbidden', message);
export const unauthenticated = (message = 'log in first') => new AppError('unauthenticated', message);

/** Errors from a lost Redis connection become `unavailable` so clients retry. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  // The media engine's codes are a subset of the contract's, but for a start-up fault
  // (a mismatched worker binary) no client ever causes or can act on.
  if (isSfuError(err)) {
    if (err.code === 'worker_mismatch') return new AppError('internal', 'internal error', { cause: err });
    return new AppError(err.code, err.message, { cause: err });
  }
  const msg = err instanceof Error ? err.message : String(err);
  if (/Stream isn't writeable|Connection is closed|ECONNREFUSED|ETIMEDOUT|max retries per request|LOADING/i.test(msg)) {
    return new AppError('unavailable', 'storage is temporarily unavailable; retry', { cause: err });
  }
  return new AppError('internal', 'internal error', { cause: err });
}
