// Tokens for delegates' check-in, HMAC-signed with the check-in key (server/security/keys.ts).
//
// - The QR token, shown on the point's screen: bound to session, point and a time window
//   of CHECKIN_ROTATE_SECONDS; accepted during its window and the next one (so a code read
//   just before the screen changes still leaves a slow phone a whole period to open it),
//   refused after that plus CHECKIN_GRACE_SECONDS, so a photo of the QR sent to someone
//   outside the room stops working within two periods and the grace.
//   Form: `q1.<session>.<point>.<window>.<mac>`.
// - The phone's device id, kept in an HttpOnly cookie the check-in API sets: random, issued
//   by the server and signed, so a client cannot make one up. Form: `d1.<id>.<mac>`.
// - The ticket, given to the phone that opened a fresh QR token: the same binding plus that
//   phone's device id, valid for CHECKIN_TICKET_SECONDS (a few minutes: long enough to fill
//   in the form). Form: `t2.<session>.<point>.<expiry>.<device>.<mac>`.
//
// Session ids and point codes are [A-Za-z0-9_-], so '.' separates safely, and the result
// matches the page router's token alphabet.
import crypto from 'node:crypto';
import { AppError } from '../../errors';

export interface CheckinBinding {
  sessionId: string;
  pointId: string;
}

/** A ticket's binding: the QR code's, and the phone it was given to. */
export interface TicketBinding extends CheckinBinding {
  device: string;
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const DEVICE = /^[A-Za-z0-9_-]{22}$/;

export class CheckinTokens {
  constructor(
    private readonly key: Buffer,
    private readonly rotateSeconds: number,
    private readonly graceSeconds: number,
    private readonly now: () => number = Date.now,
    private readonly ticketSeconds = 300,
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
    // Valid during its window and the next one (it was shown until the next rotation, and a
    // phone may be slow to open it), plus the grace; a clock a little ahead on another
    // server is tolerated too.
    if (now >= (w + 2) * windowMs + this.graceSeconds * 1000) {
      throw new AppError('token_expired', 'this QR code has changed; scan the one on the screen now');
    }
    if (now < w * windowMs - this.graceSeconds * 1000) throw new AppError('token_invalid', 'not a valid check-in code');
    return { sessionId: b.sessionId, pointId: b.pointId };
  }

  ticket(b: TicketBinding): string {
    const payload = `t2.${b.sessionId}.${b.pointId}.${this.now() + this.ticketSeconds * 1000}.${b.device}`;
    return `${payload}.${this.#mac(payload)}`;
  }

  verifyTicket(ticket: string): TicketBinding {
    const parts = ticket.split('.');
    const invalid = () => new AppError('token_invalid', 'not a valid check-in code');
    if (parts.length !== 6 || parts[0] !== 't2') throw invalid();
    const [, sessionId, pointId, n, device, mac] = parts as [string, string, string, string, string, string];
    if (!ID.test(sessionId) || !ID.test(pointId) || !/^\d{1,15}$/.test(n) || !DEVICE.test(device)) throw invalid();
    if (!this.#macOk(parts.slice(0, 5).join('.'), mac)) throw invalid();
    if (this.now() > Number(n))
      throw new AppError('token_expired', 'the check-in form expired; scan the QR code again');
    return { sessionId, pointId, device };
  }

  /** A new device id for a phone, and the cookie value that carries it. */
  newDevice(): { device: string; cookie: string } {
    const device = crypto.randomBytes(16).toString('base64url');
    const payload = `d1.${device}`;
    return { device, cookie: `${payload}.${this.#mac(payload)}` };
  }

  /** The device id in a cookie value, if the server issued it. */
  deviceOf(cookie: string | undefined): string | undefined {
    const parts = (cookie ?? '').split('.');
    if (parts.length !== 3 || parts[0] !== 'd1' || !DEVICE.test(parts[1]!)) return undefined;
    return this.#macOk(`d1.${parts[1]}`, parts[2]!) ? parts[1] : undefined;
  }

  #macOk(payload: string, mac: string): boolean {
    const expected = Buffer.from(this.#mac(payload));
    const given = Buffer.from(mac);
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  }

  #verify(token: string, kind: 'q1'): CheckinBinding & { n: string } {
    const parts = token.split('.');
    const invalid = () => new AppError('token_invalid', 'not a valid check-in code');
    if (parts.length !== 5 || parts[0] !== kind) throw invalid();
    const [, sessionId, pointId, n, mac] = parts as [string, string, string, string, string];
    if (!ID.test(sessionId) || !ID.test(pointId) || !/^\d{1,15}$/.test(n)) throw invalid();
    if (!this.#macOk(`${kind}.${sessionId}.${pointId}.${n}`, mac)) throw invalid();
    return { sessionId, pointId, n };
  }
}
