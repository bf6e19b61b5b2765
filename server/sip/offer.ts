// What a room system offers in its INVITE, checked and reduced to what the gateway will
// send it: one audio stream (Opus if offered, else G.722, PCMU, PCMA) and at most one
// video stream (H.264, packetization-mode 1 or 0, baseline, main or high profile: the
// shared transcode sends constrained baseline in packets of one NAL unit each, which all
// of them decode). SRTP with SDES keys (RFC 4568)
// when the offer carries them; plain RTP only for a point allowed it. Parsing uses
// sdp-transform (as WHIP does); every value it returns is checked again here.
import net from 'node:net';
import * as sdpTransform from 'sdp-transform';
import type { SdpMedia, SdpSession } from 'sdp-transform';
import { AppError } from '../errors';

export const MAX_SDP_BYTES = 6000;

/** The audio codecs the gateway sends, in the order it prefers them. */
export const SIP_AUDIO_CODECS = ['opus', 'G722', 'PCMU', 'PCMA'] as const;
export type SipAudioCodec = (typeof SIP_AUDIO_CODECS)[number];

/** SDES suites mediasoup's PlainTransport speaks, in the order the gateway prefers them. */
export const SRTP_SUITES = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const;
export type SrtpSuite = (typeof SRTP_SUITES)[number];

export interface OfferedStream {
  /** Index of its m-line in the offer (the answer keeps the order). */
  index: number;
  ip: string;
  port: number;
  /** RTCP's port: a=rtcp, else port + 1; equal to port with rtcp-mux. */
  rtcpPort: number;
  rtcpMux: boolean;
  payloadType: number;
  clockRate: number;
  channels: number;
  /** The offerer's SDES key for what it sends us, and the suite both sides use. */
  srtp?: { suite: SrtpSuite; keyBase64: string; tag: number };
  /** It offered to send too (sendrecv, the default), not only to receive (recvonly). */
  sends: boolean;
  /** The SSRC it announced for what it sends (a=ssrc), if any. */
  ssrc?: number;
}

export interface AudioOffer extends OfferedStream {
  codec: SipAudioCodec;
  /** telephone-event's payload type at the chosen clock rate, if offered (DTMF). */
  dtmfPayloadType?: number;
}

export interface VideoOffer extends OfferedStream {
  codec: 'H264';
  profileLevelId: string;
  /** What it offered; the shared transcode's packets (one NAL unit each) suit both. */
  packetizationMode: 0 | 1;
}

export interface NegotiatedOffer {
  audio: AudioOffer;
  video?: VideoOffer;
  /** Every m-line of the offer: the answer repeats them, refused ones with port 0. */
  media: { type: string; protocol: string; payloads: string; accepted: boolean }[];
  srtp: boolean;
  /** sdp-transform's parse, for the answer's origin line. */
  session: SdpSession;
}

/** A refusal of the offer: 488 Not Acceptable Here with a Warning saying why (RFC 3261 20.43). */
export const notAcceptable = (message: string) =>
  new AppError('bad_request', message, { details: { sipStatus: 488, warning: 305 } });

const badSdp = (message: string) => new AppError('bad_request', `bad SDP: ${message}`, { details: { sipStatus: 400 } });

function connectionIp(session: SdpSession, m: SdpMedia): string {
  const c = m.connection ?? session.connection;
  if (!c?.ip) throw badSdp(`no c= line for m=${m.type}`);
  // A multicast or TTL form (ip/ttl) is not a room system's: refuse rather than guess.
  const ip = String(c.ip);
  if (!net.isIP(ip)) throw badSdp(`c= address ${JSON.stringify(ip.slice(0, 60))} is not an IP address`);
  if (ip === '0.0.0.0' || ip === '::') throw notAcceptable('the offer puts the call on hold (c=0.0.0.0)');
  return ip;
}

/**
 * Media goes only to the host that signals: an offer whose c= names another address is
 * refused (488), or any caller could aim the hall's stream (about 1.2 Mbit/s) at a third
 * host, this server's loopback or an internal one.
 */
export function requireMediaFromSource(offer: NegotiatedOffer, sourceIp: string): void {
  const plain = (ip: string) => ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();
  for (const s of [offer.audio, offer.video]) {
    if (s && plain(s.ip) !== plain(sourceIp)) {
      throw notAcceptable(
        `media must use the address the call comes from (${plain(sourceIp)}), not ${plain(s.ip).slice(0, 60)}`,
      );
    }
  }
}

function fmtpOf(m: SdpMedia, pt: number): Record<string, string | number> {
  const f = (m.fmtp ?? []).find((x) => x.payload === pt);
  return f ? sdpTransform.parseParams(f.config) : {};
}

function srtpOf(m: SdpMedia, allowPlain: boolean): OfferedStream['srtp'] {
  const secure = /^RTP\/SAVPF?$/.test(m.protocol);
  if (!secure) {
    if (/^RTP\/AVPF?$/.test(m.protocol)) {
      if (!allowPlain) throw notAcceptable('this point must use SRTP (offer RTP/SAVP with a=crypto)');
      return undefined;
    }
    throw notAcceptable(`transport ${m.protocol} is not supported (RTP/SAVP with SDES, or RTP/AVP)`);
  }
  for (const suite of SRTP_SUITES) {
    const c = (m.crypto ?? []).find((x) => x.suite === suite);
    if (!c) continue;
    // inline:<base64 of 16-byte key + 14-byte salt>[|lifetime][|MKI:length]; one key, no MKI.
    const inline = /^inline:([A-Za-z0-9+/]{40})(\|[^|]*)?$/.exec(c.config);
    if (!inline || c.sessionConfig) throw notAcceptable(`the ${suite} key is malformed or uses an MKI`);
    if (Buffer.from(inline[1]!, 'base64').length !== 30) throw notAcceptable(`the ${suite} key is not 30 bytes`);
    if (!Number.isInteger(c.id) || c.id < 0 || c.id > 999_999_999) throw badSdp('bad crypto tag');
    return { suite, keyBase64: inline[1]!, tag: c.id };
  }
  throw notAcceptable(`no supported SRTP suite offered (${SRTP_SUITES.join(', ')})`);
}

function stream(session: SdpSession, m: SdpMedia, index: number, allowPlain: boolean) {
  const ip = connectionIp(session, m);
  const rtcpMux = m.rtcpMux !== undefined;
  const rtcpPort = rtcpMux ? m.port : (m.rtcp?.port ?? m.port + 1);
  if (!Number.isInteger(rtcpPort) || rtcpPort < 1 || rtcpPort > 65535) throw badSdp('bad a=rtcp port');
  return {
    index,
    ip,
    port: m.port,
    rtcpPort,
    rtcpMux,
    srtp: srtpOf(m, allowPlain),
    sends: m.direction !== 'recvonly',
    ...ssrcOf(m),
  };
}

/** The first SSRC an m-line announces (a=ssrc, RFC 5576), checked as a 32-bit number. */
export function ssrcOf(m: SdpMedia): { ssrc?: number } {
  const id = (m.ssrcs ?? [])[0]?.id;
  if (id === undefined) return {};
  const n = Number(id);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw badSdp('bad a=ssrc');
  return { ssrc: n };
}

/** Static payload types an offer may list without an rtpmap (RFC 3551 6). */
const STATIC_AUDIO: Record<number, { codec: string; rate: number }> = {
  0: { codec: 'PCMU', rate: 8000 },
  8: { codec: 'PCMA', rate: 8000 },
  9: { codec: 'G722', rate: 8000 },
};

/** The offered formats with their rtpmap, the static ones filled in. */
function formats(m: SdpMedia): SdpMedia['rtp'] {
  const listed = String(m.payloads ?? '')
    .split(' ')
    .filter((p) => /^\d{1,3}$/.test(p))
    .map(Number);
  const out = m.rtp.filter((r) => listed.includes(r.payload));
  for (const pt of listed) {
    const known = STATIC_AUDIO[pt];
    if (known && !out.some((r) => r.payload === pt)) out.push({ payload: pt, ...known });
  }
  return out;
}

function pickAudio(session: SdpSession, m: SdpMedia, index: number, allowPlain: boolean): AudioOffer | undefined {
  const offered = formats(m);
  for (const codec of SIP_AUDIO_CODECS) {
    const rtp = offered.find((r) => {
      const name = r.codec.toLowerCase();
      if (codec === 'opus') return name === 'opus' && r.rate === 48000;
      // G.722's RTP clock is 8000 though it samples at 16 kHz (RFC 3551 4.5.2).
      return name === codec.toLowerCase() && (r.rate ?? 8000) === 8000 && (r.encoding ?? 1) === 1;
    });
    if (!rtp) continue;
    const dtmf = offered.find((r) => r.codec.toLowerCase() === 'telephone-event' && r.rate === (rtp.rate ?? 8000));
    return {
      ...stream(session, m, index, allowPlain),
      codec,
      payloadType: rtp.payload,
      clockRate: rtp.rate ?? 8000,
      channels: codec === 'opus' ? 2 : 1,
      ...(dtmf ? { dtmfPayloadType: dtmf.payload } : {}),
    };
  }
  return undefined;
}

function pickVideo(session: SdpSession, m: SdpMedia, index: number, allowPlain: boolean): VideoOffer | undefined {
  // Packetization mode 1 first (what most systems offer first anyway), else 0.
  const h264 = formats(m)
    .filter((r) => r.codec.toLowerCase() === 'h264' && r.rate === 90000)
    .map((rtp) => ({ rtp, fmtp: fmtpOf(m, rtp.payload) }))
    .filter(({ fmtp }) => [0, 1].includes(Number(fmtp['packetization-mode'] ?? 0)))
    .sort((a, b) => Number(b.fmtp['packetization-mode'] ?? 0) - Number(a.fmtp['packetization-mode'] ?? 0));
  for (const { rtp, fmtp } of h264) {
    const profile = String(fmtp['profile-level-id'] ?? '42801f').toLowerCase();
    // Baseline (42), main (4d), constrained high (64 with constraint bit): all decode constrained baseline.
    if (!/^(42|4d|64)[0-9a-f]{4}$/.test(profile)) continue;
    return {
      packetizationMode: Number(fmtp['packetization-mode'] ?? 0) === 1 ? 1 : 0,
      ...stream(session, m, index, allowPlain),
      codec: 'H264',
      payloadType: rtp.payload,
      clockRate: 90000,
      channels: 1,
      profileLevelId: profile,
    };
  }
  return undefined;
}

/**
 * Checks the offer of an INVITE. Throws AppError bad_request with `details.sipStatus` 400
 * (unreadable) or 488 (readable, nothing the gateway can do with it).
 */
export function negotiateOffer(sdp: string, opts: { allowPlainRtp: boolean }): NegotiatedOffer {
  if (Buffer.byteLength(sdp) > MAX_SDP_BYTES) throw badSdp(`larger than ${MAX_SDP_BYTES} bytes`);
  if (!/^v=0\r?\n/.test(sdp)) throw badSdp('does not start with v=0');
  let session: SdpSession;
  try {
    session = sdpTransform.parse(sdp);
  } catch (err) {
    throw badSdp((err as Error).message);
  }
  if (!session.origin || !Array.isArray(session.media) || session.media.length === 0) throw badSdp('no o= or m= line');
  if (session.media.length > 8) throw badSdp('more than 8 m= lines');
  let audio: AudioOffer | undefined;
  let video: VideoOffer | undefined;
  const media: NegotiatedOffer['media'] = [];
  session.media.forEach((m, index) => {
    if (!Number.isInteger(m.port) || m.port < 0 || m.port > 65535) throw badSdp(`bad port in m=${m.type}`);
    if (!Array.isArray(m.rtp)) m.rtp = [];
    const entry = {
      type: String(m.type),
      protocol: String(m.protocol),
      payloads: String(m.payloads ?? ''),
      accepted: false,
    };
    media.push(entry);
    // A second video (content, H.239/BFCP) or an application line is declined: the hall's one picture is all we send.
    if (m.port === 0 || m.direction === 'inactive' || m.direction === 'sendonly') return;
    if (m.type === 'audio' && !audio) {
      audio = pickAudio(session, m, index, opts.allowPlainRtp);
      entry.accepted = audio !== undefined;
    } else if (m.type === 'video' && !video) {
      video = pickVideo(session, m, index, opts.allowPlainRtp);
      entry.accepted = video !== undefined;
    }
  });
  if (!audio) throw notAcceptable(`no audio codec in common: offer one of ${SIP_AUDIO_CODECS.join(', ')}`);
  const srtp = audio.srtp !== undefined;
  if (video && (video.srtp !== undefined) !== srtp)
    throw notAcceptable('audio and video must both use SRTP or neither');
  return { audio, ...(video ? { video } : {}), media, srtp, session };
}
