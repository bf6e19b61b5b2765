// The SDP answer to a room system's offer (RFC 3264): every offered m-line in its order,
// the accepted ones with our address, port and the one codec we send, the others refused
// with port 0. The answer is `sendonly`: the room system receives the hall. The same lines
// with `sendrecv` are the gateway's re-INVITE offer when the room system gets the floor
// (its camera and microphone to the hall), and with `sendonly` again when the floor goes
// back (the o= line keeps its session id and counts the version up, RFC 3264 8). The
// payload type is the one we send with (RFC 3264 6.1: for a sendonly stream the answer's
// numbers are those the answerer sends), which is the offer's (RFC 3264 5.1: what the room
// system expects to receive): the router's own for static ones (PCMU 0, PCMA 8, G722 9),
// and a payload router's (sfu/sip-payload-routers.ts) for a dynamic one (H.264, Opus) that
// the origin router numbers differently; the room system sends with it as well.
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

export type CallDirection = 'sendonly' | 'sendrecv';

export interface DescribeOptions {
  direction: CallDirection;
  /** The o= line's session id and version: the same id, a higher version for each change. */
  origin: { id: number; version: number };
}

/** `answered` is not empty: an offer without a stream we send is refused before (offer.ts). */
export function writeAnswer(
  offer: NegotiatedOffer,
  answered: AnsweredStream[],
  opts: DescribeOptions = { direction: 'sendonly', origin: { id: randomInt(1, 2 ** 31), version: 1 } },
): string {
  // Every leg listens on the same address: what room systems reach.
  const ip = answered[0]!.leg.ip;
  const ipVer = ip.includes(':') ? 6 : 4;
  const lines = [
    'v=0',
    `o=briefing ${opts.origin.id} ${opts.origin.version} IN IP${ipVer} ${ip}`,
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
    lines.push(`a=${opts.direction}`);
  });
  return `${lines.join('\r\n')}\r\n`;
}
