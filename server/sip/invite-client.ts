// The client side of an INVITE that opens a call (dial-out, RFC 3261 13.2 and 17.1.1): the
// gateway calls a point's room system. Over UDP the INVITE goes again at T1, 2T1, 4T1 …
// until a response comes (timer A); with no response at all in 64 T1 the call has failed
// (timer B, 408). A provisional response (180 Ringing, 183) stops the retransmissions and
// is reported (the monitor shows "ringing"); the room system may then ring until
// `ringMs`, after which the call is cancelled (408). A 2xx is acknowledged by an ACK of
// its own (a new branch, to the Contact it gives; sent again for each retransmitted 2xx)
// and opens the dialog; anything from 300 on is acknowledged on the INVITE's branch and
// is the call's failure, with its status.
//
// Cancelling (the technician hangs up before the answer) settles the call at once (487);
// the CANCEL itself goes only after a provisional response (RFC 3261 9.1), and is sent
// again at T1, 2T1 … (at most T2 apart) until answered, for at most 64 T1. A 2xx that
// still arrives after a cancel, or a second 2xx from another branch of a fork, is
// acknowledged and ended at once with a BYE (RFC 3261 13.2.2.4, 15).
//
// Every request, also the ACK and BYE of the dialog, goes to the address the INVITE was
// sent to (checked by dial-target.ts), never to an address a response names.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError, why } from '../errors';
import { newBranch, type Call, type Remote } from './dialog';
import type { SipCallMedia, SipCallRequest } from './call-types';
import { headerParams, nameAddrUri, one, responseTo, writeRequest, type SipResponse } from './message';
import { T1_MS } from './reinvite';

/** Longest wait between two retransmissions of a CANCEL (RFC 3261 T2). */
const T2_MS = 4000;
/** How long a finished transaction still answers retransmitted final responses (timer D, 2xx). */
const KEEP_MS = 32_000;
/** How long a room system may ring before the call is cancelled. */
export const RING_MS = 60_000;

export interface InviteClientDeps {
  send(buf: Buffer, to: Remote): void;
  /** Our host:port, for Via and Contact. */
  sentBy(): string;
  logger: Logger;
  /** T1 (default 500 ms) and the ring time (default RING_MS); tests shorten them. */
  t1Ms?: number;
  ringMs?: number;
}

export interface DialRequest {
  /** The Request-URI and To (sip:user@host[:port], from dial-target.ts). */
  uri: string;
  /** Where the requests go (the checked address of the URI's host). */
  remote: Remote;
  /** Our SDP offer. */
  sdp: string;
  /** A provisional response (180 Ringing, 183 Session Progress). */
  onProgress?(status: number, reason: string): void;
}

/** An answered call: its dialog (RFC 3261 12.1.2) and the room system's SDP answer. */
export interface DialedCall {
  callId: string;
  /** Our From (with our tag): From of every request we send in the dialog. */
  local: string;
  /** Their To with their tag, as the 2xx gave it: To of every request we send. */
  remoteTo: string;
  localTag: string;
  remoteTag: string | undefined;
  /** Where requests in the dialog are addressed (the 2xx's Contact). */
  remoteUri: string;
  remote: Remote;
  /** The CSeq of our last request in the dialog (the INVITE's). */
  cseq: number;
  /** The room system's SDP answer (Content-Type application/sdp). */
  answer: string;
}

export interface Dialling {
  callId: string;
  /** The answered call, or an AppError (dial_failed, { status }). */
  answered: Promise<DialedCall>;
  /** The technician hung up before the answer: settles `answered` with 487, CANCELs when it may. */
  cancel(): void;
}

interface Tx {
  readonly req: DialRequest;
  readonly callId: string;
  readonly from: string;
  readonly localTag: string;
  readonly branch: string;
  readonly invite: Buffer;
  state: 'calling' | 'proceeding' | 'done';
  settled: boolean;
  cancelWanted: boolean;
  cancel: Buffer | undefined;
  /** The room system answered our CANCEL: it is not sent again (e.g. by the ring timer). */
  cancelAnswered: boolean;
  timers: Set<NodeJS.Timeout>;
  timerA: NodeJS.Timeout | undefined;
  /** The ACK sent for each final response, by its To tag: sent again for each retransmission. */
  acks: Map<string, Buffer>;
  resolve(call: DialedCall): void;
  reject(err: AppError): void;
}

const CSEQ = 1;

const failed = (status: number, message: string) => new AppError('conflict', message, why('dial_failed', { status }));

export class InviteClient {
  readonly #d: InviteClientDeps;
  readonly #t1: number;
  readonly #ringMs: number;
  readonly #byBranch = new Map<string, Tx>();

  constructor(deps: InviteClientDeps) {
    this.#d = deps;
    this.#t1 = deps.t1Ms ?? T1_MS;
    this.#ringMs = deps.ringMs ?? RING_MS;
  }

  /** Sends the INVITE of a new call. */
  dial(req: DialRequest): Dialling {
    const sentBy = this.#d.sentBy();
    const localTag = randomBytes(8).toString('hex');
    const callId = `${randomBytes(12).toString('hex')}@briefing`;
    const from = `<sip:briefing@${sentBy}>;tag=${localTag}`;
    const branch = newBranch();
    const invite = writeRequest(
      'INVITE',
      req.uri,
      [
        ...this.#headers({ branch, from, to: `<${req.uri}>`, callId, method: 'INVITE' }),
        ['Contact', `<sip:briefing@${sentBy}>`],
        ['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO'],
      ],
      { type: 'application/sdp', text: req.sdp },
    );
    let resolve!: (call: DialedCall) => void;
    let reject!: (err: AppError) => void;
    const answered = new Promise<DialedCall>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Settled by a cancel or a timeout while nobody awaits it: not an unhandled rejection.
    answered.catch(() => undefined);
    const tx: Tx = {
      req,
      callId,
      from,
      localTag,
      branch,
      invite,
      state: 'calling',
      settled: false,
      cancelWanted: false,
      cancel: undefined,
      cancelAnswered: false,
      timers: new Set(),
      timerA: undefined,
      acks: new Map(),
      resolve,
      reject,
    };
    this.#byBranch.set(branch, tx);
    this.#d.send(invite, req.remote);
    this.#retransmitInvite(tx, this.#t1);
    this.#after(tx, 64 * this.#t1, () => {
      if (tx.state !== 'calling') return;
      this.#done(tx);
      this.#forget(tx);
      this.#settle(tx, failed(408, 'the room system did not answer'));
    });
    return { callId, answered, cancel: () => this.#cancel(tx) };
  }

  /** A response: true if it belongs to one of our INVITEs or CANCELs (acted on or ignored). */
  onResponse(res: SipResponse): boolean {
    const found = responseTo(res, this.#byBranch);
    if (!found) return false;
    const { tx, cseq, callId } = found;
    if (!cseq || cseq.seq !== CSEQ || callId !== tx.callId) return true;
    if (cseq.method === 'CANCEL') {
      // Answered: no more CANCELs; the INVITE's 487 (or its 2xx) follows.
      tx.cancel = undefined;
      tx.cancelAnswered = true;
      // Its 487 may be lost: the INVITE transaction ends 64 T1 later anyway (RFC 3261 9.1).
      this.#after(tx, 64 * this.#t1, () => {
        this.#done(tx);
        this.#forget(tx);
      });
      return true;
    }
    if (cseq.method !== 'INVITE') return true;
    if (res.status < 200) this.#onProvisional(tx, res);
    else this.#onFinal(tx, res);
    return true;
  }

  /** Stops every call being placed (the gateway closes). */
  close(): void {
    for (const tx of [...this.#byBranch.values()]) {
      if (tx.state !== 'done' && !tx.settled) this.#settle(tx, failed(503, 'the server is stopping'));
      if (tx.state === 'proceeding') this.#sendCancel(tx);
      this.#done(tx);
      this.#byBranch.delete(tx.branch);
    }
  }

  #onProvisional(tx: Tx, res: SipResponse): void {
    if (tx.state === 'done') return;
    if (tx.state === 'calling') {
      tx.state = 'proceeding';
      clearTimeout(tx.timerA);
      tx.timerA = undefined;
      // Timer B no longer applies: the room system rings until RING_MS.
      for (const t of tx.timers) clearTimeout(t);
      tx.timers.clear();
      this.#after(tx, this.#ringMs, () => {
        if (tx.state !== 'proceeding') return;
        this.#settle(tx, failed(408, 'the room system rang but nobody answered'));
        this.#sendCancel(tx);
      });
      if (tx.cancelWanted) this.#sendCancel(tx);
    }
    if (!tx.settled) tx.req.onProgress?.(res.status, res.reason);
  }

  #onFinal(tx: Tx, res: SipResponse): void {
    const to = one(res, 'to');
    const tag = headerParams(to).get('tag') ?? '';
    const known = tx.acks.get(tag);
    if (known) {
      this.#d.send(known, tx.req.remote); // a retransmitted final response: the same ACK again
      return;
    }
    const ok = res.status < 300;
    const contact = one(res, 'contact');
    const remoteUri = ok && contact ? nameAddrUri(contact) : tx.req.uri;
    // A 2xx is acknowledged end to end (a new branch, to its Contact); anything else on the INVITE's branch.
    const ack = writeRequest(
      'ACK',
      remoteUri,
      this.#headers({ branch: ok ? newBranch() : tx.branch, from: tx.from, to, callId: tx.callId, method: 'ACK' }),
    );
    tx.acks.set(tag, ack);
    this.#d.send(ack, tx.req.remote);
    const first = tx.state !== 'done';
    this.#done(tx);
    this.#forget(tx);
    if (ok && (!first || tx.settled)) {
      // Cancelled meanwhile, or another branch of a fork answered too: this dialog ends at once.
      this.#bye(tx, remoteUri, to);
      return;
    }
    if (!first || tx.settled) return;
    if (!ok) {
      this.#d.logger.info({ callId: tx.callId, status: res.status }, 'dial-out refused');
      this.#settle(tx, failed(res.status, `the room system refused the call (${res.status} ${res.reason})`));
      return;
    }
    if (!/^application\/sdp\b/i.test(one(res, 'content-type')) || !res.body.trim()) {
      this.#bye(tx, remoteUri, to);
      this.#settle(tx, failed(res.status, 'the room system answered without an SDP answer'));
      return;
    }
    tx.settled = true;
    tx.resolve({
      callId: tx.callId,
      local: tx.from,
      remoteTo: to,
      localTag: tx.localTag,
      remoteTag: tag || undefined,
      remoteUri,
      remote: tx.req.remote,
      cseq: CSEQ,
      answer: res.body,
    });
  }

  #cancel(tx: Tx): void {
    if (tx.settled) return;
    this.#settle(tx, failed(487, 'the call was cancelled'));
    if (tx.state === 'proceeding') this.#sendCancel(tx);
    else if (tx.state === 'calling') tx.cancelWanted = true; // sent once the room system has it (a 1xx)
  }

  /** CANCEL on the INVITE's branch, again at T1, 2T1 … (at most T2) until answered, for at most 64 T1. */
  #sendCancel(tx: Tx): void {
    if (tx.cancel || tx.cancelAnswered) return;
    tx.cancel = writeRequest(
      'CANCEL',
      tx.req.uri,
      this.#headers({ branch: tx.branch, from: tx.from, to: `<${tx.req.uri}>`, callId: tx.callId, method: 'CANCEL' }),
    );
    const cancel = tx.cancel;
    this.#d.send(cancel, tx.req.remote);
    let waited = 0;
    const again = (wait: number) =>
      this.#after(tx, wait, () => {
        waited += wait;
        if (tx.cancel !== cancel || tx.state === 'done') return;
        if (waited >= 64 * this.#t1) {
          // Neither the CANCEL nor the INVITE was answered: give up on it.
          this.#done(tx);
          this.#forget(tx);
          return;
        }
        this.#d.send(cancel, tx.req.remote);
        again(Math.min(wait * 2, T2_MS));
      });
    again(this.#t1);
  }

  #bye(tx: Tx, uri: string, to: string): void {
    this.#d.send(
      writeRequest('BYE', uri, [
        ...this.#headers({ branch: newBranch(), from: tx.from, to, callId: tx.callId, method: 'BYE', seq: CSEQ + 1 }),
        ['Reason', 'SIP;cause=487;text="the call was cancelled"'],
      ]),
      tx.req.remote,
    );
  }

  #headers(h: {
    branch: string;
    from: string;
    to: string;
    callId: string;
    method: string;
    seq?: number;
  }): [string, string][] {
    return [
      ['Via', `SIP/2.0/UDP ${this.#d.sentBy()};branch=${h.branch};rport`],
      ['From', h.from],
      ['To', h.to],
      ['Call-ID', h.callId],
      ['CSeq', `${h.seq ?? CSEQ} ${h.method}`],
    ];
  }

  #retransmitInvite(tx: Tx, wait: number): void {
    tx.timerA = setTimeout(() => {
      if (tx.state !== 'calling' || tx.timerA === undefined) return;
      this.#d.send(tx.invite, tx.req.remote);
      this.#retransmitInvite(tx, wait * 2);
    }, wait);
    tx.timerA.unref();
  }

  #after(tx: Tx, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      tx.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    tx.timers.add(t);
  }

  #settle(tx: Tx, err: AppError): void {
    if (tx.settled) return;
    tx.settled = true;
    tx.reject(err);
  }

  /** No more retransmissions or timers of the INVITE. */
  #done(tx: Tx): void {
    tx.state = 'done';
    clearTimeout(tx.timerA);
    tx.timerA = undefined;
    for (const t of tx.timers) clearTimeout(t);
    tx.timers.clear();
  }

  /** Retransmitted final responses are still acknowledged for KEEP_MS. */
  #forget(tx: Tx): void {
    const t = setTimeout(() => this.#byBranch.get(tx.branch) === tx && this.#byBranch.delete(tx.branch), KEEP_MS);
    t.unref();
  }
}

/** An answered call the gateway placed, as a dialog like one dialled in (`sendonly`, version 1). */
export function placedCall(dialed: DialedCall, request: SipCallRequest, media: SipCallMedia): Call {
  return {
    request,
    toTag: dialed.localTag,
    local: dialed.local,
    remoteUri: dialed.remoteUri,
    theirFrom: dialed.remoteTo,
    fromTag: dialed.remoteTag,
    remote: dialed.remote,
    ok: Buffer.alloc(0),
    media,
    localSdp: media.describe?.('sendonly', 1) ?? '',
    sdpVersion: 1,
    confirmed: true,
    cseq: dialed.cseq,
    okTimer: undefined,
  };
}
