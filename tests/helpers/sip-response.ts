// The wire of the gateway's INVITE client, faked for the unit tests of that client and of
// dial-out: what it sends, and a room system's responses built from its requests.
import pino from 'pino';
import { InviteClient } from '../../server/sip/invite-client';
import { one, parseSipMessage, type SipRequest, type SipResponse } from '../../server/sip/message';

/** `status` to `to` (its Via, From, Call-ID and CSeq; their To tag from 101 on). */
export function respondTo(
  to: SipRequest,
  status: number,
  opts: { tag?: string; body?: string; contact?: string; cseq?: string } = {},
): SipResponse {
  const lines = [
    `SIP/2.0 ${status} Reason`,
    `Via: ${one(to, 'via')}`,
    `From: ${one(to, 'from')}`,
    `To: ${one(to, 'to')}${status > 100 ? `;tag=${opts.tag ?? 'theirs'}` : ''}`,
    `Call-ID: ${one(to, 'call-id')}`,
    `CSeq: ${opts.cseq ?? one(to, 'cseq')}`,
    ...(opts.contact ? [`Contact: ${opts.contact}`] : []),
    ...(opts.body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(opts.body ?? '')}`,
    '',
    opts.body ?? '',
  ];
  return parseSipMessage(Buffer.from(lines.join('\r\n'))) as SipResponse;
}

/** An INVITE client on a fake wire: what it sends is parsed into `sent`, with where it went. */
export function wiredInviteClient(
  t1Ms: number,
  ringMs: number,
): {
  client: InviteClient;
  sent: { msg: SipRequest; to: string }[];
} {
  const sent: { msg: SipRequest; to: string }[] = [];
  const client = new InviteClient({
    send: (buf, to) => sent.push({ msg: parseSipMessage(buf) as SipRequest, to: `${to.address}:${to.port}` }),
    sentBy: () => '10.0.0.1:5060',
    logger: pino({ level: 'silent' }),
    t1Ms,
    ringMs,
  });
  return { client, sent };
}
