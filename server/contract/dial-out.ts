// The monitor's call to a point's room system (dial-out over SIP, docs/sip.md#dial-out):
// hosts and admins ask the server to call the point, at the SIP address the registry
// holds for it or one typed for this call, and may hang up before the answer. Every step
// is pushed to the session's monitors. Imports only zod: the browser imports this file.
import { z } from 'zod';
import { defineRequests } from './socket';

const Id = z.string().min(1).max(128);
/** A SIP address as typed (`sip:user@host[:port]`); the server reads it strictly. */
export const SipAddressInput = z.string().trim().min(1).max(256);

/**
 * Where a call the server places stands: `calling` (the INVITE is out), `ringing` (the
 * room system said so), `connected` (answered: from now on a call like one dialled in),
 * `failed` (refused, unanswered, cancelled, or its answer could not be used: `status` is
 * the SIP status, `message` says why), `ended` (hung up after it connected).
 */
export const DialStatusSchema = z.object({
  sessionId: Id,
  pointId: Id,
  address: z.string(),
  state: z.enum(['calling', 'ringing', 'connected', 'failed', 'ended']),
  status: z.number().int().optional(),
  message: z.string().optional(),
});
export type DialStatus = z.infer<typeof DialStatusSchema>;

const PointRef = z.object({ sessionId: Id, pointId: Id }).strict();

export const monitorDialRequests = defineRequests({
  /** Calls the point's room system: at `address`, else the registry's. Answers once the INVITE is out. */
  'sip:dial': { input: PointRef.extend({ address: SipAddressInput.optional() }).strict(), output: DialStatusSchema },
  /** Cancels a call being placed, or hangs up one placed from the monitor. */
  'sip:hangup': { input: PointRef, output: z.object({ ok: z.literal(true) }) },
});
export type MonitorDialRequests = typeof monitorDialRequests;

export const monitorDialPushes = { 'sip:dial': DialStatusSchema };
