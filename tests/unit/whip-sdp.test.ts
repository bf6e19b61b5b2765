import type { types as ms } from 'mediasoup';
import { readWhipOffer, writeWhipAnswer } from '../../server/ingest/whip-sdp';

const MID = 'urn:ietf:params:rtp-hdrext:sdes:mid';
const RID = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
const RRID = 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id';
const TWCC = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
const LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/** The part of a router's capabilities the offer is read against (as ROUTER_MEDIA_CODECS gives them). */
const caps: ms.RtpCapabilities = {
  codecs: [
    {
      kind: 'audio',
      mimeType: 'audio/opus',
      clockRate: 48000,
      channels: 2,
      preferredPayloadType: 100,
      rtcpFeedback: [{ type: 'transport-cc' }],
    },
    {
      kind: 'video',
      mimeType: 'video/VP8',
      clockRate: 90000,
      preferredPayloadType: 101,
      rtcpFeedback: [
        { type: 'nack' },
        { type: 'nack', parameter: 'pli' },
        { type: 'ccm', parameter: 'fir' },
        { type: 'transport-cc' },
      ],
    },
    { kind: 'video', mimeType: 'video/rtx', clockRate: 90000, preferredPayloadType: 102, parameters: { apt: 101 } },
    {
      kind: 'video',
      mimeType: 'video/H264',
      clockRate: 90000,
      preferredPayloadType: 103,
      parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
      rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
    },
  ],
  headerExtensions: [
    { kind: 'video', uri: MID, preferredId: 1, direction: 'recvonly' },
    { kind: 'audio', uri: MID, preferredId: 1, direction: 'recvonly' },
    { kind: 'video', uri: RID, preferredId: 2, direction: 'recvonly' },
    { kind: 'video', uri: RRID, preferredId: 3, direction: 'recvonly' },
    { kind: 'video', uri: TWCC, preferredId: 5, direction: 'sendrecv' },
    { kind: 'audio', uri: LEVEL, preferredId: 10, direction: 'sendrecv' },
  ],
};

const session = ['v=0', 'o=- 4611 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0 1', 'a=msid-semantic: WMS'];
const transportLines = (setup = 'actpass') => [
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:0123456789abcdefghijklmn',
  'a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99',
  `a=setup:${setup}`,
];
const videoSimulcast = (setup?: string) => [
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 45',
  ...transportLines(setup),
  'a=mid:0',
  `a=extmap:4 ${MID}`,
  `a=extmap:10 ${RID}`,
  `a=extmap:11 ${RRID}`,
  `a=extmap:3 ${TWCC}`,
  'a=extmap:9 urn:ietf:params:rtp-hdrext:toffset-unknown',
  'a=sendonly',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtcp-fb:96 transport-cc',
  'a=rtcp-fb:96 ccm fir',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:98 VP9/90000',
  'a=rtpmap:99 rtx/90000',
  'a=fmtp:99 apt=98',
  'a=rtpmap:45 AV1/90000',
  'a=rid:q send',
  'a=rid:h send',
  'a=rid:f send',
  'a=simulcast:send q;h;f',
];
const audio = [
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 0',
  ...transportLines(),
  'a=mid:1',
  `a=extmap:14 ${LEVEL}`,
  `a=extmap:4 ${MID}`,
  'a=sendonly',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:0 PCMU/8000',
  'a=ssrc:1111 cname:encoder',
];
const sdp = (...sections: string[][]) => [...session, ...sections.flat()].join('\r\n') + '\r\n';

const transport = {
  id: 't1',
  iceParameters: { usernameFragment: 'srvufrag', password: 'srvpassword', iceLite: true },
  iceCandidates: [
    {
      foundation: 'udpcandidate',
      priority: 1076302079,
      ip: '127.0.0.1',
      protocol: 'udp',
      port: 40000,
      type: 'host',
      tcpType: undefined,
    },
    {
      foundation: 'tcpcandidate',
      priority: 1076276479,
      ip: '127.0.0.1',
      protocol: 'tcp',
      port: 40001,
      type: 'host',
      tcpType: 'passive',
    },
  ],
  dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: '11:22' }] },
  sctpParameters: undefined,
} as const;

const code = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    return `${(err as { code?: string }).code}: ${(err as Error).message}`;
  }
  return 'ok';
};

describe('WHIP offer and answer', () => {
  test('a simulcast VP8 camera and an Opus microphone become producer parameters', () => {
    const offer = readWhipOffer(sdp(videoSimulcast(), audio), caps);
    expect(offer.dtlsParameters.role).toBe('client');
    expect(offer.dtlsParameters.fingerprints[0]!.algorithm).toBe('sha-256');
    const [video, mic] = offer.streams;
    expect(video!.kind).toBe('video');
    expect(video!.rids).toEqual(['q', 'h', 'f']);
    expect(video!.rtpParameters.mid).toBe('0');
    expect(video!.rtpParameters.codecs.map((c) => [c.mimeType, c.payloadType])).toEqual([
      ['video/VP8', 96],
      ['video/rtx', 97],
    ]);
    // Feedback the router does not speak (goog-remb here) is left out.
    expect(video!.rtpParameters.codecs[0]!.rtcpFeedback!.map((f) => f.type + (f.parameter ?? ''))).toEqual([
      'transport-cc',
      'ccmfir',
      'nack',
      'nackpli',
    ]);
    expect(video!.rtpParameters.encodings).toEqual([{ rid: 'q' }, { rid: 'h' }, { rid: 'f' }]);
    expect(video!.rtpParameters.headerExtensions!.map((h) => h.id).sort()).toEqual([10, 11, 3, 4].sort());
    expect(mic!.rtpParameters.codecs).toEqual([
      expect.objectContaining({
        mimeType: 'audio/opus',
        payloadType: 111,
        channels: 2,
        parameters: { minptime: 10, useinbandfec: 1 },
      }),
    ]);
    expect(mic!.rtpParameters.encodings).toEqual([{ ssrc: 1111 }]);
    expect(mic!.rtpParameters.rtcp).toEqual({ cname: 'encoder', reducedSize: false });
  });

  test('the answer receives both sections on one ICE-lite transport, simulcast acknowledged', () => {
    const offer = readWhipOffer(sdp(videoSimulcast(), audio), caps);
    const answer = writeWhipAnswer(offer, transport as never);
    expect(answer).toContain('a=ice-lite');
    expect(answer).toContain('a=group:BUNDLE 0 1');
    expect(answer).toContain('a=setup:passive');
    expect(answer).toContain('a=simulcast:recv q;h;f');
    expect(answer).toContain('a=rid:f recv');
    expect(answer).toContain('m=video 7 UDP/TLS/RTP/SAVPF 96 97');
    expect(answer).toContain('a=candidate:tcpcandidate 1 tcp 1076276479 127.0.0.1 40001 typ host tcptype passive');
    expect(answer).toContain('a=fmtp:111 minptime=10;useinbandfec=1');
    expect(answer.match(/a=recvonly/g)).toHaveLength(2);
  });

  test('a single-layer H.264 camera with RTX is read by its SSRCs; an encoder that will not be DTLS client is served', () => {
    const h264 = [
      'm=video 9 UDP/TLS/RTP/SAVPF 102 103',
      ...transportLines('passive'),
      'a=mid:v',
      'a=sendonly',
      'a=rtcp-mux',
      'a=rtpmap:102 H264/90000',
      'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42c028',
      'a=rtcp-fb:102 nack pli',
      'a=rtpmap:103 rtx/90000',
      'a=fmtp:103 apt=102',
      'a=ssrc-group:FID 5000 5001',
      'a=ssrc:5000 cname:obs',
      'a=ssrc:5001 cname:obs',
    ];
    const offer = readWhipOffer(sdp(h264), caps);
    expect(offer.dtlsParameters.role).toBe('server');
    expect(offer.streams[0]!.rtpParameters.encodings).toEqual([{ ssrc: 5000, rtx: { ssrc: 5001 } }]);
    expect(offer.streams[0]!.rtpParameters.codecs[0]!.mimeType).toBe('video/H264');
    expect(writeWhipAnswer(offer, transport as never)).toContain('a=setup:active');
  });

  test('offers the server cannot take are refused with the reason', () => {
    const vp9only = videoSimulcast().map((l) => l.replace('96 97 98 99 45', '98 99').replace(/^a=rtpmap:96 .*/, ''));
    const h264main = [
      'm=video 9 UDP/TLS/RTP/SAVPF 102',
      ...transportLines(),
      'a=mid:0',
      'a=sendonly',
      'a=rtcp-mux',
      'a=rtpmap:102 H264/90000',
      'a=fmtp:102 packetization-mode=1;profile-level-id=4d001f',
      'a=ssrc:1 cname:x',
    ];
    expect(code(() => readWhipOffer('hello', caps))).toMatch(/^bad_request: the body is not an SDP/);
    expect(code(() => readWhipOffer(sdp([]), caps))).toMatch(/no media section/);
    expect(code(() => readWhipOffer(sdp(vp9only.filter(Boolean)), caps))).toMatch(
      /no video codec the server takes \(offered: .*VP9/,
    );
    expect(code(() => readWhipOffer(sdp(h264main), caps))).toMatch(/no video codec/);
    expect(code(() => readWhipOffer(sdp(audio.filter((l) => l !== 'a=rtcp-mux')), caps))).toMatch(/rtcp-mux/);
    expect(code(() => readWhipOffer(sdp(audio.filter((l) => !l.startsWith('a=ssrc'))), caps))).toMatch(/no a=ssrc/);
    expect(code(() => readWhipOffer(sdp(audio, audio), caps))).toMatch(/more than one audio/);
    expect(
      code(() =>
        readWhipOffer(sdp(audio.map((l) => (l.startsWith('a=fingerprint') ? 'a=fingerprint:md5 00' : l))), caps),
      ),
    ).toMatch(/fingerprint/);
    expect(code(() => readWhipOffer(sdp(audio.map((l) => l.replace('SAVPF', 'AVP'))), caps))).toMatch(/not WebRTC/);
    expect(code(() => readWhipOffer(sdp(videoSimulcast().map((l) => l.replace('q;h;f', 'a;b;c;d'))), caps))).toMatch(
      /three simulcast/,
    );
    expect(code(() => readWhipOffer(sdp(videoSimulcast().filter((l) => !l.includes(RID))), caps))).toMatch(
      /rtp-stream-id/,
    );
    // Only receiving sections: nothing to publish.
    expect(code(() => readWhipOffer(sdp(audio.map((l) => l.replace('sendonly', 'recvonly'))), caps))).toMatch(
      /neither audio nor video/,
    );
  });
});
