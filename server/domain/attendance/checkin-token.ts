// Tokens for delegates' check-in, HMAC-signed with the check-in key (server/security/keys.ts).
//
// - The QR token, shown on the point's screen: bound to session, point and a time window
//   of CHECKIN_ROTATE_SECONDS; refused once its window (plus CHECKIN_GRACE_SECONDS) has
//   passed, so a photo of the QR sent to someone outside the room stops working.
//   Form: `q1.<session>.<point>.<window>.<mac>`.
// - The ticket, given to the phone that opened a fresh QR token: the same binding, valid
//   for TICKET_MS so filling in the form may take a while. Form: `t1.<session>.<point>.<expiry>.<mac>`.
//
// Session ids and point codes are [A-Za-z0-9_-], so '.' separates safely, and the result
// matches the page router's token alphabet.
import crypto from 'node:crypto';
import { AppError } from '../../errors';

export const TICKET_MS = 15 * 60_000;

export interface CheckinBinding {
  sessionId: string;
  pointId: string;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

export class CheckinTokens {
  constructor(
    private readonly key: Buffer,
    private readonly rotateSeconds: number,
    private readonly graceSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  #mac(payload: string): string {
    return crypto.createHmac('sha256', this.key).update(`checkin|${payload}`).digest('base64url').slice(0, 27);
  }

  #window(at: number): number {
    return Math.floor(at / (this.rotateSeconds * 1000));
  }

  /** The QR token for now, and when the next one is due. */
  issue(b: CheckinBinding): { token: string; rotateAt: Date } {
    const w = this.#window(this.now());
    const payload = `q1.${b.sessionId}.${b.pointId}.${w}`;
    return { token: `${payload}.${this.#mac(payload)}`, rotateAt: new Date((w + 1) * this.rotateSeconds * 1000) };
  }

  /** Checks a QR token: signature, then window. */
  verifyQr(token: string): CheckinBinding {
    const b = this.#verify(token, 'q1');
    const w = Number(b.n);
    const windowMs = this.rotateSeconds * 1000;
    const now = this.now();
    // Valid during its window and the next one (it was shown until the next rotation),
    // plus the grace; a clock a little ahead on another server is tolerated too.
    if (now >= (w + 1) * windowMs + this.graceSeconds * 1000) {
      throw new AppError('token_expired', 'this QR code has changed; scan the one on the screen now');
    }
    if (now < w * windowMs - this.graceSeconds * 1000) throw new AppError('token_invalid', 'not a valid check-in code');
    return { sessionId: b.sessionId, pointId: b.pointId };
  }

  ticket(b: CheckinBinding): string {
    const payload = `t1.${b.sessionId}.${b.pointId}.${this.now() + TICKET_MS}`;
    return `${payload}.${this.#mac(payload)}`;
  }

  verifyTicket(ticket: string): CheckinBinding {
    const b = this.#verify(ticket, 't1');
    if (this.now() > Number(b.n))
      throw new AppError('token_expired', 'the check-in form expired; scan the QR code again');
    return { sessionId: b.sessionId, pointId: b.pointId };
  }

  #verify(token: string, kind: 'q1' | 't1'): CheckinBinding & { n: string } {
    const parts = token.split('.');
    const invalid = () => new AppError('token_invalid', 'not a valid check-in code');
    if (parts.length !== 5 || parts[0] !== kind) throw invalid();
    const [, sessionId, pointId, n, mac] = parts as [string, string, string, string, string];
    if (!ID.test(sessionId) || !ID.test(pointId) || !/^\d{1,15}$/.test(n)) throw invalid();
    const expected = Buffer.from(this.#mac(`${kind}.${sessionId}.${pointId}.${n}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) throw invalid();
    return { sessionId, pointId, n };
  }
}
