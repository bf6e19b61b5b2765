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
  'precondition_failed', // a file's If-Match or If-Unmodified-Since does not hold
  'range_not_satisfiable', // a file's byte range starts past its end
  'rate_limited',
  'limit_exceeded', // a peer holds as many media transports or consumers as it may
  'token_invalid', // forged or malformed join / check-in token
  'token_expired', // outside its validity window
  'token_revoked',
  'not_open', // e.g. check-in outside lobby..end
  'device_unknown', // a check-in without this phone's device cookie, or with another phone's
  'device_used', // this phone already checked in another delegate in this session
  'checkin_full', // the point's check-ins reached their cap (expected delegates and margin)
  'no_hall_media', // going live while the hall publishes no camera or microphone
  'unavailable', // a dependency (Redis, SFU) is down: retry later
  'pipe_gone', // between nodes: that media pipe is closed; the calling node opens a new one
  'internal',
] as const;

export const ErrorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

/**
 * Why, more precisely than the code: what the pages say (in Vietnamese, English beside),
 * with `params` filling it in. `message` stays English for API users and logs.
 */
export const ERROR_REASONS = [
  'transition', // { action, state }: that state change is not allowed from this state
  'not_editable', // { state }
  'times_locked', // { state }: start and lobby times cannot move any more
  'no_point_invited',
  'end_passed', // the planned end has passed: move the times first
  'changed_meanwhile', // someone else changed it at the same time: retry
  'code_taken', // { code }
  'username_taken', // { username }
  'last_admin',
  'own_account',
  'has_children', // { count }
  'unknown_points', // { list }
  'attach_first', // the console is not attached to a session
  'not_live', // the briefing is not live
  'agenda_range', // { count }: the agenda has that many items
  'point_not_connected', // the point cannot take the floor: it is not connected
  'room_system_cannot_send', // { detail }: the SIP room system's call cannot carry its camera or microphone
  'room_system_refused', // { status }: the SIP room system refused (or did not answer) the change of its call
  'sip_address_invalid', // { detail }: not a SIP address the server can call (sip:user@host[:port])
  'sip_target_refused', // { address, detail }: the server does not call that address (itself, loopback, multicast…)
  'dial_failed', // { status }: the room system the server called refused, did not answer, or the call was cancelled
  'recording_locked', // recording is chosen before going live only
  'ingest_limit', // { max }
  'malformed_csv', // { detail }
  'body_type', // { type }: send the body with that Content-Type
  'roster_name_taken', // { name }: that name is already on the point's roster
  'roster_full', // { max }
  'document_type', // only PDF, PNG, JPEG and WebP files
  'documents_full', // { max }: a session's most documents
  'agenda_item_unknown', // no such agenda item in the session
  'no_floor', // no connection point holds the floor (on this server)
  'no_floor_mic', // the point holding the floor publishes no microphone yet
  'talk_full', // { max }: the session keeps that many messages and takes no more
  'talk_point_full', // { max }: the point sent that many messages this session and may send no more
  'session_cancelled', // a join link's briefing was cancelled or deleted
  'point_uninvited', // a join link's point is no longer invited, or no longer in the registry
  'link_replaced', // a newer join link was issued for this point
] as const;
export type ErrorReason = (typeof ERROR_REASONS)[number];
export type ErrorParams = Record<string, string | number>;

/**
 * One problem with an input: where (`path`), what (`issue`, a zod issue code or one of
 * the product's own such as `lobby_after_start`) and its parameters (a minimum, the
 * expected type…).
 */
export interface Issue {
  path: string;
  issue: string;
  params?: ErrorParams;
  message: string;
}

export const ErrorBodySchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  reason: z.enum(ERROR_REASONS).optional(),
  params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  issues: z
    .array(
      z.object({
        path: z.string(),
        issue: z.string(),
        params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
        message: z.string(),
      }),
    )
    .optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** The parameters of a zod issue worth showing (bounds, expected type, allowed values). */
export function issuesOf(issues: readonly z.core.$ZodIssue[]): Issue[] {
  return issues.map((i) => {
    const params: ErrorParams = {};
    const raw = i as unknown as Record<string, unknown>;
    for (const k of ['minimum', 'maximum', 'expected', 'format', 'origin'] as const) {
      const v = raw[k];
      if (typeof v === 'string' || typeof v === 'number') params[k] = v;
      else if (typeof v === 'bigint') params[k] = Number(v);
    }
    if (Array.isArray(raw.values)) params.values = raw.values.map(String).join(', ');
    if (Array.isArray(raw.keys)) params.keys = raw.keys.map(String).join(', ');
    return {
      path: i.path.map(String).join('.'),
      issue: i.code,
      ...(Object.keys(params).length ? { params } : {}),
      message: i.message,
    };
  });
}

/** The answer to every socket request. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };
