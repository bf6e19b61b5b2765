// The SIP side of room systems (Polycom, Cisco, Yealink, an H.323 gateway's SIP leg): a
// small user agent on one UDP port. A point's room system dials `sip:<point code>@<host>`,
// authenticated by digest (user name: the point code, password: its PIN) or with the PIN
// in the address (`sip:<code>*<PIN>@<host>`); the PIN is derived from the point's join link
// in the open session (JoinLinks.sipPin), so it changes with each session and with a
// re-issued link, and nothing new is stored. The monitor may also have it call a room
// system (dial-out.ts; its INVITEs in invite-client.ts): answered, such a call is adopted
// here and is one like any other. Why its own agent rather than a SIP stack: docs/sip.md.
//
// Order of checks for an INVITE, cheapest first: size and syntax (400), per-source rate
// (503 with Retry-After, then silence), point (404), open session (480), credentials (401
// challenge, 403 wrong), call cap (486), SDP (400 unreadable, 488 nothing in common), then
// the media bridge (503 if it cannot serve). Nothing a caller sends reaches another call.
// The checks are in authorize.ts, a call as a dialog in dialog.ts, and the re-INVITEs the
// gateway sends (the floor, floor-bridge.ts) in reinvite.ts.
import dgram from 'node:dgram';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError, toAppError } from '../errors';
import type { CallDirection } from './answer';
import { authorizeInvite } from './authorize';
import type { SipCallInfo, SipCallMedia, SipCallRequest, SipConfig, SipMediaBridge } from './call-types';
import type { DigestAuth } from './digest';
import { dialogOf, inDialogHeaders, newBranch, type Call, type DialogRequest, type Remote } from './dialog';
import {
  headerParams,
  nameAddrUri,
  one,
  parseSipMessage,
  writeRequest,
  writeResponse,
  type SipRequest,
} from './message';
import { InviteClient, placedCall, type DialedCall, type DialRequest, type Dialling } from './invite-client';
import { InviteTransactions, type InviteTx } from './invite-tx';
import { ReInviteClient, T1_MS } from './reinvite';
import type { Admission, SourceLimit } from './source-limit';
import { bestEffortRequest, reasonPhrase, sipStatusOf, warningOf } from './status';

export { NO_SIP_MEDIA } from './call-types';
export type { SipCallMedia, SipCallRequest, SipConfig, SipMediaBridge } from './call-types';

export interface SipGatewayDeps {
  config: SipConfig;
  points: { get(pointId: string): Promise<unknown> };
  /** Sessions in the lobby or live that invite the point, live first. */
  sessions: { openFor(pointId: string): Promise<{ id: string }[]> };
  pins: { sipPin(sessionId: string, pointId: string): Promise<string> };
  media: SipMediaBridge;
  /** Digest challenges and checks (digest.ts). */
  digest: DigestAuth;
  /** The per-address limit on INVITEs (config.invitesPerMinute, inviteBurst). */
  invites: SourceLimit;
  /** The per-address ceiling on all datagrams, before parsing. */
  datagrams: SourceLimit;
  logger: Logger;
  /** A call's start and end, for attendance and the monitor (call-health.ts). */
  calls?: {
    started(call: SipCallRequest, media: SipCallMedia): void;
    ended(call: SipCallRequest, reason: string): void;
  };
}

const ALLOW = 'INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO';

interface ReplyOptions {
  headers?: [string, string][];
  /** Said in a Warning header. */
  err?: AppError;
  /** An SDP body. */
  body?: string;
}

export class SipGateway {
  readonly #d: SipGatewayDeps;
  readonly #log: Logger;
  readonly #socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
  readonly #digest: DigestAuth;
  readonly #invites: SourceLimit;
  /** Every datagram counts here: a flood of anything is cut before parsing costs much. */
  readonly #datagrams: SourceLimit;
  readonly #tx = new InviteTransactions();
  readonly #calls = new Map<string, Call>();
  /** Call-IDs of INVITEs being authorised or having their media opened: counted in the cap. */
  readonly #pending = new Set<string>();
  readonly #reinvites: ReInviteClient;
  /** The INVITEs of calls the gateway places (dial-out.ts). */
  readonly #dialling: InviteClient;
  #closed = false;

  constructor(deps: SipGatewayDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'sip' });
    this.#digest = deps.digest;
    this.#invites = deps.invites;
    this.#datagrams = deps.datagrams;
    this.#reinvites = new ReInviteClient({
      send: (buf, to) => this.#send(buf, to),
      sentBy: () => this.#sentBy(),
      contact: () => this.#contact()[0]!,
      lost: (callId, reason) => this.hangUp(callId, reason),
      logger: this.#log,
    });
    this.#dialling = new InviteClient({
      send: (buf, to) => this.#send(buf, to),
      sentBy: () => this.#sentBy(),
      logger: this.#log,
    });
    this.#socket.on('message', (data, rinfo) => this.#onDatagram(data, rinfo));
    this.#socket.on('error', (err) => this.#log.error({ err }, 'SIP socket error'));
  }

  async listen(): Promise<{ address: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.#socket.once('error', reject);
      this.#socket.bind(this.#d.config.port, this.#d.config.listenIp, () => {
        this.#socket.off('error', reject);
        resolve();
      });
    });
    const addr = this.#socket.address();
    this.#log.info({ address: addr.address, port: addr.port }, 'SIP gateway listening (UDP)');
    return { address: addr.address, port: addr.port };
  }

  get callCount(): number {
    return this.#calls.size;
  }

  close(): void {
    if (this.#closed) return;
    // BYE to every room system first: they end the call now instead of timing out.
    for (const id of [...this.#calls.keys()]) this.hangUp(id, 'server stopping');
    this.#dialling.close();
    this.#closed = true;
    this.#reinvites.close();
    this.#tx.clear();
    this.#socket.close();
  }

  /** The call of a point in a session, if it is up on this gateway. */
  callOf(sessionId: string, pointId: string): SipCallInfo | undefined {
    for (const c of this.#calls.values()) {
      const r = c.request;
      if (r.sessionId === sessionId && r.pointId === pointId)
        return { callId: r.callId, offer: r.offer, media: c.media };
    }
    return undefined;
  }

  /**
   * Sends the room system a re-INVITE with our lines in `direction` (sendrecv: it may send
   * its camera and microphone; sendonly: it receives only). Resolves with its SDP answer;
   * rejects with an AppError (room_system_refused) when it refuses (the call stays up as
   * it was) or does not answer, or answers 481 or 408 (the call is ended, RFC 3261 12.2.1.2).
   */
  async redirect(callId: string, direction: CallDirection): Promise<string> {
    const call = this.#calls.get(callId);
    if (!call?.media?.describe) throw new AppError('not_found', `no call ${callId}`);
    // Each offer sent has a version of its own (RFC 3264 8), even one refused or answered
    // late: the room system may have applied it.
    call.sdpVersion += 1;
    const sdp = call.media.describe(direction, call.sdpVersion);
    const answer = await this.#reinvites.send(call, sdp);
    if (this.#calls.get(callId) === call) call.localSdp = sdp;
    return answer;
  }

  /** Ends a call from our side: BYE to the room system, media closed. */
  hangUp(callId: string, reason: string): void {
    const call = this.#calls.get(callId);
    if (!call) return;
    this.#bye(call, reason);
    this.#end(call, reason);
  }

  /**
   * This server's addresses (where the gateway listens, what it announces, every address of
   * the machine's interfaces): never a call's target.
   */
  ownAddresses(): string[] {
    const { listenIp, announcedIp } = this.#d.config;
    const interfaces = Object.values(os.networkInterfaces()).flatMap((l) => (l ?? []).map((i) => i.address));
    return [this.#socket.address().address, listenIp, announcedIp ?? '', ...interfaces].filter(Boolean);
  }

  /** Sends the INVITE of a call the gateway places (dial-out.ts); responses come back here. */
  invite(req: DialRequest): Dialling {
    return this.#dialling.dial(req);
  }

  /**
   * A call the gateway placed, answered: from now on a call like one dialled in (BYE,
   * re-INVITEs, the floor, the monitor). Otherwise only ended with a BYE, and why is
   * returned: its answer was refused, the gateway has closed, or its point has a call
   * already (it dialled in meanwhile).
   */
  adopt(
    dialed: DialedCall,
    placed: { request: SipCallRequest; media: SipCallMedia } | { refused: string },
  ): { reason: string; status?: number } | undefined {
    const refused =
      'refused' in placed
        ? { reason: placed.refused }
        : this.#closed
          ? { reason: 'the server is stopping', status: 503 }
          : this.callOf(placed.request.sessionId, placed.request.pointId)
            ? { reason: 'the room system is connected already', status: 486 }
            : undefined;
    if (refused || 'refused' in placed) {
      const reason = refused?.reason ?? 'refused';
      this.#bye({ ...dialed, theirFrom: dialed.remoteTo, request: { callId: dialed.callId } }, reason);
      if ('media' in placed) placed.media.close();
      return refused ?? { reason };
    }
    const { request, media } = placed;
    const c = placedCall(dialed, request, media);
    this.#calls.set(request.callId, c);
    this.#log.info({ callId: request.callId, pointId: request.pointId, to: dialed.remote }, 'SIP call placed');
    this.#d.calls?.started(request, media);
    return undefined;
  }

  #bye(
    call: Pick<Call, 'local' | 'theirFrom' | 'remoteUri' | 'remote' | 'cseq'> & DialogRequest,
    reason: string,
  ): void {
    call.cseq += 1;
    this.#send(
      writeRequest('BYE', call.remoteUri, [
        ...inDialogHeaders(call, { method: 'BYE', cseq: call.cseq, branch: newBranch(), sentBy: this.#sentBy() }),
        ['Reason', `SIP;cause=200;text="${quoteSafe(reason)}"`],
      ]),
      call.remote,
    );
  }

  #sentBy(): string {
    const { address, port } = this.#socket.address();
    return `${this.#d.config.announcedIp || address}:${port}`;
  }

  #end(call: Call, reason: string): void {
    if (this.#calls.get(call.request.callId) !== call) return;
    this.#calls.delete(call.request.callId);
    clearTimeout(call.okTimer);
    this.#reinvites.ended(call.request.callId);
    call.media?.close();
    this.#log.info({ callId: call.request.callId, pointId: call.request.pointId, reason }, 'SIP call ended');
    this.#d.calls?.ended(call.request, reason);
  }

  #send(buf: Buffer, to: Remote): void {
    if (this.#closed) return;
    this.#socket.send(buf, to.port, to.address, (err) => {
      if (err) this.#log.debug({ err, to }, 'SIP send failed');
    });
  }

  #onDatagram(data: Buffer, rinfo: dgram.RemoteInfo): void {
    const from: Remote = { address: rinfo.address, port: rinfo.port };
    if (this.#admit(this.#datagrams.admit(rinfo.address), from) !== 'serve') return;
    // Keep-alives (CRLF) of RFC 5626 are answered by nothing.
    if (data.length <= 4 && /^[\r\n]*$/.test(data.toString('latin1'))) return;
    let msg: ReturnType<typeof parseSipMessage>;
    try {
      msg = parseSipMessage(data);
    } catch (err) {
      const e = toAppError(err);
      this.#log.info({ from, reason: e.message }, 'malformed SIP message refused');
      const req = bestEffortRequest(data);
      if (req && req.method !== 'ACK')
        this.#send(writeResponse(req, 400, 'Bad Request', { headers: [warningOf(e)] }), from);
      return;
    }
    // To an INVITE or re-INVITE of ours, else to a BYE: nothing more to do.
    if (msg.kind === 'response') {
      if (!this.#dialling.onResponse(msg)) this.#reinvites.onResponse(msg);
      return;
    }
    const req = msg;
    void this.#onRequest(req, from).catch((err: unknown) => {
      this.#log.error({ err, from, method: req.method }, 'SIP request failed');
      this.#reply(req, from, 500, { err: toAppError(err) });
    });
  }

  /** What the limiter said, acted on: a 503 when it refuses, nothing when it drops. */
  #admit(a: Admission, from: Remote, req?: SipRequest): Admission['kind'] {
    if (a.kind === 'refuse' && req) {
      this.#send(
        writeResponse(req, 503, 'Service Unavailable', {
          headers: [
            ['Retry-After', String(a.retryAfterSeconds)],
            ['Warning', '399 briefing "too many requests from this address"'],
          ],
        }),
        from,
      );
    } else if (a.kind === 'drop') this.#log.debug({ from }, 'SIP source over its limit: dropped');
    return a.kind;
  }

  #reply(req: SipRequest, to: Remote, status: number, opts: ReplyOptions & { toTag?: string } = {}): Buffer {
    const headers = [...(opts.headers ?? [])];
    if (opts.err) headers.push(warningOf(opts.err));
    const buf = writeResponse(req, status, reasonPhrase(status), {
      ...(opts.toTag ? { toTag: opts.toTag } : {}),
      headers,
      ...(opts.body ? { body: { type: 'application/sdp', text: opts.body } } : {}),
    });
    this.#send(buf, to);
    return buf;
  }

  async #onRequest(req: SipRequest, from: Remote): Promise<void> {
    switch (req.method) {
      case 'INVITE':
        return this.#onInvite(req, from);
      case 'ACK': {
        const call = dialogOf(this.#calls, req);
        if (call && !call.confirmed) {
          call.confirmed = true;
          clearTimeout(call.okTimer);
        }
        return;
      }
      case 'BYE': {
        const call = dialogOf(this.#calls, req);
        this.#reply(req, from, call ? 200 : 481);
        if (call) this.#end(call, 'hung up by the room system');
        return;
      }
      case 'CANCEL':
        return this.#onCancel(req, from);
      case 'OPTIONS':
        this.#reply(req, from, 200, {
          headers: [
            ['Allow', ALLOW],
            ['Accept', 'application/sdp'],
          ],
        });
        return;
      case 'UPDATE':
      case 'INFO': {
        // Session refreshes and picture requests inside a call; nothing changes on our side.
        const call = dialogOf(this.#calls, req);
        if (!call) this.#reply(req, from, 481);
        else this.#reply(req, from, 200, { toTag: call.toTag });
        return;
      }
      case 'REGISTER':
      case 'SUBSCRIBE':
      case 'NOTIFY':
      case 'REFER':
      case 'MESSAGE':
      case 'PRACK':
      case 'PUBLISH':
        this.#reply(req, from, 405, { headers: [['Allow', ALLOW]] });
        return;
      default:
        this.#reply(req, from, 501, { headers: [['Allow', ALLOW]] });
    }
  }

  async #onInvite(req: SipRequest, from: Remote): Promise<void> {
    const key = this.#tx.keyOf(req);
    const known = this.#tx.get(key);
    if (known) {
      this.#send(known.last, from); // a retransmission: the same answer again
      return;
    }
    const callId = one(req, 'call-id');
    const existing = this.#calls.get(callId);
    if (headerParams(one(req, 'to')).has('tag')) {
      // A re-INVITE (session refresh, hold): the same media, our current description. While
      // one of ours waits for its answer, theirs crosses it: 491, retry later (RFC 3261 14.2).
      if (!existing || dialogOf(this.#calls, req) !== existing) this.#reply(req, from, 481);
      else if (this.#reinvites.pending(callId)) this.#reply(req, from, 491);
      else
        this.#reply(req, from, 200, {
          toTag: existing.toTag,
          body: existing.localSdp,
          headers: this.#contact(),
        });
      return;
    }
    if (existing || this.#pending.has(callId)) {
      // A second INVITE of a call already set up or being set up (another branch): a loop or
      // a confused endpoint. Only the first one opens media.
      this.#reply(req, from, 482);
      return;
    }
    if (this.#admit(this.#invites.admit(from.address), from, req) !== 'serve') return;
    this.#pending.add(callId);
    try {
      await this.#setUp(req, from, key, callId);
    } finally {
      this.#pending.delete(callId);
    }
  }

  /** An INVITE of a new call, from authorisation to the 200 OK; its Call-ID is pending meanwhile. */
  async #setUp(req: SipRequest, from: Remote, key: string, callId: string): Promise<void> {
    const toTag = randomBytes(8).toString('hex');
    const tx: InviteTx = { last: this.#reply(req, from, 100), final: false, cancelled: false, req, toTag };
    this.#tx.remember(key, tx);
    const final = (status: number, opts: ReplyOptions = {}) => {
      tx.final = true;
      tx.last = this.#reply(req, from, status, { toTag, ...opts });
    };
    let call: SipCallRequest;
    try {
      call = await authorizeInvite(this.#d, req, from, () => this.#calls.size + this.#pending.size);
    } catch (err) {
      const e = toAppError(err);
      const status = sipStatusOf(e);
      const headers: [string, string][] =
        status === 401
          ? [['WWW-Authenticate', this.#digest.challenge(from.address, (e.details as { stale?: boolean })?.stale)]]
          : [];
      if (!tx.cancelled) final(status, { err: e, headers });
      this.#log.info({ from, status, reason: e.message }, 'SIP call refused');
      return;
    }
    let media: SipCallMedia;
    try {
      media = await this.#d.media.open(call, (reason) => this.hangUp(call.callId, reason));
    } catch (err) {
      const e = toAppError(err);
      if (!tx.cancelled) final(sipStatusOf(e), { err: e });
      this.#log.warn({ from, pointId: call.pointId, err: e }, 'SIP call refused: no media');
      return;
    }
    if (tx.cancelled || this.#closed) {
      media.close();
      return;
    }
    const contact = one(req, 'contact');
    const theirFrom = one(req, 'from');
    final(200, { body: media.answer, headers: [...this.#contact(), ['Allow', ALLOW]] });
    const c: Call = {
      request: call,
      toTag,
      local: `${one(req, 'to')};tag=${toTag}`,
      remoteUri: contact ? nameAddrUri(contact) : nameAddrUri(theirFrom),
      theirFrom,
      fromTag: headerParams(theirFrom).get('tag'),
      remote: from,
      ok: tx.last,
      media,
      localSdp: media.answer,
      sdpVersion: 1,
      confirmed: false,
      cseq: 0,
      okTimer: undefined,
    };
    this.#calls.set(callId, c);
    this.#retransmitOk(c, T1_MS);
    this.#log.info({ callId, pointId: call.pointId, sessionId: call.sessionId, from }, 'SIP call connected');
    this.#d.calls?.started(call, media);
  }

  /** A 2xx goes again at T1, 2T1, 4T1 … until the ACK; without one in 64 T1 the call ends (RFC 3261 13.3.1.4). */
  #retransmitOk(c: Call, wait: number, waited = 0): void {
    c.okTimer = setTimeout(() => {
      if (c.confirmed || this.#calls.get(c.request.callId) !== c) return;
      if (waited + wait >= 64 * T1_MS) return this.hangUp(c.request.callId, 'no ACK for the 200 OK');
      this.#send(c.ok, c.remote);
      this.#retransmitOk(c, Math.min(wait * 2, 4000), waited + wait);
    }, wait);
    c.okTimer.unref();
  }

  #contact(): [string, string][] {
    return [['Contact', `<sip:briefing@${this.#sentBy()}>`]];
  }

  #onCancel(req: SipRequest, from: Remote): void {
    const tx = this.#tx.get(this.#tx.keyOf(req));
    if (!tx) {
      this.#reply(req, from, 481);
      return;
    }
    this.#reply(req, from, 200);
    if (tx.final) return;
    tx.cancelled = true;
    tx.final = true;
    tx.last = this.#reply(tx.req, from, 487, { toTag: tx.toTag });
  }
}

function quoteSafe(s: string): string {
  return s.replace(/[^ -~]|["\\]/g, '').slice(0, 120);
}
