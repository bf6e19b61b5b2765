// The SDP of a call the gateway places (dial-out, RFC 3264): our offer, and the room
// system's answer read back into what a dial-in call's offer gives (offer.ts's
// NegotiatedOffer), so the rest of a call does not care who called whom.
//
// The offer is `sendonly`, as a dial-in answer is: the room system receives the hall. One
// audio line listing the hall's audio codecs in the gateway's order (Opus, G.722, G.711
// µ-law, A-law) and, if asked, one video line with H.264 (constrained baseline in
// packetization-mode 0, single NAL units: what the shared transcode sends), each with its own port and a
// separate RTCP port. The payload types are the ones our side sends with (RFC 3264 5.1:
// in a sendonly offer they are what the offerer will send). A point that must use SRTP
// gets an SRTP-only offer: RTP/SAVP with our SDES key (RFC 4568) on each line, so a room
// system without SRTP refuses (488) rather than receiving in the clear; a point allowed
// plain RTP (SIP_PLAIN_RTP) gets RTP/AVP.
//
// The answer must keep the lines in order and the transport offered, accept audio with a
// codec we offered (video may be refused with port 0), answer the crypto tag and suite we
// offered with a key of its own, and put its media at the address it signals from, as a
// dial-in offer must (offer.ts, requireMediaFromSource).
import { AppError, toAppError } from '../errors';
import {
  negotiateOffer,
  notAcceptable,
  requireMediaFromSource,
  SIP_AUDIO_CODECS,
  type NegotiatedOffer,
  type SipAudioCodec,
  type SrtpSuite,
} from './offer';

/** One line of our offer: where we listen, how we send each codec, and our SDES key. */
export interface DialStream {
  port: number;
  rtcpPort: number;
  /** The payload types we send each codec with. */
  payloadTypes: Partial<Record<SipAudioCodec | 'H264', number>>;
  /** Our key for what we send (absent: plain RTP). */
  srtp?: { suite: SrtpSuite; keyBase64: string };
}

export interface DialOffer {
  /** Our address (the one room systems reach). */
  ip: string;
  /** The o= line's session id and version. */
  origin: { id: number; version: number };
  audio: DialStream;
  video?: DialStream;
}

/** The SDES tag of every line of our offer (one suite each, so one tag). */
export const DIAL_CRYPTO_TAG = 1;

const RTPMAP: Record<SipAudioCodec | 'H264', (pt: number) => string[]> = {
  opus: (pt) => [`a=rtpmap:${pt} opus/48000/2`],
  G722: (pt) => [`a=rtpmap:${pt} G722/8000`],
  PCMU: (pt) => [`a=rtpmap:${pt} PCMU/8000`],
  PCMA: (pt) => [`a=rtpmap:${pt} PCMA/8000`],
  // Mode 0: every H.264 receiver has it, and the shared transcode's packets are one NAL unit each.
  H264: (pt) => [`a=rtpmap:${pt} H264/90000`, `a=fmtp:${pt} profile-level-id=42e01f;packetization-mode=0`],
};

function mediaLines(kind: 'audio' | 'video', s: DialStream): string[] {
  const codecs = (kind === 'audio' ? SIP_AUDIO_CODECS : (['H264'] as const)).filter(
    (c) => s.payloadTypes[c] !== undefined,
  );
  if (codecs.length === 0) throw new AppError('internal', `no ${kind} codec to offer`);
  const pts = codecs.map((c) => s.payloadTypes[c]!);
  return [
    `m=${kind} ${s.port} ${s.srtp ? 'RTP/SAVP' : 'RTP/AVP'} ${pts.join(' ')}`,
    ...codecs.flatMap((c) => RTPMAP[c](s.payloadTypes[c]!)),
    `a=rtcp:${s.rtcpPort}`,
    ...(s.srtp ? [`a=crypto:${DIAL_CRYPTO_TAG} ${s.srtp.suite} inline:${s.srtp.keyBase64}`] : []),
    'a=sendonly',
  ];
}

/** Our offer for a call the gateway places. */
export function writeDialOffer(offer: DialOffer): string {
  if (offer.video && (offer.video.srtp === undefined) !== (offer.audio.srtp === undefined))
    throw new AppError('internal', 'audio and video must both use SRTP or neither');
  const ipVer = offer.ip.includes(':') ? 6 : 4;
  const lines = [
    'v=0',
    `o=briefing ${offer.origin.id} ${offer.origin.version} IN IP${ipVer} ${offer.ip}`,
    's=briefing',
    `c=IN IP${ipVer} ${offer.ip}`,
    't=0 0',
    ...mediaLines('audio', offer.audio),
    ...(offer.video ? mediaLines('video', offer.video) : []),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * The room system's answer to `offer`, from `sourceIp` (where its 2xx came from), as the
 * streams we send it. Throws AppError bad_request with `details.sipStatus` 488 (or 400 for
 * an answer that cannot be read): the caller ends the call.
 */
export function readDialAnswer(sdp: string, offer: DialOffer, sourceIp: string): NegotiatedOffer {
  let answer: NegotiatedOffer;
  try {
    answer = negotiateOffer(sdp, { allowPlainRtp: offer.audio.srtp === undefined });
    requireMediaFromSource(answer, sourceIp);
  } catch (err) {
    const e = toAppError(err);
    throw new AppError(e.code, `the room system's answer: ${e.message}`, { details: e.details });
  }
  const ours = [offer.audio, ...(offer.video ? [offer.video] : [])];
  if (answer.media.length !== ours.length) throw notAcceptable('the answer has not one line for each line offered');
  const kinds = ['audio', 'video'];
  answer.media.forEach((m, i) => {
    if (m.type !== kinds[i]) throw notAcceptable(`line ${i + 1} of the answer is not ${kinds[i]}`);
    if (m.accepted && m.protocol !== (ours[i]!.srtp ? 'RTP/SAVP' : 'RTP/AVP'))
      throw notAcceptable(`the answer's ${m.type} transport ${m.protocol} is not the one offered`);
  });
  const ourPt = (s: DialStream, codec: SipAudioCodec | 'H264', kind: string) => {
    const pt = s.payloadTypes[codec];
    if (pt === undefined) throw notAcceptable(`the answer's ${kind} codec ${codec} was not offered`);
    return pt;
  };
  const checkSrtp = (s: DialStream, got: NegotiatedOffer['audio']['srtp'], kind: string) => {
    if (s.srtp && (got?.suite !== s.srtp.suite || got.tag !== DIAL_CRYPTO_TAG))
      throw notAcceptable(`the answer's ${kind} a=crypto does not answer the one offered`);
  };
  checkSrtp(offer.audio, answer.audio.srtp, 'audio');
  // We send with our own numbers: the answer names the codec it receives.
  const audio = { ...answer.audio, payloadType: ourPt(offer.audio, answer.audio.codec, 'audio') };
  let video: NegotiatedOffer['video'];
  if (answer.video && offer.video) {
    checkSrtp(offer.video, answer.video.srtp, 'video');
    video = { ...answer.video, payloadType: ourPt(offer.video, 'H264', 'video') };
  }
  const { video: _answered, ...rest } = answer;
  return { ...rest, audio, ...(video ? { video } : {}) };
}
