// Dial-out: the server calls a point's room system, at the monitor's request (many room
// systems cannot be set to dial). Checks, cheapest first: the address (dial-target.ts,
// syntax), the point and the briefing open for it, the point not connected already (a
// page or a call), one call being placed per point, the gateway's call limit
// (SIP_MAX_CALLS, calls being placed counted), then the address it names (never this
// server, loopback, link-local, multicast…). Then a leg per stream is opened, listening,
// the INVITE carries their offer (dial-sdp.ts: SRTP only unless the point is in
// SIP_PLAIN_RTP) and the INVITE client (invite-client.ts) waits for the answer. Answered,
// the call is the gateway's like one dialled in (gateway.ts adopt): the same media
// bridge, monitor health, attendance and floor. Each step goes to the session's monitors.
import type { Logger } from 'pino';
import type { DialStatus } from '../contract/dial-out';
import { AppError, conflict, toAppError, why } from '../errors';
import type { SipCallMedia, SipCallRequest, SipConfig } from './call-types';
import { readDialAnswer, writeDialOffer, type DialOffer } from './dial-sdp';
import { parseSipTarget, resolveSipTarget } from './dial-target';
import type { DialedCall, DialRequest, Dialling } from './invite-client';
import type { DialReserved } from './media-bridge';

export interface DialOutDeps {
  config: Pick<SipConfig, 'maxCalls' | 'plainRtpPoints'>;
  gateway: {
    invite(req: DialRequest): Dialling;
    adopt(
      dialed: DialedCall,
      placed: { request: SipCallRequest; media: SipCallMedia } | { refused: string },
    ): { reason: string; status?: number } | undefined;
    hangUp(callId: string, reason: string): void;
    ownAddresses(): string[];
    callOf(sessionId: string, pointId: string): { callId: string } | undefined;
    readonly callCount: number;
  };
  /** The point's SIP address in the registry, if any (undefined: no such point). */
  points: { get(pointId: string): Promise<{ sipAddress?: string | null } | undefined> };
  /** Sessions in the lobby or live that invite the point, live first. */
  sessions: { openFor(pointId: string): Promise<{ id: string }[]> };
  /** Whether a page of the point is connected in the session. */
  pageConnected(sessionId: string, pointId: string): Promise<boolean>;
  /** Undefined where no media is served (a control node). */
  media:
    | {
        prepareDial(
          sessionId: string,
          opts: { srtp: boolean },
        ): Promise<{
          offer: DialOffer;
          reserved: DialReserved;
          cancel(): void;
        }>;
        open(call: SipCallRequest, ended: (reason: string) => void, reserved?: DialReserved): Promise<SipCallMedia>;
      }
    | undefined;
  /** Each step of a call, for the session's monitors. */
  status(s: DialStatus): void;
  lookup?: (host: string) => Promise<string[]>;
  logger: Logger;
}

interface Placing {
  readonly sessionId: string;
  readonly address: string;
  dialling?: Dialling;
  cancelled: boolean;
}

export class DialOut {
  readonly #d: DialOutDeps;
  readonly #log: Logger;
  /** Calls being placed, by point: one at a time per point. */
  readonly #placing = new Map<string, Placing>();
  /** Calls placed and answered, by point (their Call-ID): what the monitor may hang up. */
  readonly #placed = new Map<string, { sessionId: string; callId: string; address: string }>();

  constructor(deps: DialOutDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'sip-dial-out' });
  }

  /** Calls the point's room system; resolves once the INVITE is out (`calling`), the rest is pushed. */
  async dial(sessionId: string, pointId: string, typed: string | undefined): Promise<DialStatus> {
    const point = await this.#d.points.get(pointId);
    if (!point) throw new AppError('not_found', `no point ${pointId}`);
    const given = typed ?? point.sipAddress ?? undefined;
    if (!given)
      throw new AppError('bad_request', 'this point has no SIP address: type one', {
        reason: 'sip_address_invalid',
        params: { detail: 'the point has no SIP address in the registry' },
      });
    const target = parseSipTarget(given);
    if (!(await this.#d.sessions.openFor(pointId)).some((s) => s.id === sessionId))
      throw new AppError('not_open', `the briefing is not open for point ${pointId}`);
    if (this.#placing.has(pointId)) throw conflict('a call to this point is being placed already');
    if (this.#d.gateway.callOf(sessionId, pointId) || (await this.#d.pageConnected(sessionId, pointId)))
      throw conflict('this point is connected already');
    if (this.#d.gateway.callCount + this.#placing.size >= this.#d.config.maxCalls)
      throw new AppError('limit_exceeded', `the gateway holds ${this.#d.config.maxCalls} calls already`);
    const media = this.#d.media;
    if (!media) throw new AppError('unavailable', 'room systems get no media on this node');
    const placing: Placing = { sessionId, address: target.uri, cancelled: false };
    // Taken before the first await that follows: a second request for the point is refused.
    this.#placing.set(pointId, placing);
    try {
      const remote = await resolveSipTarget(target, {
        ownAddresses: () => new Set(this.#d.gateway.ownAddresses()),
        ...(this.#d.lookup ? { lookup: this.#d.lookup } : {}),
      });
      if (placing.cancelled) throw new AppError('conflict', 'the call was cancelled');
      const plain = this.#d.config.plainRtpPoints;
      const srtp = !(plain === '*' || plain.includes(pointId));
      const prepared = await media.prepareDial(sessionId, { srtp });
      if (placing.cancelled) {
        prepared.cancel();
        throw new AppError('conflict', 'the call was cancelled');
      }
      const base = { sessionId, pointId, address: target.uri };
      let dialling: Dialling;
      try {
        dialling = this.#d.gateway.invite({
          uri: target.uri,
          remote,
          sdp: writeDialOffer(prepared.offer),
          onProgress: (status) => {
            if (status >= 180) this.#d.status({ ...base, state: 'ringing', status });
          },
        });
      } catch (err) {
        prepared.cancel();
        throw err;
      }
      placing.dialling = dialling;
      this.#log.info({ pointId, sessionId, to: remote, callId: dialling.callId }, 'placing a SIP call');
      void this.#answered(placing, pointId, dialling, prepared, remote.address);
      const calling: DialStatus = { ...base, state: 'calling' };
      this.#d.status(calling);
      return calling;
    } catch (err) {
      if (this.#placing.get(pointId) === placing) this.#placing.delete(pointId);
      throw err;
    }
  }

  /** Cancels the call being placed to the point, or hangs up the one placed from the monitor. */
  hangUp(sessionId: string, pointId: string): void {
    const placing = this.#placing.get(pointId);
    if (placing && placing.sessionId === sessionId) {
      placing.cancelled = true;
      placing.dialling?.cancel();
      return;
    }
    const placed = this.#placed.get(pointId);
    if (placed && placed.sessionId === sessionId) {
      this.#d.gateway.hangUp(placed.callId, 'hung up from the monitor');
      return;
    }
    throw new AppError('not_found', 'no call to this point placed from the monitor');
  }

  async #answered(
    placing: Placing,
    pointId: string,
    dialling: Dialling,
    prepared: { offer: DialOffer; reserved: DialReserved; cancel(): void },
    sourceIp: string,
  ): Promise<void> {
    const base = { sessionId: placing.sessionId, pointId, address: placing.address };
    const fail = (err: AppError) => {
      const status = Number(err.params?.status ?? (err.details as { sipStatus?: number })?.sipStatus ?? 0) || undefined;
      this.#d.status({ ...base, state: 'failed', message: err.message, ...(status ? { status } : {}) });
      this.#log.info({ pointId, callId: dialling.callId, status, reason: err.message }, 'SIP call not placed');
    };
    let dialed: DialedCall;
    try {
      dialed = await dialling.answered;
    } catch (err) {
      prepared.cancel();
      this.#placing.delete(pointId);
      fail(toAppError(err));
      return;
    }
    const done = () => this.#placing.get(pointId) === placing && this.#placing.delete(pointId);
    let request: SipCallRequest;
    let media: SipCallMedia;
    try {
      const offer = readDialAnswer(dialed.answer, prepared.offer, sourceIp);
      request = {
        callId: dialed.callId,
        sessionId: placing.sessionId,
        pointId,
        offer,
        source: { ip: dialed.remote.address, port: dialed.remote.port },
      };
      media = await this.#d.media!.open(
        request,
        (reason) => this.#d.gateway.hangUp(dialed.callId, reason),
        prepared.reserved,
      );
    } catch (err) {
      prepared.cancel();
      const e = toAppError(err);
      this.#d.gateway.adopt(dialed, { refused: e.message });
      done();
      fail(e);
      return;
    }
    done();
    if (placing.cancelled) {
      // Hung up while its media was being opened: answered, so ended with a BYE.
      this.#d.gateway.adopt(dialed, { refused: 'hung up from the monitor' });
      media.close();
      fail(new AppError('conflict', 'the call was cancelled', why('dial_failed', { status: 487 })));
      return;
    }
    const refused = this.#d.gateway.adopt(dialed, { request, media });
    if (refused) {
      const { reason, status } = refused;
      fail(new AppError('conflict', reason, status ? why('dial_failed', { status }) : undefined));
      return;
    }
    this.#placed.set(pointId, { sessionId: placing.sessionId, callId: dialed.callId, address: placing.address });
    this.#d.status({ ...base, state: 'connected' });
  }

  /** A call ended (gateway's calls.ended): a placed one is reported ended to the monitors. */
  ended(call: SipCallRequest): void {
    const placed = this.#placed.get(call.pointId);
    if (placed?.callId !== call.callId) return;
    this.#placed.delete(call.pointId);
    this.#d.status({ sessionId: call.sessionId, pointId: call.pointId, address: placed.address, state: 'ended' });
  }
}
