// The SDP answer to a room system's offer (RFC 3264): every offered m-line in its order,
// the accepted ones with our address, port and the one codec we send, the others refused
// with port 0. We send and do not (yet) receive, so accepted lines are `sendonly`, and
// their payload type is the one we send with (RFC 3264 6.1: for a sendonly stream the
// answer's numbers are those the answerer sends): mediasoup sends the router's number for
// a codec, which is the offer's for static ones (PCMU 0, PCMA 8, G722 9) and may differ
// for dynamic ones (H.264, Opus).
import { randomInt } from 'node:crypto';
import type { SipLegInfo } from '../../sfu';
import type { NegotiatedOffer, OfferedStream } from './offer';

export interface AnsweredStream {
  offer: OfferedStream & { codec: string };
  leg: SipLegInfo;
}

const RTPMAP: Record<string, (pt: number, mode: number) => string[]> = {
  opus: (pt) => [`a=rtpmap:${pt} opus/48000/2`],
  G722: (pt) => [`a=rtpmap:${pt} G722/8000`],
  PCMU: (pt) => [`a=rtpmap:${pt} PCMU/8000`],
  PCMA: (pt) => [`a=rtpmap:${pt} PCMA/8000`],
  H264: (pt, mode) => [`a=rtpmap:${pt} H264/90000`, `a=fmtp:${pt} profile-level-id=42e01f;packetization-mode=${mode}`],
};

/** `answered` is not empty: an offer without a stream we send is refused before (offer.ts). */
export function writeAnswer(offer: NegotiatedOffer, answered: AnsweredStream[]): string {
  // Every leg listens on the same address: what room systems reach.
  const ip = answered[0]!.leg.ip;
  const ipVer = ip.includes(':') ? 6 : 4;
  const lines = [
    'v=0',
    `o=briefing ${randomInt(1, 2 ** 31)} 1 IN IP${ipVer} ${ip}`,
    's=briefing',
    `c=IN IP${ipVer} ${ip}`,
    't=0 0',
  ];
  offer.media.forEach((m, index) => {
    const a = answered.find((x) => x.offer.index === index);
    if (!a) {
      lines.push(`m=${m.type} 0 ${m.protocol} ${m.payloads.split(' ')[0] || '0'}`);
      return;
    }
    const pt = a.leg.payloadType;
    const mode = 'packetizationMode' in a.offer ? Number(a.offer.packetizationMode) : 1;
    lines.push(`m=${m.type} ${a.leg.port} ${m.protocol} ${pt}`, ...RTPMAP[a.offer.codec]!(pt, mode));
    if (a.offer.rtcpMux) lines.push('a=rtcp-mux');
    else lines.push(`a=rtcp:${a.leg.rtcpPort}`);
    if (a.offer.srtp && a.leg.srtp)
      lines.push(`a=crypto:${a.offer.srtp.tag} ${a.leg.srtp.suite} inline:${a.leg.srtp.keyBase64}`);
    lines.push('a=sendonly');
  });
  return `${lines.join('\r\n')}\r\n`;
}
