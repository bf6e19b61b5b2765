// The client side of a re-INVITE the gateway sends inside a call it accepted (RFC 3261
// 14.1, 17.1.1): a new offer to the room system, with the next CSeq and a branch of its
// own. Over UDP the INVITE goes again at T1, 2T1, 4T1 … until a response comes (timer A),
// and without a final response in 64 T1 it has failed (timer B, applied from the first
// send, also after a provisional response, so a floor change never waits for ever). A
// final response is acknowledged: a 2xx by an ACK of its own (a new transaction, sent again
// for each retransmitted 2xx), anything else by an ACK on the INVITE's branch. A refusal
// leaves the session as it was (RFC 3261 14.1); the call stays up. A 481 or 408, or no
// final response at all, means the dialog is gone: the call is ended (RFC 3261 12.2.1.2).
import type { Logger } from 'pino';
import { AppError, why } from '../errors';
import { inDialogHeaders, newBranch, type Call, type Remote } from './dialog';
import { one, responseTo, writeRequest, type SipResponse } from './message';

export const T1_MS = 500;
/** How long a finished transaction still answers retransmitted final responses (timer D, 2xx). */
const KEEP_MS = 32_000;

export interface ReInviteDeps {
  send(buf: Buffer, to: Remote): void;
  /** Our host:port, for Via. */
  sentBy(): string;
  /** Our Contact header. */
  contact(): [string, string];
  /** The dialog is gone (a 481 or 408, or no answer): the call is ended (a BYE). */
  lost(callId: string, reason: string): void;
  logger: Logger;
  /** T1 (default 500 ms); tests shorten it. */
  t1Ms?: number;
}

interface Pending {
  readonly call: Call;
  readonly branch: string;
  readonly cseq: number;
  readonly invite: Buffer;
  readonly resolve: (sdp: string) => void;
  readonly reject: (err: AppError) => void;
  timerA: NodeJS.Timeout | undefined;
  timerB: NodeJS.Timeout | undefined;
  /** The ACK sent for its final response: sent again for each retransmission of it. */
  ack: Buffer | undefined;
}

export class ReInviteClient {
  readonly #d: ReInviteDeps;
  readonly #t1: number;
  readonly #byBranch = new Map<string, Pending>();
  /** Calls with a re-INVITE under way: one at a time per dialog (RFC 3261 14.1). */
  readonly #busy = new Map<string, Pending>();

  constructor(deps: ReInviteDeps) {
    this.#d = deps;
    this.#t1 = deps.t1Ms ?? T1_MS;
  }

  /** Whether a re-INVITE of this call waits for its final response. */
  pending(callId: string): boolean {
    return this.#busy.has(callId);
  }

  /** Sends `sdp` as a new offer; resolves with the room system's answer, or rejects with an AppError. */
  send(call: Call, sdp: string): Promise<string> {
    const callId = call.request.callId;
    if (this.#busy.has(callId))
      return Promise.reject(
        new AppError(
          'conflict',
          'a change of this call is under way; retry',
          why('room_system_refused', { status: 491 }),
        ),
      );
    call.cseq += 1;
    const branch = newBranch();
    const invite = writeRequest(
      'INVITE',
      call.remoteUri,
      [
        ...inDialogHeaders(call, { method: 'INVITE', cseq: call.cseq, branch, sentBy: this.#d.sentBy() }),
        this.#d.contact(),
      ],
      { type: 'application/sdp', text: sdp },
    );
    return new Promise<string>((resolve, reject) => {
      const p: Pending = {
        call,
        branch,
        cseq: call.cseq,
        invite,
        resolve,
        reject,
        timerA: undefined,
        timerB: undefined,
        ack: undefined,
      };
      this.#byBranch.set(branch, p);
      this.#busy.set(callId, p);
      this.#d.send(invite, call.remote);
      this.#retransmit(p, this.#t1);
      p.timerB = setTimeout(() => {
        this.#finish(p);
        // A final response that still comes is acknowledged (a late 2xx is not retransmitted for ever).
        this.#forget(p, KEEP_MS);
        this.#d.logger.info({ callId }, 're-INVITE timed out');
        reject(
          new AppError(
            'unavailable',
            'the room system did not answer the change of the call',
            why('room_system_refused', { status: 408 }),
          ),
        );
        this.#d.lost(callId, 'no answer to a re-INVITE');
      }, 64 * this.#t1);
      p.timerB.unref();
    });
  }

  /** A response: true if it belongs to one of our re-INVITEs (acted on or ignored), false otherwise. */
  onResponse(res: SipResponse): boolean {
    const found = responseTo(res, this.#byBranch);
    if (!found) return false;
    const { tx: p, cseq } = found;
    if (!cseq || cseq.method !== 'INVITE' || cseq.seq !== p.cseq || found.callId !== p.call.request.callId) return true;
    if (res.status < 200) {
      // Proceeding: the room system has it; no more retransmissions (timer B still bounds the wait).
      clearTimeout(p.timerA);
      p.timerA = undefined;
      return true;
    }
    if (p.ack) {
      this.#d.send(p.ack, p.call.remote);
      return true;
    }
    const ok = res.status < 300;
    // A 2xx is acknowledged end to end (a new branch); any other final response on the INVITE's own.
    p.ack = writeRequest(
      'ACK',
      p.call.remoteUri,
      inDialogHeaders(p.call, {
        method: 'ACK',
        cseq: p.cseq,
        branch: ok ? newBranch() : p.branch,
        sentBy: this.#d.sentBy(),
        to: one(res, 'to'),
      }),
    );
    this.#d.send(p.ack, p.call.remote);
    const settled = this.#busy.get(p.call.request.callId) === p;
    this.#finish(p);
    this.#forget(p, KEEP_MS);
    if (!settled) return true; // it had timed out or the call ended: nothing waits for it
    const callId = p.call.request.callId;
    if (!ok) {
      this.#d.logger.info({ callId, status: res.status }, 're-INVITE refused');
      p.reject(
        new AppError(
          'conflict',
          `the room system refused the change of the call (${res.status} ${res.reason})`,
          why('room_system_refused', { status: res.status }),
        ),
      );
      if (res.status === 481 || res.status === 408) this.#d.lost(callId, `re-INVITE answered ${res.status}`);
    } else if (!/^application\/sdp\b/i.test(one(res, 'content-type')) || !res.body.trim()) {
      p.reject(
        new AppError(
          'conflict',
          'the room system accepted the change without an SDP answer',
          why('room_system_refused', { status: res.status }),
        ),
      );
    } else p.resolve(res.body);
    return true;
  }

  /** The call ended: a re-INVITE under way fails, and its retransmissions stop. */
  ended(callId: string): void {
    const p = this.#busy.get(callId);
    if (!p) return;
    this.#finish(p);
    this.#forget(p, 0);
    p.reject(new AppError('not_found', 'the call ended', why('room_system_refused', { status: 481 })));
  }

  close(): void {
    for (const callId of [...this.#busy.keys()]) this.ended(callId);
  }

  #retransmit(p: Pending, wait: number): void {
    p.timerA = setTimeout(() => {
      if (this.#busy.get(p.call.request.callId) !== p || p.timerA === undefined) return;
      this.#d.send(p.invite, p.call.remote);
      this.#retransmit(p, wait * 2);
    }, wait);
    p.timerA.unref();
  }

  /** No more retransmissions or timeout; the call may send its next re-INVITE. */
  #finish(p: Pending): void {
    clearTimeout(p.timerA);
    clearTimeout(p.timerB);
    p.timerA = undefined;
    if (this.#busy.get(p.call.request.callId) === p) this.#busy.delete(p.call.request.callId);
  }

  #forget(p: Pending, afterMs: number): void {
    if (afterMs === 0) this.#byBranch.delete(p.branch);
    else setTimeout(() => this.#byBranch.get(p.branch) === p && this.#byBranch.delete(p.branch), afterMs).unref();
  }
}
