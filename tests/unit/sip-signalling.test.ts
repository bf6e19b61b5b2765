// The SIP gateway's pure parts: the strict message parser, digest authentication, the
// offer check and the per-source limit.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { AppError } from '../../server/errors';
import { DigestAuth, NONCE_TTL_MS, parseDigest, SIP_REALM } from '../../server/sip/digest';
import { one, parseSipMessage, writeResponse, type SipRequest } from '../../server/sip/message';
import { negotiateOffer, requireMediaFromSource } from '../../server/sip/offer';
import { writeAnswer } from '../../server/sip/answer';
import { sipLeg } from '../helpers/sip-leg';
import { SourceLimit } from '../../server/sip/source-limit';
import { bestEffortRequest, sipStatusOf } from '../../server/sip/status';

const crlf = (lines: string[]) => lines.join('\r\n');

function invite(opts: { headers?: string[]; body?: string; uri?: string } = {}): Buffer {
  const body = opts.body ?? '';
  return Buffer.from(
    crlf([
      `INVITE ${opts.uri ?? 'sip:HT-CX@10.0.0.1'} SIP/2.0`,
      ...(opts.headers ?? [
        'Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK776asdhds',
        'Max-Forwards: 70',
        'f: "Phòng họp" <sip:room@10.0.0.2>;tag=1928301774',
        't: <sip:HT-CX@10.0.0.1>',
        'i: a84b4c76e66710',
        'CSeq: 314159 INVITE',
        'm: <sip:room@10.0.0.2:5060>',
        'c: application/sdp',
        `l: ${Buffer.byteLength(body)}`,
      ]),
      '',
      body,
    ]),
  );
}

const SDP = (m: string[]) => crlf(['v=0', 'o=room 1 1 IN IP4 10.0.0.2', 's=-', 'c=IN IP4 10.0.0.2', 't=0 0', ...m, '']);
const KEY = Buffer.alloc(30, 7).toString('base64');

describe('SIP message parser', () => {
  test('reads a request with compact headers, folded lines and a body cut at Content-Length', () => {
    const body = SDP(['m=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']);
    const msg = parseSipMessage(Buffer.concat([invite({ body }), Buffer.from('trailing garbage')]));
    expect(msg.kind).toBe('request');
    const req = msg as SipRequest;
    expect(req.method).toBe('INVITE');
    expect(one(req, 'call-id')).toBe('a84b4c76e66710');
    expect(one(req, 'content-type')).toBe('application/sdp');
    expect(req.body).toBe(body);
    const answer = writeResponse(req, 200, 'OK', { toTag: 'abc' }).toString();
    expect(answer).toContain('To: <sip:HT-CX@10.0.0.1>;tag=abc\r\n');
    expect(answer).toContain('Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK776asdhds\r\n');
  });

  test.each([
    ['no header end', Buffer.from('INVITE sip:a@b SIP/2.0\r\nVia: x')],
    ['not SIP/2.0', Buffer.from('INVITE sip:a@b HTTP/1.1\r\n\r\n')],
    [
      'no Call-ID',
      invite({
        headers: ['Via: SIP/2.0/UDP h;branch=z9hG4bKx', 'From: <sip:a@b>;tag=1', 'To: <sip:c@d>', 'CSeq: 1 INVITE'],
      }),
    ],
    [
      'Content-Length longer than the body',
      invite({
        headers: [
          'Via: SIP/2.0/UDP h;branch=z9hG4bKx',
          'From: <sip:a@b>;tag=1',
          'To: <sip:c@d>',
          'Call-ID: x',
          'CSeq: 1 INVITE',
          'Content-Length: 900',
        ],
      }),
    ],
    [
      'CSeq of another method',
      invite({
        headers: [
          'Via: SIP/2.0/UDP h;branch=z9hG4bKx',
          'From: <sip:a@b>;tag=1',
          'To: <sip:c@d>',
          'Call-ID: x',
          'CSeq: 1 BYE',
        ],
      }),
    ],
    [
      'a control character',
      invite({
        headers: [
          'Via: SIP/2.0/UDP h;branch=z9hG4bKx',
          'From: <sip:a@b>;tag=1\u0001',
          'To: <sip:c@d>',
          'Call-ID: x',
          'CSeq: 1 INVITE',
        ],
      }),
    ],
    ['a Request-URI that is not sip:', invite({ uri: 'http://example/' })],
    ['too large', Buffer.alloc(9000, 'a')],
  ])('refuses %s with bad_request', (_what, data) => {
    expect(() => parseSipMessage(data)).toThrow(AppError);
    try {
      parseSipMessage(data);
    } catch (err) {
      expect((err as AppError).code).toBe('bad_request');
    }
  });

  test('any bytes give a message or a bad_request, never another error', () => {
    const base = invite({ body: SDP(['m=audio 4000 RTP/AVP 0']) });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(base.length), (noise, at) => {
        const data = Buffer.concat([base.subarray(0, at), Buffer.from(noise), base.subarray(at)]);
        try {
          parseSipMessage(data);
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
          expect((err as AppError).code).toBe('bad_request');
        }
        bestEffortRequest(data); // never throws either
      }),
      { numRuns: 500 },
    );
  });

  test('a refused request keeps enough to be answered 400, and nothing unprintable', () => {
    const data = Buffer.from(
      crlf([
        'OPTIONS sip:x@y SIP/2.0',
        'Via: SIP/2.0/UDP h;branch=z9hG4bKx',
        'From: <sip:a@b>;tag=1',
        'To: <sip:c@d>',
        'Call-ID: q',
        'CSeq: 1 OPTIONS',
        'Bad Header Line',
        '',
        '',
      ]),
    );
    expect(() => parseSipMessage(data)).toThrow(AppError);
    const req = bestEffortRequest(data)!;
    expect(writeResponse(req, 400, 'Bad Request').toString()).toMatch(/^SIP\/2\.0 400 Bad Request\r\n/);
  });
});

describe('digest authentication', () => {
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  const answer = (nonce: string, password: string, qop = true) => {
    const ha1 = md5(`HT-CX:${SIP_REALM}:${password}`);
    const ha2 = md5('INVITE:sip:HT-CX@10.0.0.1');
    const response = qop ? md5(`${ha1}:${nonce}:00000001:c0ffee:auth:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
    const q = qop ? ', qop=auth, nc=00000001, cnonce="c0ffee"' : '';
    return parseDigest(
      `Digest username="HT-CX", realm="${SIP_REALM}", nonce="${nonce}", uri="sip:HT-CX@10.0.0.1", response="${response}", algorithm=MD5${q}`,
    )!;
  };

  const INVITE = { method: 'INVITE', uri: 'sip:HT-CX@10.0.0.1', sourceIp: '10.0.0.2' };

  test('the right password passes, with and without qop; a wrong one or a forged nonce does not', () => {
    const auth = new DigestAuth();
    const nonce = auth.nonce('10.0.0.2');
    expect(auth.verify(answer(nonce, '123456789012'), INVITE, '123456789012')).toBe('ok');
    expect(auth.verify(answer(nonce, '123456789012', false), INVITE, '123456789012')).toBe('ok');
    expect(auth.verify(answer(nonce, '000000000000'), INVITE, '123456789012')).toBe('bad');
    expect(auth.verify(answer(new DigestAuth().nonce('10.0.0.2'), '123456789012'), INVITE, '123456789012')).toBe('bad');
  });

  test('a nonce serves only the address it was given to, a digest only its Request-URI', () => {
    const auth = new DigestAuth();
    const c = answer(auth.nonce('10.0.0.2'), 'pw');
    expect(auth.verify(c, INVITE, 'pw')).toBe('ok');
    expect(auth.verify(c, { ...INVITE, sourceIp: '10.0.0.9' }, 'pw')).toBe('bad');
    expect(auth.verify(c, { ...INVITE, uri: 'sip:HT-HK@10.0.0.1' }, 'pw')).toBe('bad');
    expect(auth.verify(c, { ...INVITE, uri: 'sip:HT-CX@10.0.0.1:5060' }, 'pw')).toBe('bad');
  });

  test('an old nonce of ours is stale, so the endpoint is challenged again', () => {
    let now = 1_000_000;
    const auth = new DigestAuth({ now: () => now });
    const c = answer(auth.nonce('10.0.0.2'), 'pw');
    now += NONCE_TTL_MS + 1;
    expect(auth.verify(c, INVITE, 'pw')).toBe('stale');
  });

  test('malformed headers are not credentials', () => {
    expect(parseDigest('Basic abc')).toBeUndefined();
    expect(parseDigest('Digest username="a", realm="b"')).toBeUndefined();
    expect(
      parseDigest(
        'Digest username="a", username="b", realm="r", nonce="n", uri="u", response="00000000000000000000000000000000"',
      ),
    ).toBeUndefined();
  });
});

describe('SDP offers of room systems', () => {
  test('G.711 and H.264 packetization-mode 1 over plain RTP, where the point may', () => {
    const offer = negotiateOffer(
      SDP([
        'm=audio 4000 RTP/AVP 9 0 101',
        'a=rtpmap:9 G722/8000',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:101 telephone-event/8000',
        'm=video 4002 RTP/AVP 96 97',
        'a=rtpmap:96 H264/90000',
        'a=fmtp:96 profile-level-id=428016;packetization-mode=0',
        'a=rtpmap:97 H264/90000',
        'a=fmtp:97 profile-level-id=4d0028;packetization-mode=1',
        'm=application 5000 UDP/BFCP *',
      ]),
      { allowPlainRtp: true },
    );
    expect(offer.audio).toMatchObject({
      codec: 'G722',
      payloadType: 9,
      port: 4000,
      rtcpPort: 4001,
      dtmfPayloadType: 101,
    });
    expect(offer.video).toMatchObject({ codec: 'H264', payloadType: 97, profileLevelId: '4d0028' });
    expect(offer.media.map((m) => m.accepted)).toEqual([true, true, false]);
    expect(offer.srtp).toBe(false);
  });

  test('media goes only to the address that signals: another c= address is 488', () => {
    const offer = negotiateOffer(SDP(['m=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']), { allowPlainRtp: true });
    expect(() => requireMediaFromSource(offer, '10.0.0.2')).not.toThrow();
    expect(() => requireMediaFromSource(offer, '::ffff:10.0.0.2')).not.toThrow();
    const refused = (() => {
      try {
        requireMediaFromSource(offer, '10.0.0.3');
      } catch (err) {
        return err as AppError;
      }
      return undefined;
    })();
    expect(refused).toBeInstanceOf(AppError);
    expect(sipStatusOf(refused!)).toBe(488);
    expect(refused!.message).toMatch(/10\.0\.0\.3.*10\.0\.0\.2/);
  });

  test('SRTP keys (SDES) are taken; plain RTP is refused where the point is not allowed it', () => {
    const secure = negotiateOffer(
      SDP(['m=audio 4000 RTP/SAVP 8', 'a=rtpmap:8 PCMA/8000', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}|2^31`]),
      { allowPlainRtp: false },
    );
    expect(secure.audio).toMatchObject({
      codec: 'PCMA',
      srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: KEY, tag: 1 },
    });
    const plain = () =>
      negotiateOffer(SDP(['m=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']), { allowPlainRtp: false });
    expect(plain).toThrow(/must use SRTP/);
  });

  test.each([
    ['unknown codecs only', SDP(['m=audio 4000 RTP/AVP 97', 'a=rtpmap:97 iLBC/8000']), 488],
    ['video only', SDP(['m=video 4000 RTP/AVP 96', 'a=rtpmap:96 H264/90000']), 488],
    ['DTLS-SRTP', SDP(['m=audio 4000 UDP/TLS/RTP/SAVPF 0', 'a=rtpmap:0 PCMU/8000']), 488],
    [
      'a short SRTP key',
      SDP(['m=audio 4000 RTP/SAVP 0', 'a=rtpmap:0 PCMU/8000', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA']),
      488,
    ],
    ['hold', SDP(['m=audio 4000 RTP/AVP 0']).replace('c=IN IP4 10.0.0.2', 'c=IN IP4 0.0.0.0'), 488],
    [
      'a host name for an address',
      SDP(['m=audio 4000 RTP/AVP 0']).replace('c=IN IP4 10.0.0.2', 'c=IN IP4 room.example'),
      400,
    ],
    ['not SDP', 'hello', 400],
  ])('refuses %s', (_what, sdp, status) => {
    try {
      negotiateOffer(sdp, { allowPlainRtp: true });
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect(sipStatusOf(err as AppError)).toBe(status);
    }
  });
});

describe('per-source limit', () => {
  test('serves the burst, then refuses with Retry-After, then drops; a new token comes with time', () => {
    let now = 0;
    const limit = new SourceLimit({ perMinute: 60, burst: 3, refusalsBeforeDrop: 2, now: () => now });
    const kinds = Array.from({ length: 7 }, () => limit.admit('10.0.0.2').kind);
    expect(kinds).toEqual(['serve', 'serve', 'serve', 'refuse', 'refuse', 'drop', 'drop']);
    expect(limit.admit('10.0.0.3').kind).toBe('serve');
    now += 1000;
    expect(limit.admit('10.0.0.2').kind).toBe('serve');
  });

  test('remembers a bounded number of sources', () => {
    const limit = new SourceLimit({ perMinute: 1, burst: 1, maxSources: 10 });
    for (let i = 0; i < 100; i++) limit.admit(`10.0.${i}.1`);
    expect(limit.size).toBe(10);
  });
});

describe('SDP answers', () => {
  test('every offered line in order; refused ones at port 0; our key for SRTP; sendonly', () => {
    const offer = negotiateOffer(
      SDP([
        'm=audio 4000 RTP/SAVP 0',
        'a=rtpmap:0 PCMU/8000',
        `a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`,
        'm=video 4002 RTP/SAVP 97',
        'a=rtpmap:97 H264/90000',
        'a=fmtp:97 packetization-mode=1',
        `a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`,
        'm=application 5000 UDP/BFCP *',
      ]),
      { allowPlainRtp: false },
    );
    const ours = Buffer.alloc(30, 9).toString('base64');
    const leg = (port: number, payloadType: number) => sipLeg(port, payloadType, ours);
    const sdp = writeAnswer(offer, [
      { offer: offer.audio, leg: leg(40000, 0) },
      { offer: offer.video!, leg: leg(40002, 102) },
    ]);
    const lines = sdp.split('\r\n');
    expect(lines).toContain('c=IN IP4 10.0.0.1');
    expect(lines.filter((l) => l.startsWith('m='))).toEqual([
      'm=audio 40000 RTP/SAVP 0',
      'm=video 40002 RTP/SAVP 102',
      'm=application 0 UDP/BFCP *',
    ]);
    expect(lines).toContain(`a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:${ours}`);
    expect(lines).toContain('a=rtpmap:102 H264/90000');
    expect(lines).toContain('a=fmtp:102 profile-level-id=42e01f;packetization-mode=1');
    expect(lines).toContain('a=rtcp:40001');
    expect(lines.filter((l) => l === 'a=sendonly')).toHaveLength(2);
  });
});
