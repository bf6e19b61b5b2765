// The floor of a point connected over SIP. The call is answered `sendonly` (the room
// system receives the hall); when the host gives the point the floor, the gateway offers
// `sendrecv` in a re-INVITE (reinvite.ts), reads what the room system will send
// (floor-sdp.ts) and, once the room has made the point the holder, its camera and
// microphone go into the room as the floor (floor-feed.ts, through the call's media).
// When the floor is taken back (or given to another point, or the call ends) the media
// stops and a re-INVITE offers `sendonly` again. A room system that cannot send or refuses
// the re-INVITE keeps its call: the host is told why (room_system_cannot_send,
// room_system_refused); one that does not answer it, or answers 481 or 408, has its call
// ended (reinvite.ts).
import type { Logger } from 'pino';
import { AppError, conflict, toAppError, why } from '../errors';
import type { SipCallInfo } from './call-types';
import { readFloorAnswer, requireCanSend, type FloorAnswer } from './floor-sdp';
import type { CallDirection } from './answer';

/** What the floor of a live session (server/realtime/floor-grant.ts) asks of SIP calls. */
export interface SipFloorPort {
  /** The point's room system has a call in the session on this node. */
  serves(sessionId: string, pointId: string): boolean;
  /** Before the grant: the room system is asked to send (re-INVITE sendrecv); throws an AppError if it cannot. */
  prepare(sessionId: string, pointId: string): Promise<void>;
  /** After the grant: its camera and microphone into the room. */
  granted(sessionId: string, pointId: string, failed: (err: AppError) => void): void;
  /** The floor left the point (or the grant did not happen): media stops, the call goes back to sendonly. */
  revoked(sessionId: string, pointId: string): void;
}

export interface SipFloorBridgeDeps {
  calls: {
    callOf(sessionId: string, pointId: string): SipCallInfo | undefined;
    redirect(callId: string, direction: CallDirection): Promise<string>;
  };
  logger: Logger;
}

export class SipFloorBridge implements SipFloorPort {
  readonly #d: SipFloorBridgeDeps;
  readonly #log: Logger;
  /**
   * What each room system asked to send said it will send, by session and point (its call
   * may end before the floor leaves it), until the floor leaves it.
   */
  readonly #sending = new Map<string, { callId: string; answer: FloorAnswer }>();

  constructor(deps: SipFloorBridgeDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'sip-floor' });
  }

  serves(sessionId: string, pointId: string): boolean {
    return this.#d.calls.callOf(sessionId, pointId) !== undefined;
  }

  async prepare(sessionId: string, pointId: string): Promise<void> {
    const call = this.#d.calls.callOf(sessionId, pointId);
    if (!call) throw notConnected();
    requireCanSend(call.offer);
    if (!call.media?.floor)
      throw new AppError('unavailable', 'this server does not receive room systems’ media', {
        ...why('room_system_cannot_send', { detail: 'no media on this server' }),
      });
    const answer = await this.#d.calls.redirect(call.callId, 'sendrecv');
    try {
      this.#sending.set(keyOf(sessionId, pointId), {
        callId: call.callId,
        answer: readFloorAnswer(answer, call.offer),
      });
    } catch (err) {
      this.#back(call.callId);
      throw err;
    }
    this.#log.info({ sessionId, pointId, callId: call.callId }, 'room system asked to send for the floor');
  }

  granted(sessionId: string, pointId: string, failed: (err: AppError) => void): void {
    const key = keyOf(sessionId, pointId);
    const call = this.#d.calls.callOf(sessionId, pointId);
    const sending = this.#sending.get(key);
    const floor = call?.callId === sending?.callId ? call?.media?.floor : undefined;
    if (!call || !sending || !floor) {
      // The call ended (or the floor left it) while it was being given: the floor is taken back.
      failed(notConnected());
      return;
    }
    const failedLater = (err: AppError) => {
      // Taken back or given to another point since: nothing to report.
      if (this.#sending.get(key) !== sending) return;
      this.#log.error({ err, sessionId, pointId }, "the room system's floor media failed; the floor is taken back");
      failed(err);
    };
    floor.start(sending.answer, failedLater).then(
      () => this.#log.info({ sessionId, pointId }, 'room system holds the floor'),
      (err: unknown) => {
        // Overtaken by a revoke: nothing to report.
        if (this.#sending.get(key) !== sending) return;
        const e = toAppError(err);
        this.#log.warn({ err, sessionId, pointId }, "could not bring the room system's media to the floor");
        failed(e);
      },
    );
  }

  revoked(sessionId: string, pointId: string): void {
    const key = keyOf(sessionId, pointId);
    const sending = this.#sending.get(key);
    if (!sending) return;
    this.#sending.delete(key);
    const call = this.#d.calls.callOf(sessionId, pointId);
    // The call ended meanwhile: its media went with it.
    if (call?.callId !== sending.callId) return;
    call.media?.floor?.stop();
    this.#back(call.callId);
  }

  /** sendonly again; a refusal leaves the room system sending to ports that drop it. */
  #back(callId: string): void {
    this.#d.calls.redirect(callId, 'sendonly').catch((err: unknown) => {
      this.#log.warn({ err, callId }, 'the room system did not go back to receiving only');
    });
  }
}

const keyOf = (sessionId: string, pointId: string) => `${sessionId}\n${pointId}`;

const notConnected = () =>
  conflict('this point is not connected; it cannot take the floor now', undefined, why('point_not_connected'));
