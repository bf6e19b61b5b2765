// What the gateway and the media side of a call (media-bridge.ts, sfu/sip-media.ts) say to
// each other: the gateway's settings, a call as authorised, and its media.
import type { CallDirection } from './answer';
import { AppError } from '../errors';
import type { FloorAnswer } from './floor-sdp';
import type { NegotiatedOffer } from './offer';

export interface SipConfig {
  /** UDP port (0: any free one, for tests). */
  port: number;
  listenIp: string;
  /** The address put in Contact and in SDP answers: the one room systems reach (unset: RTC's). */
  announcedIp: string | undefined;
  /** INVITEs a source may send per minute, and at once. */
  invitesPerMinute: number;
  inviteBurst: number;
  /** Calls at once, all points together. */
  maxCalls: number;
  /** Point codes allowed plain RTP (no SRTP); `*` for all. */
  plainRtpPoints: '*' | string[];
  /** The current agenda item burned into the picture room systems receive (SIP_CAPTION). */
  caption: boolean;
}

export interface SipCallRequest {
  callId: string;
  sessionId: string;
  pointId: string;
  offer: NegotiatedOffer;
  source: { ip: string; port: number };
}

export interface SipCallMedia {
  /** The SDP answer sent in the 200 OK. */
  answer: string;
  /** The same lines with another direction and the next o= version: a re-INVITE's offer. */
  describe?(direction: CallDirection, version: number): string;
  /** The room system's camera and microphone into the room as its floor (floor-feed.ts), and their end. */
  floor?: {
    /** Resolves once the media flows; `failedLater`: it stopped for good afterwards (the floor is to end). */
    start(sending: FloorAnswer, failedLater: (err: AppError) => void): Promise<void>;
    stop(): void;
  };
  close(): void;
}

/** The media side of a call (media-bridge.ts, sfu/sip-media.ts): opens it, or throws an AppError the caller hears as a status. */
export interface SipMediaBridge {
  open(call: SipCallRequest, ended: (reason: string) => void): Promise<SipCallMedia>;
}

/** Where media is not served (a node without workers): every call is told 503. */
export const NO_SIP_MEDIA: SipMediaBridge = {
  open: () => Promise.reject(new AppError('unavailable', 'room systems get no media on this node')),
};

/** A call that is up, as the floor (floor-bridge.ts) sees it. */
export interface SipCallInfo {
  callId: string;
  offer: NegotiatedOffer;
  media: SipCallMedia | undefined;
}
