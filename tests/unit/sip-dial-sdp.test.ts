// Dial-out's pure parts: the SIP address a technician types (syntax, then the address it
// names), the offer the gateway sends and the room system's answer read back.
import { AppError } from '../../server/errors';
import { parseSipTarget, refusedAddress, resolveSipTarget } from '../../server/sip/dial-target';
import { readDialAnswer, writeDialOffer, type DialOffer } from '../../server/sip/dial-sdp';
import { negotiateOffer } from '../../server/sip/offer';

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a refusal');
}

describe('the SIP address of a room system', () => {
  test.each([
    ['sip:room@10.1.2.3', { uri: 'sip:room@10.1.2.3', host: '10.1.2.3', port: 5060, hostIsIp: true }],
    ['  SIP:HT-CX@Room.HaTinh.gov.vn:5070 ', { uri: 'sip:HT-CX@room.hatinh.gov.vn:5070', port: 5070, hostIsIp: false }],
    ['sip:1001@pbx:65535', { uri: 'sip:1001@pbx:65535', port: 65535 }],
    ['sip:a%20b@10.0.0.2:1024', { user: 'a%20b', port: 1024 }],
  ])('%s is read', (text, expected) => {
    expect(parseSipTarget(text)).toMatchObject(expected);
  });

  test.each([
    ['', 'empty'],
    ['sips:room@10.0.0.2', 'sips: is not supported'],
    ['tel:+84912345678', 'tel: is not supported'],
    ['h323:room@10.0.0.2', 'h323: is not supported'],
    ['room@10.0.0.2', 'sip:user@host'],
    ['sip:10.0.0.2', 'no user'],
    ['sip:@10.0.0.2', 'user part'],
    ['sip:room@10.0.0.2;transport=tcp', 'parameters'],
    ['sip:room@10.0.0.2?subject=x', 'parameters'],
    ['sip:ro om@10.0.0.2', 'user part'],
    ['sip:room@10.0.0.2:0', 'port'],
    ['sip:room@10.0.0.2:65536', 'port'],
    ['sip:room@10.0.0.2:80', 'port'],
    ['sip:room@10.0.0.2:080', 'port'],
    ['sip:room@10.0.0.2:', 'host'],
    ['sip:room@256.1.1.1', 'not an IPv4 address'],
    ['sip:room@10.0.0', 'not an IPv4 address'],
    ['sip:room@010.0.0.1', 'not an IPv4 address'],
    ['sip:room@[::1]', 'IPv6'],
    ['sip:room@-bad.example', 'not a host name'],
    ['sip:room@exa_mple.com', 'not a host name'],
    ['sip:room@1.2.3.4.5', 'not an IPv4 address'],
    [`sip:room@${'a'.repeat(64)}.com`, 'not a host name'],
    [`sip:${'a'.repeat(300)}@x.com`, 'longer than'],
  ])('%j is refused (%s)', (text, detail) => {
    const err = refusal(() => parseSipTarget(text));
    expect(err.code).toBe('bad_request');
    expect(err.reason).toBe('sip_address_invalid');
    expect(String(err.params?.detail)).toContain(detail);
  });

  const own = new Set(['192.0.2.10']);
  test.each([
    '0.0.0.0',
    '0.1.2.3',
    '127.0.0.1',
    '127.8.9.10',
    '169.254.1.1',
    '224.0.0.1',
    '239.1.1.1',
    '255.255.255.255',
    '192.0.2.10',
  ])('%s is never called', (ip) => {
    expect(refusedAddress(ip, own)).toBeDefined();
  });
  test.each(['10.0.0.2', '172.16.5.4', '192.168.1.20', '203.0.113.7', '100.64.0.1'])('%s may be called', (ip) => {
    expect(refusedAddress(ip, own)).toBeUndefined();
  });

  test('a name is looked up, and every address it gives must be allowed', async () => {
    const deps = (addresses: string[]) => ({
      ownAddresses: () => own,
      lookup: (host: string) => Promise.resolve(host === 'room.example' ? addresses : []),
    });
    const target = parseSipTarget('sip:room@room.example:5080');
    await expect(resolveSipTarget(target, deps(['10.0.0.2']))).resolves.toEqual({ address: '10.0.0.2', port: 5080 });
    await expect(resolveSipTarget(target, deps(['10.0.0.2', '127.0.0.1']))).rejects.toMatchObject({
      code: 'forbidden',
      reason: 'sip_target_refused',
      params: { address: '127.0.0.1' },
    });
    await expect(resolveSipTarget(parseSipTarget('sip:room@other.example'), deps([]))).rejects.toMatchObject({
      reason: 'sip_address_invalid',
    });
    await expect(resolveSipTarget(parseSipTarget('sip:room@192.0.2.10'), deps([]))).rejects.toMatchObject({
      reason: 'sip_target_refused',
      params: { detail: 'it is this server' },
    });
  });
});

const KEY = Buffer.alloc(30, 5).toString('base64');
const THEIR_KEY = Buffer.alloc(30, 9).toString('base64');

const OFFER: DialOffer = {
  ip: '10.0.0.1',
  origin: { id: 77, version: 1 },
  audio: {
    port: 40000,
    rtcpPort: 40001,
    payloadTypes: { opus: 100, G722: 9, PCMU: 0, PCMA: 8 },
    srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: KEY },
  },
  video: {
    port: 40002,
    rtcpPort: 40003,
    payloadTypes: { H264: 107 },
    srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: KEY },
  },
};

const plain = (o: DialOffer): DialOffer => {
  const { srtp: _a, ...audio } = o.audio;
  const { srtp: _v, ...video } = o.video!;
  return { ...o, audio, video };
};

const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;
const answerSdp = (opts: { ip?: string; proto?: string; audio?: string[]; video?: string[] | null } = {}) => {
  const proto = opts.proto ?? 'RTP/SAVP';
  return crlf([
    'v=0',
    'o=room 5 5 IN IP4 10.0.0.2',
    's=-',
    `c=IN IP4 ${opts.ip ?? '10.0.0.2'}`,
    't=0 0',
    ...(opts.audio ?? [
      `m=audio 5000 ${proto} 9`,
      'a=rtpmap:9 G722/8000',
      ...(proto === 'RTP/SAVP' ? [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${THEIR_KEY}`] : []),
      'a=recvonly',
    ]),
    ...(opts.video === null
      ? ['m=video 0 RTP/SAVP 107']
      : (opts.video ?? [
          `m=video 5002 ${proto} 107`,
          'a=rtpmap:107 H264/90000',
          'a=fmtp:107 profile-level-id=42e01f;packetization-mode=1',
          ...(proto === 'RTP/SAVP' ? [`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${THEIR_KEY}`] : []),
          'a=recvonly',
        ])),
  ]);
};

describe('the offer of a call the gateway places', () => {
  test('sendonly, the hall codecs at our payload types, SRTP only with our key', () => {
    const sdp = writeDialOffer(OFFER);
    const lines = sdp.split('\r\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'o=briefing 77 1 IN IP4 10.0.0.1',
        'c=IN IP4 10.0.0.1',
        'm=audio 40000 RTP/SAVP 100 9 0 8',
        'a=rtpmap:100 opus/48000/2',
        'a=rtpmap:9 G722/8000',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:8 PCMA/8000',
        'a=rtcp:40001',
        'm=video 40002 RTP/SAVP 107',
        'a=rtpmap:107 H264/90000',
        'a=fmtp:107 profile-level-id=42e01f;packetization-mode=0',
        'a=rtcp:40003',
      ]),
    );
    expect(lines.filter((l) => l === `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`)).toHaveLength(2);
    expect(lines.filter((l) => l === 'a=sendonly')).toHaveLength(2);
    expect(sdp).not.toContain('RTP/AVP ');
    // The gateway's own offer check reads it (it is what a dial-in room system would send, but sendonly).
    expect(() => negotiateOffer(sdp.replace(/a=sendonly/g, 'a=sendrecv'), { allowPlainRtp: false })).not.toThrow();
  });

  test('a point allowed plain RTP gets RTP/AVP without keys', () => {
    const sdp = writeDialOffer(plain(OFFER));
    expect(sdp).toContain('m=audio 40000 RTP/AVP 100 9 0 8');
    expect(sdp).toContain('m=video 40002 RTP/AVP 107');
    expect(sdp).not.toContain('a=crypto');
  });

  test('without video, one line', () => {
    const { video: _v, ...audioOnly } = OFFER;
    expect(writeDialOffer(audioOnly).match(/^m=/gm)).toHaveLength(1);
  });
});

describe("the room system's answer", () => {
  test('is read into the streams we send it: its address and key, our payload types', () => {
    const a = readDialAnswer(answerSdp(), OFFER, '10.0.0.2');
    expect(a.audio).toMatchObject({ codec: 'G722', payloadType: 9, ip: '10.0.0.2', port: 5000, rtcpPort: 5001 });
    expect(a.audio.srtp).toEqual({ suite: 'AES_CM_128_HMAC_SHA1_80', keyBase64: THEIR_KEY, tag: 1 });
    expect(a.audio.sends).toBe(false);
    expect(a.video).toMatchObject({ codec: 'H264', payloadType: 107, port: 5002 });
    expect(a.srtp).toBe(true);
  });

  test('a codec answered with another number is sent with ours', () => {
    const a = readDialAnswer(
      answerSdp({
        audio: [
          'm=audio 5000 RTP/SAVP 111',
          'a=rtpmap:111 opus/48000/2',
          `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${THEIR_KEY}`,
          'a=recvonly',
        ],
      }),
      OFFER,
      '10.0.0.2',
    );
    expect(a.audio).toMatchObject({ codec: 'opus', payloadType: 100 });
  });

  test('video refused with port 0 leaves audio only', () => {
    const a = readDialAnswer(answerSdp({ video: null }), OFFER, '10.0.0.2');
    expect(a.video).toBeUndefined();
    expect(a.media.map((m) => m.accepted)).toEqual([true, false]);
  });

  test('plain RTP answered to a plain offer', () => {
    const a = readDialAnswer(answerSdp({ proto: 'RTP/AVP' }), plain(OFFER), '10.0.0.2');
    expect(a.srtp).toBe(false);
    expect(a.audio.srtp).toBeUndefined();
  });

  test.each([
    ['plain RTP to an SRTP-only offer', answerSdp({ proto: 'RTP/AVP' }), OFFER, 'must use SRTP'],
    ['SRTP to a plain offer', answerSdp(), plain(OFFER), 'transport RTP/SAVP is not the one offered'],
    ['media at another address', answerSdp({ ip: '10.0.0.99' }), OFFER, 'address the call comes from'],
    ['media at loopback', answerSdp({ ip: '127.0.0.1' }), OFFER, 'address the call comes from'],
    [
      'a crypto tag not offered',
      answerSdp({
        audio: ['m=audio 5000 RTP/SAVP 9', `a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:${THEIR_KEY}`, 'a=recvonly'],
      }),
      OFFER,
      'a=crypto does not answer',
    ],
    [
      'a suite not offered',
      answerSdp({
        audio: ['m=audio 5000 RTP/SAVP 9', `a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${THEIR_KEY}`, 'a=recvonly'],
      }),
      OFFER,
      'a=crypto does not answer',
    ],
    [
      'a codec not offered',
      answerSdp({
        audio: ['m=audio 5000 RTP/SAVP 0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${THEIR_KEY}`, 'a=recvonly'],
      }),
      { ...OFFER, audio: { ...OFFER.audio, payloadTypes: { opus: 100 } } },
      'codec PCMU was not offered',
    ],
    ['audio refused', answerSdp({ audio: ['m=audio 0 RTP/SAVP 9'] }), OFFER, 'no audio codec in common'],
    ['a line missing', answerSdp().replace(/m=video[\s\S]*$/, ''), OFFER, 'one line for each line offered'],
    ['not SDP', 'hello', OFFER, 'bad SDP'],
  ])('%s is refused', (_name, sdp, offer, message) => {
    const err = refusal(() => readDialAnswer(sdp, offer, '10.0.0.2'));
    expect(err.code).toBe('bad_request');
    expect(err.message).toContain(message);
    expect(err.message).toMatch(/^the room system's answer|^SDP|answer/);
  });
});
