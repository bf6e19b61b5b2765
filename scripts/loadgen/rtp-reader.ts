// The per-packet reading of one receive transport's media, after its SRTP keys: each
// RTP packet's header (ssrc, sequence, timestamp, marker) for loss, jitter, silences and
// bitrate, no parsing objects; the feedback a browser would send told of each packet
// (./point-feedback.ts); every video packet until the first key frame (and until the next
// one after unrecovered loss), and one packet in `decryptEvery` otherwise, decrypted
// (AES-128-GCM) to prove SRTP works and to find VP8 key frames. No decoding.
// The SRTP index (rollover counter) of each decrypt comes from this reader's own count of
// every packet's sequence number (./srtp-index.ts), not from werift's context, which only
// sees the sampled packets.
// With RTX negotiated, a NACKed video packet comes back on the consumer's RTX stream: its
// original sequence number is read first from the payload's first bytes without the full
// decrypt, and a retransmission of a packet already received is skipped there, unverified
// and counted apart; any other is decrypted (its own SSRC and index count), unwrapped
// (./rtx.ts) and counted as the original packet, so loss after recovery, freezes and
// key-frame completeness are read as with a resend on the media SSRC.
import type { SrtpSession } from 'werift';
import type { PointFeedback } from './point-feedback';
import { SrtpStreamReader, extendSeq, rocOf, tryDecrypt } from './srtp-index';
import {
  SILENCE_RECORD_MS,
  SILENCES_KEPT,
  isVp8KeyFrameStart,
  keyFrameComplete,
  newStream,
  noteReadLag,
  type StreamStats,
} from './stream-stats';
import { rtxNotWanted, unwrapRtx, type RtxStream } from './rtx';

/** The steps of a transport's first media, each reported once. */
export type MediaStep = 'firstRtp' | 'keyFrame';

/** mediasoup's RtpProbationSsrc: the padding it sends to probe the link's bandwidth. */
const PROBATION_SSRC = 1234;

const TRANSPORT_CC = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

/** What this reader takes of a consumer's RTP parameters. */
export interface ConsumerRtp {
  encodings?: { ssrc?: number; rtx?: { ssrc: number } }[];
  codecs: { clockRate: number; payloadType: number }[];
  headerExtensions?: { uri: string; id: number }[];
}

export interface RtpReaderOptions {
  /** One packet in this many is decrypted once the first key frame is there. */
  decryptEvery: number;
  /** The RTCP this transport sends (undefined when silent). */
  feedback: PointFeedback | undefined;
  /** The transport's SRTP session, once its keys are there. */
  srtp: () => SrtpSession | undefined;
  /** werift changed its DTLS master secret after connecting (for the diagnosis). */
  masterSecretChanged: () => boolean;
  onStep: (step: MediaStep, at: number) => void;
}

export class RtpReader {
  readonly streams = new Map<number, StreamStats>();
  /** SSRCs the consumers announced: kind, clock rate and source. */
  readonly #expected = new Map<number, { kind: 'audio' | 'video'; clockRate: number; source: string | undefined }>();
  /** RTX SSRCs the consumers announced, each with its SRTP reader once it has a packet. */
  readonly #rtx = new Map<number, RtxStream & { reader: SrtpStreamReader | undefined }>();
  readonly #o: RtpReaderOptions;
  /** When the first packet was decrypted (epoch ms). */
  firstDecryptedAt: number | undefined;
  /** RTP from SSRCs no consumer announced (RTX when it was not expected), the SFU's probation apart. */
  unknownPackets = 0;
  /** The SFU's bandwidth probes (padding on mediasoup's probation SSRC, 1234): not media. */
  probationPackets = 0;
  /**
   * A counted hole: the next N packets on the media SSRCs (not RTX) are dropped uncounted,
   * as if lost on the way, so that the NACKs and retransmissions that fill it can be read.
   */
  dropMedia = 0;

  constructor(o: RtpReaderOptions) {
    this.#o = o;
  }

  #srtp(): SrtpSession {
    const srtp = this.#o.srtp();
    if (!srtp) throw new Error('RTP read before the SRTP keys');
    return srtp;
  }

  /** A consumer's media SSRC; `source` the producer's (`host-camera`, …). */
  expect(ssrc: number, kind: 'audio' | 'video', clockRate: number, source?: string): void {
    this.#expected.set(ssrc, { kind, clockRate, source });
  }

  /** A consumer's RTX stream (encodings[0].rtx.ssrc), repairing `mediaSsrc` of `payloadType`. */
  expectRtx(rtxSsrc: number, mediaSsrc: number, payloadType: number): void {
    this.#rtx.set(rtxSsrc, { mediaSsrc, payloadType, maxExt: -1, reader: undefined });
  }

  /**
   * A consumer's streams from its RTP parameters: its media SSRC, its RTX stream and the
   * transport-wide sequence number's extension id. Returns the media SSRC, if any.
   */
  expectConsumer(rtp: ConsumerRtp, kind: 'audio' | 'video', source: string | undefined): number | undefined {
    const ssrc = rtp.encodings?.[0]?.ssrc;
    if (ssrc !== undefined) this.expect(ssrc, kind, rtp.codecs[0]?.clockRate ?? 90000, source);
    const rtxSsrc = rtp.encodings?.[0]?.rtx?.ssrc;
    if (ssrc !== undefined && rtxSsrc !== undefined) this.expectRtx(rtxSsrc, ssrc, rtp.codecs[0]!.payloadType);
    const tcc = rtp.headerExtensions?.find((h) => h.uri === TRANSPORT_CC);
    if (tcc && this.#o.feedback) this.#o.feedback.tccExtId = tcc.id;
    return ssrc;
  }

  /** An RTP packet off the link (after the SRTP keys). */
  read(pkt: Buffer): void {
    if (pkt.length < 12) return;
    const now = performance.now();
    const ssrc = pkt.readUInt32BE(8);
    let s = this.streams.get(ssrc);
    if (!s) {
      const x = this.#rtx.get(ssrc);
      if (x) {
        this.#onRtx(pkt, x, now);
        return;
      }
      const e = this.#expected.get(ssrc);
      if (!e) {
        if (ssrc === PROBATION_SSRC) this.probationPackets += 1;
        else this.unknownPackets += 1; // an RTX stream we did not ask for
        return;
      }
      s = newStream(e.kind, ssrc, e.clockRate);
      s.source = e.source;
      this.streams.set(ssrc, s);
    } else if (this.dropMedia > 0) {
      this.dropMedia -= 1;
      return;
    }
    this.#count(pkt, s, pkt.readUInt16BE(2), now, undefined);
  }

  /**
   * An RTX packet, counted as the packet it repairs. Its original sequence number (OSN) is
   * in the encrypted payload: it is read first without the full decrypt (rtx.ts rtxNotWanted),
   * and a retransmission of a packet already here is skipped unverified, as it costs a
   * decrypt and counts nothing. Any other is decrypted and authenticated before it counts.
   * The wire packet still goes to the feedback (its transport-wide sequence number, its
   * marker bit: the original's). One that authenticates but cannot be counted (padding
   * only, or before its media stream's first packet) still has its transport-wide
   * sequence number recorded, as a browser records every packet it receives; one that
   * does not authenticate is a failed SRTP check, counted apart, and does not move the RTX
   * stream's index count; nor does a skipped one.
   */
  #onRtx(pkt: Buffer, x: RtxStream & { reader: SrtpStreamReader | undefined }, now: number): void {
    const fb = this.#o.feedback;
    const seq = pkt.readUInt16BE(2);
    const ext = x.maxExt < 0 ? seq : extendSeq(x.maxExt, seq);
    x.reader ??= new SrtpStreamReader(this.#srtp().remoteContext.cipher);
    const media = this.streams.get(x.mediaSsrc);
    if (fb && ext >= 0 && media && rtxNotWanted(pkt, x, x.reader, ext, media, fb)) {
      fb.counts.rtxSkippedUnverified += 1;
      fb.onTransportSeq(pkt, now);
      return;
    }
    const clear = ext >= 0 ? x.reader.decrypt(pkt, ext) : undefined;
    if (!clear) {
      if (fb) {
        if (ext >= 0) fb.counts.rtxAuthFailures += 1;
        else fb.counts.rtxDropped += 1;
      }
      return;
    }
    if (ext > x.maxExt) x.maxExt = ext;
    const orig = unwrapRtx(clear, x.mediaSsrc, x.payloadType);
    if (!orig || !media) {
      if (fb) {
        fb.counts.rtxDropped += 1;
        fb.onTransportSeq(pkt, now);
      }
      return;
    }
    if (fb) fb.counts.rtxPackets += 1;
    this.#count(pkt, media, orig.readUInt16BE(2), now, orig);
  }

  /**
   * One packet of a media stream: `pkt` as it came off the wire, `seq` its sequence number
   * on the stream, `rtx` the unwrapped clear packet when it came as RTX (not decrypted again,
   * and left out of the jitter, which RFC 3550 computes on first transmissions).
   */
  #count(pkt: Buffer, s: StreamStats, seq: number, now: number, rtx: Buffer | undefined): void {
    const ssrc = s.ssrc;
    const ts = pkt.readUInt32BE(4);
    let ext: number;
    const prevMax = s.maxSeq;
    if (s.firstSeq < 0) {
      ext = seq;
      s.firstSeq = seq;
      s.maxSeq = seq;
      s.firstPacketAt = Date.now();
      this.#o.feedback?.onPacket(pkt, s, ext, -1, now);
    } else {
      // The 16-bit sequence number extended around the highest one seen (RFC 3711 §3.3.1).
      ext = extendSeq(s.maxSeq, seq);
      if (this.#o.feedback && !this.#o.feedback.onPacket(pkt, s, ext, prevMax, now, rtx !== undefined)) return; // a duplicate
      if (ext > s.maxSeq) s.maxSeq = ext;
      const gap = now - s.lastArrival;
      if (gap > s.maxGapMs || gap >= SILENCE_RECORD_MS) {
        const step = {
          endedAt: Date.now(),
          seqStep: ext - s.lastExt,
          rtpMs: (((ts - s.lastTs) | 0) * 1000) / s.clockRate,
        };
        if (gap > s.maxGapMs) {
          s.maxGapMs = gap;
          s.maxGap = step;
        }
        if (gap >= SILENCE_RECORD_MS) {
          if (s.silences.length < SILENCES_KEPT) s.silences.push({ ...step, ms: gap });
          else s.silencesDropped += 1;
        }
      }
    }
    if (s.lastExt >= 0 && ext === s.lastExt + 1) {
      const stepMs = (((ts - s.lastTs) | 0) * 1000) / s.clockRate;
      if (stepMs > s.maxRtpStepMs) s.maxRtpStepMs = stepMs;
    }
    if (ext >= s.lastExt) {
      s.lastExt = ext;
      s.lastTs = ts;
    }
    s.received += 1;
    if (rtx) s.rtxBytes += pkt.length;
    else s.bytes += pkt.length;
    const marker = (pkt[1]! & 0x80) !== 0;
    if (marker && s.kind === 'video') s.frames += 1;
    if (s.firstKeyFrameAt === undefined && s.keyFrame && ext !== s.keyFrame.startExt)
      this.#keyFrameRead(s, ext, ts, marker);
    if (!rtx) {
      const transit = (now * s.clockRate) / 1000 - ts;
      if (s.lastTransit !== undefined) {
        let d = transit - s.lastTransit;
        // Timestamp wrap: ignore that sample.
        if (Math.abs(d) < 2 ** 30) {
          if (d < 0) d = -d;
          s.jitter += (d - s.jitter) / 16;
        }
      }
      s.lastTransit = transit;
      noteReadLag(s, transit, prevMax >= 0 && ext > prevMax + 1);
    }
    s.lastArrival = now;

    const needKey =
      s.kind === 'video' && (s.firstKeyFrameAt === undefined || (this.#o.feedback?.wantsKeyFrame(ssrc) ?? false));
    // ext < 0: reordered from before the first packet seen (its ROC would be -1).
    // One packet in K of *this stream*: a counter shared by audio and video picked only
    // audio packets when the two arrived in a regular pattern (through a cluster's pipe),
    // so video never decrypted again and the watchdog rebuilt healthy points.
    let clear = rtx;
    if (!clear && ext >= 0 && (needKey || s.received % this.#o.decryptEvery === 0)) {
      s.reader ??= new SrtpStreamReader(this.#srtp().remoteContext.cipher);
      clear = s.reader.decrypt(pkt, ext);
      if (!clear) {
        s.authFailures += 1;
        if (s.decrypted === 0 && s.authFailures === 50) s.diagnosis = this.diagnose(pkt, ext);
        return;
      }
      s.decrypted += 1;
      if (this.firstDecryptedAt === undefined) {
        this.firstDecryptedAt = Date.now();
        this.#o.onStep('firstRtp', this.firstDecryptedAt);
      }
    }
    if (clear && ext >= 0) {
      if (needKey && isVp8KeyFrameStart(clear)) {
        if (s.firstKeyFrameAt === undefined) {
          s.keyFrameStartAt ??= Date.now();
          s.keyFrame = { ts, startExt: ext, endExt: undefined, packets: 1 };
          this.#keyFrameRead(s, ext, ts, marker);
        } else this.#o.feedback?.onKeyFrame(ssrc, now);
      }
    }
  }

  /** A packet of the first key frame being assembled; the frame's completion is the join's last step. */
  #keyFrameRead(s: StreamStats, ext: number, ts: number, marker: boolean): void {
    if (!keyFrameComplete(s, ext, ts, marker)) return;
    s.firstKeyFrameAt = Date.now();
    s.keyFrame = undefined;
    this.#o.onStep('keyFrame', s.firstKeyFrameAt);
  }

  /**
   * Why a stream's packets never authenticate, from one of them: another ROC (0-3 around
   * ours), the keys of the other direction, werift having changed its DTLS master secret
   * after the handshake (a second key exchange), or none of these (the two sides derived
   * different keys, or the packet was protected under another transport's keys).
   */
  diagnose(pkt: Buffer, ext: number): string {
    const srtp = this.#o.srtp();
    if (!srtp) return 'no SRTP session';
    const ours = rocOf(ext);
    for (let roc = 0; roc <= Math.max(3, ours + 2); roc++)
      if (roc !== ours && tryDecrypt(srtp.remoteContext.cipher, pkt, roc))
        return `rollover counter: ${roc}, not ${ours}`;
    for (let roc = 0; roc <= 3; roc++)
      if (tryDecrypt(srtp.localContext.cipher, pkt, roc)) return 'protected with our own (client) keys';
    if (this.#o.masterSecretChanged()) return 'werift changed its DTLS master secret after connecting';
    return 'keys differ: no ROC or key of ours authenticates it';
  }
}
