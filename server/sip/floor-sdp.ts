// What a room system's call needs to carry its camera and microphone to the hall (the
// floor), and what its answer to the gateway's `sendrecv` re-INVITE says it will send.
// Its first offer decides whether it can send at all (audio offered `recvonly` cannot);
// the re-INVITE's answer must keep every accepted line, send on the audio line (video is
// optional: a system that sends no picture holds the floor with its sound), keep the SRTP
// key it gave at the start (the server's receiving side was keyed with it) and name the
// SSRC of what it sends (a=ssrc, in the answer or the first offer): the SFU tells streams
// apart by it. Parsing goes through sdp-transform, every value checked as offer.ts does.
import * as sdpTransform from 'sdp-transform';
import type { SdpSession } from 'sdp-transform';
import { AppError, why } from '../errors';
import { MAX_SDP_BYTES, ssrcOf, type NegotiatedOffer, type OfferedStream } from './offer';

/** What the room system sends on one line, as its answer to the floor's re-INVITE says. */
export interface FloorSending {
  ssrc: number;
  payloadType: number;
}

export interface FloorAnswer {
  audio: FloorSending;
  /** Absent: the system sends no picture (offered none, or answered `recvonly` on video). */
  video?: FloorSending;
}

const cannotSend = (detail: string) =>
  new AppError('conflict', `this room system cannot send its picture and sound: ${detail}`, {
    ...why('room_system_cannot_send', { detail }),
  });

/** Throws (conflict, room_system_cannot_send) if the call's first offer cannot carry the floor. */
export function requireCanSend(offer: NegotiatedOffer): void {
  if (!offer.audio.sends) throw cannotSend('it offered audio to receive only (recvonly)');
}

/**
 * The room system's answer to our `sendrecv` re-offer. Throws (conflict,
 * room_system_cannot_send) when it does not send what the floor needs.
 */
export function readFloorAnswer(sdp: string, offer: NegotiatedOffer): FloorAnswer {
  if (Buffer.byteLength(sdp) > MAX_SDP_BYTES) throw cannotSend(`its answer is larger than ${MAX_SDP_BYTES} bytes`);
  if (!/^v=0\r?\n/.test(sdp)) throw cannotSend('its answer is not SDP');
  let session: SdpSession;
  try {
    session = sdpTransform.parse(sdp);
  } catch {
    throw cannotSend('its answer cannot be read');
  }
  const media = Array.isArray(session.media) ? session.media : [];
  if (media.length !== offer.media.length) throw cannotSend('its answer has not one line for each line offered');
  const audio = sending(session, offer.audio, 'audio');
  if (!audio) throw cannotSend('it answered that it sends no audio');
  const video = offer.video ? sending(session, offer.video, 'video') : undefined;
  return { audio, ...(video ? { video } : {}) };
}

function sending(
  session: SdpSession,
  s: OfferedStream & { codec: string },
  kind: 'audio' | 'video',
): FloorSending | undefined {
  const m = session.media[s.index]!;
  if (m.type !== kind) throw cannotSend(`line ${s.index + 1} of its answer is not ${kind}`);
  const direction = m.direction ?? (session as { direction?: string }).direction ?? 'sendrecv';
  if (!s.sends || m.port === 0 || direction === 'recvonly' || direction === 'inactive') return undefined;
  if (s.srtp) {
    const c = (m.crypto ?? []).find((x) => x.suite === s.srtp!.suite);
    const key = c ? /^inline:([A-Za-z0-9+/]{40})(\|[^|]*)?$/.exec(c.config)?.[1] : undefined;
    if (key !== s.srtp.keyBase64) throw cannotSend(`it changed its ${kind} SRTP key`);
  }
  let ssrc: number | undefined;
  try {
    ssrc = ssrcOf(m).ssrc ?? s.ssrc;
  } catch {
    throw cannotSend(`its ${kind} a=ssrc is malformed`);
  }
  if (ssrc === undefined) throw cannotSend(`it names no SSRC (a=ssrc) for its ${kind}`);
  // It sends with the number it answered for the codec: ours if it kept it (RFC 3264 6.1
  // asks so), else its own (some systems answer with the numbers of their first offer).
  const pts = String(m.payloads ?? '').split(' ');
  if (pts.includes(String(s.payloadType))) return { ssrc, payloadType: s.payloadType };
  const codec = s.codec.toLowerCase();
  const own = (m.rtp ?? []).find((r) => r.codec.toLowerCase() === codec && pts.includes(String(r.payload)));
  if (!own || own.payload < 96 || own.payload > 127) throw cannotSend(`its ${kind} answer has no ${s.codec} in common`);
  return { ssrc, payloadType: own.payload };
}
