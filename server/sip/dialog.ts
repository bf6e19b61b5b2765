// A call the gateway accepted, as a SIP dialog (RFC 3261 12): what names it (Call-ID, our
// To tag, their From tag), where its requests go, and the headers of a request the gateway
// sends inside it (BYE, re-INVITE, ACK).
import { randomBytes } from 'node:crypto';
import type { SipCallMedia, SipCallRequest } from './call-types';
import { headerParams, one, type SipRequest } from './message';

export interface Remote {
  address: string;
  port: number;
}

export interface Call {
  readonly request: SipCallRequest;
  readonly toTag: string;
  /** Our side's From in requests we send (their To with our tag) and theirs (their From). */
  readonly local: string;
  readonly remoteUri: string;
  readonly theirFrom: string;
  /** The tag of their From: with toTag, what names the dialog besides the Call-ID. */
  readonly fromTag: string | undefined;
  readonly remote: Remote;
  readonly ok: Buffer;
  media: SipCallMedia | undefined;
  /** Our current session description: the 200 OK's answer, then each re-INVITE's offer. */
  localSdp: string;
  /** The o= version of localSdp. */
  sdpVersion: number;
  confirmed: boolean;
  /** The CSeq of our last request in the dialog (RFC 3261 12.2.1.1: one more for each new one). */
  cseq: number;
  okTimer: NodeJS.Timeout | undefined;
}

/** The call a request inside a dialog belongs to: its Call-ID, our To tag and their From tag. */
export function dialogOf(calls: ReadonlyMap<string, Call>, req: SipRequest): Call | undefined {
  const call = calls.get(one(req, 'call-id'));
  if (!call) return undefined;
  const toTag = headerParams(one(req, 'to')).get('tag');
  const fromTag = headerParams(one(req, 'from')).get('tag');
  return toTag === call.toTag && fromTag === call.fromTag ? call : undefined;
}

/** A Via branch of our own (RFC 3261 8.1.1.7: the magic cookie, then enough randomness). */
export function newBranch(): string {
  return `z9hG4bK${randomBytes(8).toString('hex')}`;
}

/** What names a dialog's requests besides its tags: its Call-ID. */
export interface DialogRequest {
  readonly request: Pick<SipCallRequest, 'callId'>;
}

/** The headers of a request of ours inside the dialog; `sentBy` is our host:port. */
export function inDialogHeaders(
  call: Pick<Call, 'local' | 'theirFrom'> & DialogRequest,
  opts: { method: string; cseq: number; branch: string; sentBy: string; to?: string },
): [string, string][] {
  return [
    ['Via', `SIP/2.0/UDP ${opts.sentBy};branch=${opts.branch};rport`],
    ['From', call.local],
    ['To', opts.to ?? call.theirFrom],
    ['Call-ID', call.request.callId],
    ['CSeq', `${opts.cseq} ${opts.method}`],
  ];
}
