// The per-SSRC record a virtual point's receiver keeps of each media stream (./rtp-reader.ts
// fills it per packet): counts, sequence numbers, jitter, gaps, frames and the first key
// frame's assembly, with the pure readers of it (loss, VP8 key-frame start, key-frame
// completion). No I/O: unit-tested.
import type { SrtpStreamReader } from './srtp-index';

export interface StreamStats {
  kind: 'audio' | 'video';
  /** The producer's source as the consumer said (`host-camera`, `host-mic`, …), when it did. */
  source?: string | undefined;
  clockRate: number;
  ssrc: number;
  received: number;
  /** Bytes of the packets that came on the media SSRC (the stream's bitrate). */
  bytes: number;
  /** Bytes of the RTX packets counted as this stream's (retransmissions, apart from `bytes`). */
  rtxBytes: number;
  /** Highest extended sequence number seen, and the first. */
  firstSeq: number;
  maxSeq: number;
  /** RFC 3550 interarrival jitter, in RTP timestamp units. */
  jitter: number;
  lastTransit: number | undefined;
  /** The smallest transit (arrival minus RTP timestamp, timestamp units): the stream's fastest packet. */
  minTransit: number | undefined;
  /**
   * Video: the latest a packet that revealed a sequence gap was read, in ms after the
   * stream's fastest packet (time in the socket's queue or the generator's stalls). A gap
   * read later than the SFU's retransmission window (2 s for video) cannot be repaired.
   */
  gapReadLagMs: number;
  lastArrival: number;
  /** Longest silence between two packets after the first (ms). */
  maxGapMs: number;
  /**
   * That silence on the wire: when it ended (epoch ms), the sequence step and the RTP
   * timestamp step (ms) across it. A step of one packet and of one frame or less is a
   * delay in reading (the packets waited in the socket), not a hole in the stream.
   */
  maxGap: { endedAt: number; seqStep: number; rtpMs: number } | undefined;
  /**
   * Every silence of at least SILENCE_RECORD_MS between two packets (up to SILENCES_KEPT),
   * as maxGap describes the longest: what ./video-stops.ts matches to the SFU's own stops.
   */
  silences: StreamSilence[];
  /** Silences past the first SILENCES_KEPT, counted but not kept. */
  silencesDropped: number;
  /**
   * The largest RTP timestamp step between two packets in sequence (ms): what the stream
   * itself skipped (a frame interval normally), whenever the packets were read.
   */
  maxRtpStepMs: number;
  /** The last packet's extended sequence number and RTP timestamp. */
  lastExt: number;
  lastTs: number;
  /** Frames completed (marker bit on video). */
  frames: number;
  firstPacketAt: number | undefined;
  /** The first VP8 key frame's first packet read (epoch ms). */
  keyFrameStartAt: number | undefined;
  /**
   * The first VP8 key frame complete (epoch ms): its last packet (the marker bit) read and
   * every packet from its first to that one there (a NACKed one counts once it came back).
   */
  firstKeyFrameAt: number | undefined;
  /** The first key frame being assembled: its RTP timestamp, first and last packets, packets read. */
  keyFrame: { ts: number; startExt: number; endExt: number | undefined; packets: number } | undefined;
  decrypted: number;
  authFailures: number;
  /** The decrypt checks of this SSRC, with their own index (ROC) count. */
  reader: SrtpStreamReader | undefined;
  /** Why this stream's packets do not decrypt, when none ever did (see diagnose()). */
  diagnosis?: string;
}

/** Silences this long or longer are kept one by one (StreamStats.silences). */
export const SILENCE_RECORD_MS = 500;
export const SILENCES_KEPT = 200;

export interface StreamSilence {
  /** When the packet after it was read (epoch ms). */
  endedAt: number;
  ms: number;
  seqStep: number;
  rtpMs: number;
}

export function newStream(kind: 'audio' | 'video', ssrc: number, clockRate: number): StreamStats {
  return {
    kind,
    clockRate,
    ssrc,
    received: 0,
    bytes: 0,
    rtxBytes: 0,
    firstSeq: -1,
    maxSeq: -1,
    jitter: 0,
    lastTransit: undefined,
    minTransit: undefined,
    gapReadLagMs: 0,
    lastArrival: 0,
    maxGapMs: 0,
    maxGap: undefined,
    silences: [],
    silencesDropped: 0,
    maxRtpStepMs: 0,
    lastExt: -1,
    lastTs: 0,
    frames: 0,
    firstPacketAt: undefined,
    keyFrameStartAt: undefined,
    firstKeyFrameAt: undefined,
    keyFrame: undefined,
    decrypted: 0,
    authFailures: 0,
    reader: undefined,
  };
}

/**
 * A first transmission's transit (arrival minus RTP timestamp, timestamp units): the
 * fastest so far is the reference; a packet that revealed a gap keeps its lag behind it.
 * A jump of over 2^30 units (a timestamp wrap) starts the reference again.
 */
export function noteReadLag(s: StreamStats, transit: number, revealsGap: boolean): void {
  if (s.minTransit === undefined || transit < s.minTransit || transit - s.minTransit > 2 ** 30) s.minTransit = transit;
  if (!revealsGap) return;
  const lag = ((transit - s.minTransit) * 1000) / s.clockRate;
  if (lag > s.gapReadLagMs) s.gapReadLagMs = lag;
}

/** Packets the SFU sent that never arrived, from sequence numbers. */
export function lostOf(s: StreamStats): number {
  if (s.firstSeq < 0) return 0;
  return Math.max(0, s.maxSeq - s.firstSeq + 1 - s.received);
}

/**
 * A VP8 key frame starts in this decrypted RTP packet: the payload descriptor (RFC 7741)
 * says start of partition 0, and the VP8 header's P bit is 0.
 */
export function isVp8KeyFrameStart(pkt: Buffer): boolean {
  if (pkt.length < 13) return false;
  const cc = pkt[0]! & 0x0f;
  let off = 12 + cc * 4;
  if (pkt[0]! & 0x10) {
    if (pkt.length < off + 4) return false;
    off += 4 + pkt.readUInt16BE(off + 2) * 4;
  }
  if (pkt.length <= off) return false;
  const b0 = pkt[off]!;
  const start = (b0 & 0x10) !== 0 && (b0 & 0x07) === 0;
  if (!start) return false;
  off += 1;
  if (b0 & 0x80) {
    const x = pkt[off]!;
    off += 1;
    if (x & 0x80) off += pkt[off]! & 0x80 ? 2 : 1; // PictureID, 7 or 15 bits
    if (x & 0x40) off += 1; // TL0PICIDX
    if (x & 0x30) off += 1; // TID/KEYIDX
  }
  if (pkt.length <= off) return false;
  return (pkt[off]! & 0x01) === 0;
}

/**
 * Counts one packet of a video stream's first key frame (the start packet, or one after
 * it with the same RTP timestamp); true once the frame is complete.
 */
export function keyFrameComplete(s: StreamStats, ext: number, ts: number, marker: boolean): boolean {
  const k = s.keyFrame;
  if (!k || ts !== k.ts || ext < k.startExt) return false;
  if (ext > k.startExt) k.packets += 1;
  if (marker) k.endExt = ext;
  return k.endExt !== undefined && k.packets >= k.endExt - k.startExt + 1;
}
