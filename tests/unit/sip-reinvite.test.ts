// The floor of a room system on the SIP side: the gateway's re-INVITE client (CSeq, Via
// branch, retransmissions at T1, 2T1, … until a response, the ACK of a 2xx and of a
// refusal, a timeout after 64 T1, one re-INVITE at a time) and the direction logic of the
// SDP (our re-offer sendrecv/sendonly, what a room system's offer and answer allow).
import pino from 'pino';
import { AppError } from '../../server/errors';
import { writeAnswer } from '../../server/sip/answer';
import { sipLeg } from '../helpers/sip-leg';
import type { Call } from '../../server/sip/dialog';
import { readFloorAnswer, requireCanSend } from '../../server/sip/floor-sdp';
import { one, parseCSeq, parseSipMessage, type SipRequest, type SipResponse } from '../../server/sip/message';
import { negotiateOffer, type NegotiatedOffer } from '../../server/sip/offer';
import { ReInviteClient } from '../../server/sip/reinvite';

const crlf = (lines: string[]) => lines.join('\r\n');
const SDP = (m: string[]) => crlf(['v=0', 'o=room 1 1 IN IP4 10.0.0.2', 's=-', 'c=IN IP4 10.0.0.2', 't=0 0', ...m, '']);
const KEY = Buffer.alloc(30, 7).toString('base64');
const OTHER_KEY = Buffer.alloc(30, 8).toString('base64');

const offerLines = (audioDir = 'sendrecv', extra: string[] = []) => [
  'm=audio 4000 RTP/SAVP 9',
  'a=rtpmap:9 G722/8000',
  `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`,
  `a=${audioDir}`,
  ...extra,
  'm=video 4002 RTP/SAVP 97',
  'a=rtpmap:97 H264/90000',
  'a=fmtp:97 packetization-mode=1',
  `a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`,
];

const negotiate = (lines: string[]) => negotiateOffer(SDP(lines), { allowPlainRtp: false });

function reasonOf(fn: () => unknown): { reason?: string; params?: unknown } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return { reason: (err as AppError).reason, params: (err as AppError).params };
  }
  throw new Error('expected a refusal');
}

describe('the SDP of the floor', () => {
  const leg = (port: number, payloadType: number) => sipLeg(port, payloadType, OTHER_KEY);

  test('the re-offer is the answer with another direction and the next version of the same origin', () => {
    const offer = negotiate(offerLines());
    const answered = [
      { offer: offer.audio, leg: leg(40000, 9) },
      { offer: offer.video!, leg: leg(40002, 97) },
    ];
    const first = writeAnswer(offer, answered, { direction: 'sendonly', origin: { id: 42, version: 1 } });
    const floor = writeAnswer(offer, answered, { direction: 'sendrecv', origin: { id: 42, version: 2 } });
    const back = writeAnswer(offer, answered, { direction: 'sendonly', origin: { id: 42, version: 3 } });
    expect(first).toContain('o=briefing 42 1 IN IP4 10.0.0.1');
    expect(floor).toContain('o=briefing 42 2 IN IP4 10.0.0.1');
    expect(floor.split('\r\n').filter((l) => l === 'a=sendrecv')).toHaveLength(2);
    expect(floor).not.toContain('a=sendonly');
    expect(back.split('\r\n').filter((l) => l === 'a=sendonly')).toHaveLength(2);
    // Same ports, codecs and keys: only the direction and the version change.
    const strip = (s: string) => s.replace(/^o=.*$|^a=send(only|recv)$/gm, '');
    expect(strip(floor)).toBe(strip(first));
    expect(strip(back)).toBe(strip(first));
  });

  test('a room system offering audio recvonly cannot take the floor', () => {
    expect(() => requireCanSend(negotiate(offerLines()))).not.toThrow();
    const refused = reasonOf(() => requireCanSend(negotiate(offerLines('recvonly'))));
    expect(refused.reason).toBe('room_system_cannot_send');
  });

  const answer = (audio: string[], video: string[]) =>
    SDP([
      'm=audio 4000 RTP/SAVP 9',
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`,
      ...audio,
      'm=video 4002 RTP/SAVP 97',
      `a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`,
      ...video,
    ]);

  test('its answer names what it sends: SSRC from the answer, else from the first offer', () => {
    const offer: NegotiatedOffer = negotiate(offerLines('sendrecv', ['a=ssrc:1111 cname:room']));
    const got = readFloorAnswer(answer(['a=sendrecv'], ['a=sendrecv', 'a=ssrc:2222 cname:room']), offer);
    expect(got).toEqual({ audio: { ssrc: 1111, payloadType: 9 }, video: { ssrc: 2222, payloadType: 97 } });
    // Video answered recvonly: the floor carries its sound only.
    const audioOnly = readFloorAnswer(answer(['a=ssrc:3333 cname:room'], ['a=recvonly']), offer);
    expect(audioOnly).toEqual({ audio: { ssrc: 3333, payloadType: 9 } });
  });

  test('an answer with its own number for the codec: it sends with that one', () => {
    const offer = negotiate(offerLines('sendrecv', ['a=ssrc:1111 cname:room']));
    const sdp = answer(['a=sendrecv'], ['a=ssrc:2222 cname:room']).replace('RTP/SAVP 97', 'RTP/SAVP 100');
    const withMap = sdp.replace(
      'm=video 4002 RTP/SAVP 100\r\n',
      'm=video 4002 RTP/SAVP 100\r\na=rtpmap:100 H264/90000\r\n',
    );
    expect(readFloorAnswer(withMap, offer).video).toEqual({ ssrc: 2222, payloadType: 100 });
    expect(reasonOf(() => readFloorAnswer(sdp, offer)).reason).toBe('room_system_cannot_send');
  });

  test.each([
    ['audio answered recvonly', answer(['a=recvonly', 'a=ssrc:1 cname:x'], ['a=ssrc:2 cname:x'])],
    ['audio answered inactive', answer(['a=inactive', 'a=ssrc:1 cname:x'], ['a=ssrc:2 cname:x'])],
    ['no SSRC anywhere', answer([], ['a=ssrc:2 cname:x'])],
    [
      'a changed SRTP key',
      answer(['a=ssrc:1 cname:x'], ['a=ssrc:2 cname:x']).replace(
        `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`,
        `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${OTHER_KEY}`,
      ),
    ],
    ['a line missing', SDP(['m=audio 4000 RTP/SAVP 9', 'a=ssrc:1 cname:x'])],
    ['not SDP', 'hello'],
  ])('an answer refused: %s', (_, sdp) => {
    const offer = negotiate(offerLines());
    expect(reasonOf(() => readFloorAnswer(sdp, offer)).reason).toBe('room_system_cannot_send');
  });
});

describe('the re-INVITE client', () => {
  const T1 = 100;
  let sent: SipRequest[];
  let client: ReInviteClient;
  let call: Call;
  let lost: string[];

  beforeEach(() => {
    jest.useFakeTimers();
    sent = [];
    lost = [];
    client = new ReInviteClient({
      send: (buf) => sent.push(parseSipMessage(buf) as SipRequest),
      sentBy: () => '10.0.0.1:5060',
      contact: () => ['Contact', '<sip:briefing@10.0.0.1:5060>'],
      lost: (callId) => lost.push(callId),
      logger: pino({ level: 'silent' }),
      t1Ms: T1,
    });
    call = {
      request: {
        callId: 'call-1',
        sessionId: 's',
        pointId: 'HT-CX',
        offer: {} as NegotiatedOffer,
        source: { ip: '10.0.0.2', port: 5060 },
      },
      toTag: 'ours',
      local: '<sip:HT-CX@10.0.0.1>;tag=ours',
      remoteUri: 'sip:room@10.0.0.2:5060',
      theirFrom: '<sip:room@10.0.0.2>;tag=theirs',
      fromTag: 'theirs',
      remote: { address: '10.0.0.2', port: 5060 },
      ok: Buffer.alloc(0),
      media: undefined,
      localSdp: '',
      sdpVersion: 1,
      confirmed: true,
      cseq: 4,
      okTimer: undefined,
    };
  });

  afterEach(() => {
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  const branchOf = (m: SipRequest | SipResponse) => /branch=([^;]+)/.exec(one(m, 'via'))![1];

  function respond(to: SipRequest, status: number, reason: string, body = ''): SipResponse {
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      `Via: ${one(to, 'via')}`,
      `From: ${one(to, 'from')}`,
      `To: ${one(to, 'to')}`,
      `Call-ID: ${one(to, 'call-id')}`,
      `CSeq: ${one(to, 'cseq')}`,
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    return parseSipMessage(Buffer.from(crlf(lines))) as SipResponse;
  }

  test('an INVITE in the dialog, sent again at T1, 2T1, … until a response; a 2xx gets its own ACK', async () => {
    const done = client.send(call, 'v=0\r\n');
    const invite = sent[0]!;
    expect(invite.method).toBe('INVITE');
    expect(invite.uri).toBe('sip:room@10.0.0.2:5060');
    expect(parseCSeq(one(invite, 'cseq'))).toEqual({ seq: 5, method: 'INVITE' });
    expect(one(invite, 'from')).toBe('<sip:HT-CX@10.0.0.1>;tag=ours');
    expect(one(invite, 'to')).toBe('<sip:room@10.0.0.2>;tag=theirs');
    expect(one(invite, 'call-id')).toBe('call-1');
    expect(one(invite, 'contact')).toBe('<sip:briefing@10.0.0.1:5060>');
    expect(branchOf(invite)).toMatch(/^z9hG4bK[0-9a-f]{16}$/);
    expect(invite.body).toBe('v=0\r\n');
    // Timer A: again after T1, then 2T1 later, then 4T1.
    jest.advanceTimersByTime(T1);
    jest.advanceTimersByTime(2 * T1);
    jest.advanceTimersByTime(4 * T1);
    expect(sent.map((m) => m.method)).toEqual(['INVITE', 'INVITE', 'INVITE', 'INVITE']);
    expect(new Set(sent.map(branchOf)).size).toBe(1);
    const ok = respond(invite, 200, 'OK', 'v=0\r\nanswer\r\n');
    expect(client.onResponse(ok)).toBe(true);
    await expect(done).resolves.toBe('v=0\r\nanswer\r\n');
    const ack = sent[4]!;
    expect(ack.method).toBe('ACK');
    expect(parseCSeq(one(ack, 'cseq'))).toEqual({ seq: 5, method: 'ACK' });
    expect(one(ack, 'to')).toBe('<sip:room@10.0.0.2>;tag=theirs');
    expect(branchOf(ack)).not.toBe(branchOf(invite));
    // A retransmitted 2xx is acknowledged again; nothing else is sent.
    client.onResponse(ok);
    expect(sent.map((m) => m.method)).toEqual(['INVITE', 'INVITE', 'INVITE', 'INVITE', 'ACK', 'ACK']);
    jest.advanceTimersByTime(64 * T1);
    expect(sent).toHaveLength(6);
    expect(call.cseq).toBe(5);
  });

  test('a provisional response stops the retransmissions', () => {
    void client.send(call, 'v=0\r\n').catch(() => undefined);
    client.onResponse(respond(sent[0]!, 100, 'Trying'));
    jest.advanceTimersByTime(20 * T1);
    expect(sent).toHaveLength(1);
  });

  test('a refusal is acknowledged on the INVITE branch and rejects with its status; the next one goes', async () => {
    const done = client.send(call, 'v=0\r\n');
    const invite = sent[0]!;
    client.onResponse(respond(invite, 488, 'Not Acceptable Here'));
    await expect(done).rejects.toMatchObject({ reason: 'room_system_refused', params: { status: 488 } });
    const ack = sent[1]!;
    expect(ack.method).toBe('ACK');
    expect(branchOf(ack)).toBe(branchOf(invite));
    expect(parseCSeq(one(ack, 'cseq'))).toEqual({ seq: 5, method: 'ACK' });
    expect(lost).toEqual([]);
    void client.send(call, 'v=0\r\n').catch(() => undefined);
    expect(parseCSeq(one(sent[2]!, 'cseq'))).toEqual({ seq: 6, method: 'INVITE' });
  });

  test.each([481, 408])('a %i means the dialog is gone: the call is ended', async (status) => {
    const done = client.send(call, 'v=0\r\n');
    client.onResponse(respond(sent[0]!, status, 'Gone'));
    await expect(done).rejects.toMatchObject({ reason: 'room_system_refused', params: { status } });
    expect(sent[1]!.method).toBe('ACK');
    expect(lost).toEqual(['call-1']);
  });

  test('without an answer in 64 T1 it fails (408); without an SDP body a 2xx fails too', async () => {
    const done = client.send(call, 'v=0\r\n');
    jest.advanceTimersByTime(64 * T1);
    await expect(done).rejects.toMatchObject({ reason: 'room_system_refused', params: { status: 408 } });
    // Sent at 0, T1, 3T1, 7T1, 15T1, 31T1, 63T1; the dialog is taken as gone.
    expect(sent).toHaveLength(7);
    expect(lost).toEqual(['call-1']);
    // A 2xx that still comes is acknowledged, and changes nothing.
    client.onResponse(respond(sent[0]!, 200, 'OK', 'v=0\r\n'));
    expect(sent.splice(7).map((m) => m.method)).toEqual(['ACK']);
    const second = client.send(call, 'v=0\r\n');
    client.onResponse(respond(sent[7]!, 200, 'OK'));
    await expect(second).rejects.toMatchObject({ reason: 'room_system_refused', params: { status: 200 } });
    expect(sent[8]!.method).toBe('ACK');
  });

  test('one at a time per call; a response of another transaction is not taken', async () => {
    const first = client.send(call, 'v=0\r\n');
    await expect(client.send(call, 'v=0\r\n')).rejects.toMatchObject({ params: { status: 491 } });
    const stray = respond(sent[0]!, 200, 'OK', 'v=0\r\n');
    stray.headers.set('via', ['SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKother']);
    expect(client.onResponse(stray)).toBe(false);
    expect(client.pending('call-1')).toBe(true);
    client.ended('call-1');
    await expect(first).rejects.toMatchObject({ params: { status: 481 } });
    expect(client.pending('call-1')).toBe(false);
  });
});
