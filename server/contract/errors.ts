// Error codes a client may see, over HTTP (problem+json `code`) and in socket acks.
// Anything else is reported as `internal` so no internal detail leaks.
import { z } from 'zod';

export const ERROR_CODES = [
  'bad_request', // payload failed validation
  'unauthenticated', // no or bad login / token
  'forbidden', // logged in, but the role does not allow it
  'not_found',
  'conflict', // e.g. duplicate code, illegal state transition
  'payload_too_large',
  'rate_limited',
  'limit_exceeded', // a peer holds as many media transports or consumers as it may
  'token_invalid', // forged or malformed join / check-in token
  'token_expired', // outside its validity window
  'token_revoked',
  'not_open', // e.g. check-in outside lobby..end
  'device_unknown', // a check-in without this phone's device cookie, or with another phone's
  'device_used', // this phone already checked in another delegate in this session
  'checkin_full', // the point's check-ins reached their cap (expected delegates and margin)
  'unavailable', // a dependency (Redis, SFU) is down: retry later
  'pipe_gone', // between nodes: that media pipe is closed; the calling node opens a new one
  'internal',
] as const;

export const ErrorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export const ErrorBodySchema = z.object({ code: ErrorCodeSchema, message: z.string() });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** The answer to every socket request. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };
