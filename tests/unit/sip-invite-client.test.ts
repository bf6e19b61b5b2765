// The INVITE the gateway sends to place a call (dial-out): retransmitted at T1, 2T1, …
// until a response (timer A), failed after 64 T1 without one (timer B), ringing reported,
// the ACK of a 2xx (new branch, to its Contact) and of a refusal (the INVITE's branch),
// CANCEL only after a provisional response, a late 2xx ended with BYE.
import { InviteClient, type Dialling } from '../../server/sip/invite-client';
import { one, parseCSeq, type SipRequest, type SipResponse } from '../../server/sip/message';
import { respondTo, wiredInviteClient } from '../helpers/sip-response';

const T1 = 100;
const RING = 10_000;
const ROOM = { address: '10.0.0.2', port: 5062 };

describe('the dial-out INVITE client', () => {
  let sent: { msg: SipRequest; to: string }[];
  let client: InviteClient;
  let progress: number[];

  beforeEach(() => {
    jest.useFakeTimers();
    progress = [];
    ({ client, sent } = wiredInviteClient(T1, RING));
  });

  afterEach(() => {
    client.close();
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  const dial = (): Dialling =>
    client.dial({
      uri: 'sip:room@room.example:5062',
      remote: ROOM,
      sdp: 'v=0\r\noffer\r\n',
      onProgress: (status) => progress.push(status),
    });
  const methods = () => sent.map((s) => s.msg.method);
  const branchOf = (m: SipRequest | SipResponse) => /branch=([^;]+)/.exec(one(m, 'via'))![1];

  const respond = respondTo;

  test('a new call: sent again at T1, 2T1, … until ringing; a 2xx opens the dialog and gets its own ACK', async () => {
    const d = dial();
    const invite = sent[0]!.msg;
    expect(sent[0]!.to).toBe('10.0.0.2:5062');
    expect(invite.uri).toBe('sip:room@room.example:5062');
    expect(one(invite, 'to')).toBe('<sip:room@room.example:5062>');
    expect(one(invite, 'from')).toMatch(/^<sip:briefing@10\.0\.0\.1:5060>;tag=[0-9a-f]{16}$/);
    expect(one(invite, 'call-id')).toBe(d.callId);
    expect(parseCSeq(one(invite, 'cseq'))).toEqual({ seq: 1, method: 'INVITE' });
    expect(one(invite, 'contact')).toBe('<sip:briefing@10.0.0.1:5060>');
    expect(one(invite, 'content-type')).toBe('application/sdp');
    expect(invite.body).toBe('v=0\r\noffer\r\n');
    expect(branchOf(invite)).toMatch(/^z9hG4bK[0-9a-f]{16}$/);
    jest.advanceTimersByTime(T1);
    jest.advanceTimersByTime(2 * T1);
    expect(methods()).toEqual(['INVITE', 'INVITE', 'INVITE']);
    expect(client.onResponse(respond(invite, 100))).toBe(true);
    expect(client.onResponse(respond(invite, 180))).toBe(true);
    expect(progress).toEqual([100, 180]);
    // Ringing: no more retransmissions, and no timer B (it may ring past 64 T1).
    jest.advanceTimersByTime(64 * T1);
    expect(methods()).toEqual(['INVITE', 'INVITE', 'INVITE']);
    const ok = respond(invite, 200, { body: 'v=0\r\nanswer\r\n', contact: '<sip:room@10.0.0.2:5062;transport=udp>' });
    client.onResponse(ok);
    const call = await d.answered;
    expect(call).toMatchObject({
      callId: d.callId,
      local: one(invite, 'from'),
      remoteTo: '<sip:room@room.example:5062>;tag=theirs',
      remoteTag: 'theirs',
      remoteUri: 'sip:room@10.0.0.2:5062;transport=udp',
      remote: ROOM,
      cseq: 1,
      answer: 'v=0\r\nanswer\r\n',
    });
    const ack = sent[3]!;
    expect(ack.msg.method).toBe('ACK');
    expect(ack.msg.uri).toBe('sip:room@10.0.0.2:5062;transport=udp');
    expect(ack.to).toBe('10.0.0.2:5062');
    expect(parseCSeq(one(ack.msg, 'cseq'))).toEqual({ seq: 1, method: 'ACK' });
    expect(one(ack.msg, 'to')).toBe('<sip:room@room.example:5062>;tag=theirs');
    expect(branchOf(ack.msg)).not.toBe(branchOf(invite));
    // A retransmitted 2xx gets the same ACK again; nothing else is sent.
    client.onResponse(ok);
    expect(methods()).toEqual(['INVITE', 'INVITE', 'INVITE', 'ACK', 'ACK']);
    expect(sent[4]!.msg).toEqual(ack.msg);
    jest.advanceTimersByTime(RING * 2);
    expect(sent).toHaveLength(5);
  });

  test('no response in 64 T1: the call fails with 408', async () => {
    const d = dial();
    jest.advanceTimersByTime(64 * T1);
    await expect(d.answered).rejects.toMatchObject({ reason: 'dial_failed', params: { status: 408 } });
    // Sent at 0, T1, 3T1, 7T1, 15T1, 31T1, 63T1.
    expect(methods()).toEqual(Array(7).fill('INVITE'));
  });

  test.each([486, 603, 404, 302])('a %i is acknowledged on the INVITE branch and is the failure', async (status) => {
    const d = dial();
    const invite = sent[0]!.msg;
    const res = respond(invite, status);
    client.onResponse(res);
    await expect(d.answered).rejects.toMatchObject({ reason: 'dial_failed', params: { status } });
    const ack = sent[1]!.msg;
    expect(ack.method).toBe('ACK');
    expect(ack.uri).toBe(invite.uri);
    expect(branchOf(ack)).toBe(branchOf(invite));
    expect(one(ack, 'to')).toBe('<sip:room@room.example:5062>;tag=theirs');
    client.onResponse(res);
    expect(methods()).toEqual(['INVITE', 'ACK', 'ACK']);
    jest.advanceTimersByTime(64 * T1);
    expect(sent).toHaveLength(3);
  });

  test('ringing without an answer: cancelled after the ring time', async () => {
    const d = dial();
    const invite = sent[0]!.msg;
    client.onResponse(respond(invite, 180));
    jest.advanceTimersByTime(RING);
    await expect(d.answered).rejects.toMatchObject({ reason: 'dial_failed', params: { status: 408 } });
    expect(methods()).toEqual(['INVITE', 'CANCEL']);
  });

  test('hung up while ringing: CANCEL on the INVITE branch, sent again until answered; the 487 is acknowledged', async () => {
    const d = dial();
    const invite = sent[0]!.msg;
    client.onResponse(respond(invite, 180));
    d.cancel();
    await expect(d.answered).rejects.toMatchObject({ reason: 'dial_failed', params: { status: 487 } });
    const cancel = sent[1]!.msg;
    expect(cancel.method).toBe('CANCEL');
    expect(cancel.uri).toBe(invite.uri);
    expect(branchOf(cancel)).toBe(branchOf(invite));
    expect(one(cancel, 'to')).toBe(one(invite, 'to'));
    expect(parseCSeq(one(cancel, 'cseq'))).toEqual({ seq: 1, method: 'CANCEL' });
    jest.advanceTimersByTime(T1);
    expect(methods()).toEqual(['INVITE', 'CANCEL', 'CANCEL']);
    client.onResponse(respond(cancel, 200, { cseq: '1 CANCEL' }));
    jest.advanceTimersByTime(10 * T1);
    expect(methods()).toEqual(['INVITE', 'CANCEL', 'CANCEL']);
    client.onResponse(respond(invite, 487));
    expect(methods()).toEqual(['INVITE', 'CANCEL', 'CANCEL', 'ACK']);
    expect(progress).toEqual([180]);
  });

  test('the gateway stops while ringing: the call fails as stopped (503), not cancelled, and is CANCELled', async () => {
    const d = dial();
    client.onResponse(respond(sent[0]!.msg, 180));
    client.close();
    await expect(d.answered).rejects.toMatchObject({ reason: 'dial_failed', params: { status: 503 } });
    expect(methods()).toEqual(['INVITE', 'CANCEL']);
  });

  test('a CANCEL answered but its 487 lost: the ring time sends no second CANCEL', async () => {
    const d = dial();
    const invite = sent[0]!.msg;
    client.onResponse(respond(invite, 180));
    d.cancel();
    await expect(d.answered).rejects.toMatchObject({ reason: 'dial_failed', params: { status: 487 } });
    client.onResponse(respond(sent[1]!.msg, 200, { cseq: '1 CANCEL' }));
    jest.advanceTimersByTime(RING + 64 * T1);
    expect(methods()).toEqual(['INVITE', 'CANCEL']);
    // The transaction ended 64 T1 after the CANCEL's answer: a 487 arriving later is not its.
    jest.advanceTimersByTime(60_000);
    expect(client.onResponse(respond(invite, 487))).toBe(false);
  });

  test('hung up before any response: the CANCEL waits for a provisional one; a 2xx then is ended with BYE', async () => {
    const d = dial();
    const invite = sent[0]!.msg;
    d.cancel();
    await expect(d.answered).rejects.toMatchObject({ params: { status: 487 } });
    expect(methods()).toEqual(['INVITE']);
    client.onResponse(respond(invite, 100));
    expect(methods()).toEqual(['INVITE', 'CANCEL']);
    // The answer crossed the CANCEL: acknowledged, then ended.
    client.onResponse(respond(invite, 200, { body: 'v=0\r\n', contact: '<sip:room@10.0.0.2:5062>' }));
    expect(methods()).toEqual(['INVITE', 'CANCEL', 'ACK', 'BYE']);
    const bye = sent[3]!;
    expect(bye.to).toBe('10.0.0.2:5062');
    expect(bye.msg.uri).toBe('sip:room@10.0.0.2:5062');
    expect(parseCSeq(one(bye.msg, 'cseq'))).toEqual({ seq: 2, method: 'BYE' });
    expect(one(bye.msg, 'to')).toBe('<sip:room@room.example:5062>;tag=theirs');
  });

  test('a second 2xx of a fork is acknowledged and ended; a 2xx without SDP fails the call', async () => {
    const d = dial();
    const invite = sent[0]!.msg;
    client.onResponse(respond(invite, 200, { body: 'v=0\r\n', tag: 'a' }));
    await expect(d.answered).resolves.toMatchObject({ remoteTag: 'a', remoteUri: invite.uri });
    client.onResponse(respond(invite, 200, { body: 'v=0\r\n', tag: 'b' }));
    expect(methods()).toEqual(['INVITE', 'ACK', 'ACK', 'BYE']);
    expect(one(sent[3]!.msg, 'to')).toContain('tag=b');

    const e = dial();
    client.onResponse(respond(sent[4]!.msg, 200));
    await expect(e.answered).rejects.toMatchObject({ reason: 'dial_failed', params: { status: 200 } });
    expect(methods().slice(4)).toEqual(['INVITE', 'ACK', 'BYE']);
  });

  test('responses of other transactions are not taken', () => {
    dial();
    const stray = respond(sent[0]!.msg, 200, { body: 'v=0\r\n' });
    stray.headers.set('via', ['SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKother']);
    expect(client.onResponse(stray)).toBe(false);
    expect(client.onResponse(respond(sent[0]!.msg, 200, { cseq: '7 INVITE' }))).toBe(true);
    expect(methods()).toEqual(['INVITE']);
  });
});
