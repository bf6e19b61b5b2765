import crypto from 'node:crypto';
import { CheckinTokens } from '../../server/domain/attendance/checkin-token';

const key = crypto.randomBytes(32);
const at = (now: number) => new CheckinTokens(key, 30, 10, () => now, 300);
const T0 = 1_800_000_000_000;
const code = (e: () => unknown) => {
  try {
    e();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return 'ok';
};

describe('check-in tokens', () => {
  test('a device cookie is the server’s own: altered or made up, it names no device', () => {
    const t = at(T0);
    const { device, cookie } = t.newDevice();
    expect(device).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(t.deviceOf(cookie)).toBe(device);
    expect(t.newDevice().device).not.toBe(device);
    const [, , mac] = cookie.split('.');
    expect(t.deviceOf(`d1.${'A'.repeat(22)}.${mac}`)).toBeUndefined();
    expect(t.deviceOf(cookie.slice(0, -1) + (cookie.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    expect(t.deviceOf(undefined)).toBeUndefined();
    expect(t.deviceOf('made-up-device-1')).toBeUndefined();
    expect(new CheckinTokens(crypto.randomBytes(32), 30, 10).deviceOf(cookie)).toBeUndefined();
  });

  test('a QR code opens the form in its window and the next one, plus the grace', () => {
    const b = { sessionId: 's1', pointId: 'HT-CX' };
    // Issued 1 s before its window ends: the phone still has the next 30 s and the grace.
    const start = Math.ceil(T0 / 30_000) * 30_000;
    const { token, rotateAt } = at(start + 29_000).issue(b);
    expect(rotateAt.getTime()).toBe(start + 30_000);
    expect(at(start + 29_000).verifyQr(token)).toEqual(b);
    expect(at(start + 59_000).verifyQr(token)).toEqual(b);
    expect(at(start + 69_999).verifyQr(token)).toEqual(b);
    expect(code(() => at(start + 70_000).verifyQr(token))).toBe('token_expired');
    // A server whose clock is behind the issuer's by less than the grace accepts it too.
    expect(at(start - 9_000).verifyQr(token)).toEqual(b);
    expect(code(() => at(start - 10_001).verifyQr(token))).toBe('token_invalid');
  });

  test('a ticket carries its device, cannot be moved to another, and lasts its minutes', () => {
    const b = { sessionId: 's1', pointId: 'HT-CX', device: at(T0).newDevice().device };
    const ticket = at(T0).ticket(b);
    expect(at(T0 + 299_000).verifyTicket(ticket)).toEqual(b);
    expect(code(() => at(T0 + 301_000).verifyTicket(ticket))).toBe('token_expired');
    const parts = ticket.split('.');
    parts[4] = at(T0).newDevice().device;
    expect(code(() => at(T0).verifyTicket(parts.join('.')))).toBe('token_invalid');
    // A QR code is not a ticket, nor the other way round.
    const qr = at(T0).issue(b).token;
    expect(code(() => at(T0).verifyTicket(qr))).toBe('token_invalid');
    expect(code(() => at(T0).verifyQr(ticket))).toBe('token_invalid');
  });
});
