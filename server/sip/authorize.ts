// Who is calling, into which session: the checks of a new call's INVITE after its syntax
// and rate, cheapest first: point (404), open session (480), credentials (401 challenge, 403
// wrong), call cap (486), SDP (400 unreadable, 488 nothing in common). Each refusal is an
// AppError whose status the gateway answers (status.ts).
import { AppError, toAppError } from '../errors';
import { parseDigest, type DigestAuth } from './digest';
import type { Remote } from './dialog';
import type { SipCallRequest, SipConfig } from './call-types';
import { one, type SipRequest } from './message';
import { negotiateOffer, requireMediaFromSource } from './offer';

const USER = /^([A-Za-z0-9._-]{1,64})(?:\*(\d{12}))?$/;

export interface AuthorizeDeps {
  config: Pick<SipConfig, 'maxCalls' | 'plainRtpPoints'>;
  points: { get(pointId: string): Promise<unknown> };
  /** Sessions in the lobby or live that invite the point, live first. */
  sessions: { openFor(pointId: string): Promise<{ id: string }[]> };
  pins: { sipPin(sessionId: string, pointId: string): Promise<string> };
  digest: DigestAuth;
}

/** `inUse`: calls up and being set up (this one among them). Throws AppError with the status to answer. */
export async function authorizeInvite(
  d: AuthorizeDeps,
  req: SipRequest,
  from: Remote,
  inUse: () => number,
): Promise<SipCallRequest> {
  if (!/^application\/sdp\b/i.test(one(req, 'content-type')) || !req.body.trim()) {
    throw new AppError('bad_request', 'send the SDP offer in the INVITE (application/sdp)', {
      details: { sipStatus: req.body.trim() ? 415 : 488 },
    });
  }
  const user = /^sips?:([^@;?]+)@/i.exec(req.uri)?.[1];
  const m = user ? USER.exec(user) : null;
  if (!m) throw new AppError('not_found', 'dial sip:<point code>@<host> (or <code>*<PIN>)');
  const [, pointId, pinInUri] = m as unknown as [string, string, string | undefined];
  if (!(await d.points.get(pointId))) throw new AppError('not_found', `no point ${pointId}`);
  const [session] = await d.sessions.openFor(pointId);
  if (!session) throw new AppError('not_open', `no briefing is open for point ${pointId}`);
  const pin = await d.pins.sipPin(session.id, pointId).catch((err: unknown) => {
    // A revoked link or a session closing meanwhile: the point may not join, whatever it sends.
    throw new AppError('forbidden', toAppError(err).message);
  });
  if (pinInUri !== undefined) {
    if (pinInUri !== pin) throw new AppError('forbidden', 'wrong PIN');
  } else {
    const header = one(req, 'authorization');
    if (!header) throw new AppError('unauthenticated', 'credentials needed');
    const cred = parseDigest(header);
    if (!cred) throw new AppError('bad_request', 'malformed Authorization header');
    if (cred.username !== pointId) throw new AppError('forbidden', 'the user name must be the point code');
    const verdict = d.digest.verify(cred, { method: 'INVITE', uri: req.uri, sourceIp: from.address }, pin);
    if (verdict === 'stale') throw new AppError('unauthenticated', 'nonce expired', { details: { stale: true } });
    if (verdict !== 'ok') throw new AppError('forbidden', 'wrong password');
  }
  // Calls being set up count too (this one among them), so concurrent INVITEs cannot pass it.
  if (inUse() > d.config.maxCalls)
    throw new AppError('limit_exceeded', `the gateway holds ${d.config.maxCalls} calls already`);
  const plain = d.config.plainRtpPoints;
  const offer = negotiateOffer(req.body, { allowPlainRtp: plain === '*' || plain.includes(pointId) });
  requireMediaFromSource(offer, from.address);
  return {
    callId: one(req, 'call-id'),
    sessionId: session.id,
    pointId,
    offer,
    source: { ip: from.address, port: from.port },
  };
}
