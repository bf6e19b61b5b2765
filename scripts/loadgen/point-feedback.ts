// What a receiving browser sends back, for one virtual point's transport, kept cheap per
// packet: each RTP packet only records its transport-wide sequence number and arrival and
// marks its sequence number received; the RTCP goes out on a timer, aggregated, as
// libwebrtc does: transport-cc feedback every 100 ms, NACKs for gaps (every 100 ms, up
// to 10 times, then the packet is given up), a PLI when video cannot be recovered (then
// again every second until a key frame arrives), and a receiver report per stream every
// second (with LSR/DLSR from the SFU's sender reports, so it measures the RTT). Counts
// what it sent and the recovery: packets recovered after a NACK, packets given up, video
// freezes (waiting for a key frame after unrecovered loss, or a gap between frames over
// max(3x the mean frame interval, the mean + 150 ms), as the browser's freeze statistic
// counts). With RTX, the receiver hands each unwrapped retransmission in as the packet it
// repairs, and counts the RTX packets here (and asks, before decrypting one, whether the
// packet it names is still lacked).
import { genericNack, pictureLossIndication, receiverReport, transportFeedback, type ReportBlock } from './rtcp-write';

/** What this reads of a receiver's stream (stream-stats.ts StreamStats). */
export interface StreamStats {
  kind: 'audio' | 'video';
  ssrc: number;
  received: number;
  /** Extended sequence numbers: the first and the highest seen. */
  firstSeq: number;
  maxSeq: number;
  /** RTP timestamp units. */
  jitter: number;
}

const RING = 1024;
// NACKs as libwebrtc's receive side sends them (modules/video_coding/nack_requester.cc,
// NackRequester): a missing packet is NACKed again once an RTT has passed since its last
// NACK, the RTT being the call's highest measured one or, with none measured,
// kDefaultRtt = 100 ms; after kMaxNackRetries = 10 NACKs it leaves the list; a gap that
// would take the list past kMaxNackPackets = 1000 clears it and requests a key frame.
// A receive-only Chromium point measures no RTT: its receiver reports give the SFU the
// RTT (LSR/DLSR), never itself; only XR RRTR/DLRR would, and Chromium sends RRTR only
// with rtcp-fb "rrtr", which it does not offer by default. So a point NACKs every 100 ms,
// as here. Three differences, kept for cost: NACKs go out on the 100 ms feedback tick
// (NACK_SPACING_MS under the tick, so a timer that fires a little early still resends
// each tick), where libwebrtc checks every 20 ms and sends a gap's first NACK with the
// packet that showed it; and a packet more than MAX_NACK_AGE behind the highest is given
// up (the arrivals ring's reach), where libwebrtc keeps it up to 10,000 behind; and a
// gap past MAX_NACK_PACKETS clears the whole list, where libwebrtc first removes the
// packets up to the last key frame (RemovePacketsUntilKeyFrame) and clears the list and
// requests a key frame only when that is not enough.
const NACK_TRIES = 10;
const NACK_SPACING_MS = 90;
const MAX_NACK_PACKETS = 1000;
const MAX_NACK_AGE = 500;

export interface FeedbackCounts {
  rtcpSent: number;
  transportFeedbacks: number;
  receiverReports: number;
  nacksSent: number;
  nackedPackets: number;
  plisSent: number;
  /** Packets that arrived after being NACKed. */
  recovered: number;
  /** Packets that arrived late (out of order) before any NACK for them. */
  late: number;
  /**
   * Packets given up after the NACKs, or at a list overflow (some of those may still
   * arrive late: they stay counted here).
   */
  unrecovered: number;
  duplicates: number;
  freezes: number;
  freezeMs: number;
  /** Sender reports read (decrypted) from the SFU. */
  senderReports: number;
  /**
   * RTX packets read (decrypted and unwrapped). A retransmission of a packet already here
   * is mostly skipped before the decrypt (`rtxSkippedUnverified`); one that is decrypted
   * and turns out a duplicate is counted here and in `duplicates`.
   */
  rtxPackets: number;
  /**
   * RTX packets not decrypted: their original sequence number, read from the first
   * payload bytes without checking the SRTP tag (srtp-index.ts peek), named a packet
   * already received or one the point no longer tracks. Not authenticated, so apart from
   * every other count; their transport-wide sequence numbers are recorded all the same.
   */
  rtxSkippedUnverified: number;
  /** RTX packets that filled a NACKed hole (also in `recovered`). */
  rtxRecovered: number;
  /**
   * RTX packets that authenticated but were not counted: no original sequence number
   * (padding only, or truncated), or before their media stream's first packet; and the
   * rare one reordered from before the RTX stream's first packet (not decrypted).
   */
  rtxDropped: number;
  /** RTX packets that did not authenticate (SRTP), counted apart from `rtxDropped`. */
  rtxAuthFailures: number;
}

interface FbStream {
  s: StreamStats;
  /** ring[ext % RING] === ext: that packet arrived. */
  ring: Int32Array;
  /** Missing packets (extended seq) → when the gap was seen, NACKs sent and when the last was. */
  missing: Map<number, { since: number; tries: number; last: number }>;
  expectedPrior: number;
  receivedPrior: number;
  lsr: number;
  lsrAt: number;
  /** Video: waiting for a key frame since (ms), after unrecovered loss. */
  keyWaitSince: number | undefined;
  lastPli: number;
  lastFrameAt: number;
  meanFrameMs: number;
}

export class PointFeedback {
  readonly counts: FeedbackCounts = {
    rtcpSent: 0,
    transportFeedbacks: 0,
    receiverReports: 0,
    nacksSent: 0,
    nackedPackets: 0,
    plisSent: 0,
    recovered: 0,
    late: 0,
    unrecovered: 0,
    duplicates: 0,
    freezes: 0,
    freezeMs: 0,
    senderReports: 0,
    rtxPackets: 0,
    rtxSkippedUnverified: 0,
    rtxRecovered: 0,
    rtxDropped: 0,
    rtxAuthFailures: 0,
  };
  /** The transport-wide sequence number's header extension id (0: not negotiated). */
  tccExtId = 0;
  readonly #ssrc = (Math.random() * 0xffffffff) >>> 1;
  readonly #send: (rtcp: Buffer) => void;
  readonly #streams = new Map<number, FbStream>();
  #tccSeqs: number[] = [];
  #tccTimes: number[] = [];
  #tccNext: number | undefined;
  #tccMaxUnwrapped = -1;
  #fbCount = 0;
  #lastRr = 0;

  constructor(send: (rtcp: Buffer) => void) {
    this.#send = send;
  }

  #stream(s: StreamStats): FbStream {
    let f = this.#streams.get(s.ssrc);
    if (!f) {
      f = {
        s,
        ring: new Int32Array(RING).fill(-1),
        missing: new Map(),
        expectedPrior: 0,
        receivedPrior: 0,
        lsr: 0,
        lsrAt: 0,
        keyWaitSince: undefined,
        lastPli: 0,
        lastFrameAt: 0,
        meanFrameMs: 33,
      };
      this.#streams.set(s.ssrc, f);
    }
    return f;
  }

  /**
   * One RTP packet (header read by the receiver, `ext` its extended sequence number,
   * `prevMax` the highest before it; `rtx`: it came as RTX). False for a duplicate, which
   * the caller skips. Its transport-wide sequence number is recorded first, duplicate or
   * not: every packet sent carries a number of its own, and one left out of transport-cc
   * reads as lost to the SFU's bandwidth estimate.
   */
  onPacket(pkt: Buffer, s: StreamStats, ext: number, prevMax: number, now: number, rtx = false): boolean {
    this.onTransportSeq(pkt, now);
    const f = this.#stream(s);
    const slot = ext % RING;
    if (ext >= 0 && f.ring[slot] === ext) {
      this.counts.duplicates += 1;
      return false;
    }
    if (ext >= 0) f.ring[slot] = ext;
    if (s.kind !== 'video' || ext < 0) return true;
    if (prevMax >= 0 && ext > prevMax + 1) this.#gap(f, prevMax + 1, ext, now);
    else this.#arrived(f, ext, rtx);
    if (pkt[1]! & 0x80) {
      // A frame's last packet: the browser's freeze statistic, on arrival gaps.
      if (f.lastFrameAt && f.keyWaitSince === undefined) {
        const dt = now - f.lastFrameAt;
        if (dt > Math.max(3 * f.meanFrameMs, f.meanFrameMs + 150)) {
          this.counts.freezes += 1;
          this.counts.freezeMs += dt;
        }
        f.meanFrameMs += (Math.min(dt, 1000) - f.meanFrameMs) / 16;
      }
      f.lastFrameAt = now;
    }
    return true;
  }

  /**
   * Packet `ext` of stream `s` is one this point lacks and still tracks: at or after the
   * stream's first packet, within the last RING sequence numbers up to the highest, and
   * not received. What a retransmission must name to be worth reading (rtp-reader.ts).
   */
  lacks(s: StreamStats, ext: number): boolean {
    const f = this.#streams.get(s.ssrc);
    if (!f || s.firstSeq < 0 || ext < s.firstSeq || ext > s.maxSeq || s.maxSeq - ext >= RING) return false;
    return f.ring[ext % RING] !== ext;
  }

  /** A received packet's transport-wide sequence number and arrival, for transport-cc. */
  onTransportSeq(pkt: Buffer, now: number): void {
    if (this.tccExtId && pkt[0]! & 0x10) this.#tcc(pkt, now);
  }

  /** Video waiting for a key frame after unrecovered loss: the receiver decrypts until one starts. */
  wantsKeyFrame(ssrc: number): boolean {
    return this.#streams.get(ssrc)?.keyWaitSince !== undefined;
  }

  /** Asks for a key frame now, as after a decoder error (the freeze counts from now). */
  requestKeyFrame(ssrc: number, now: number): void {
    const f = this.#streams.get(ssrc);
    if (!f || f.keyWaitSince !== undefined) return;
    f.keyWaitSince = now;
    f.lastPli = -Infinity;
  }

  /** A key frame started on this stream. */
  onKeyFrame(ssrc: number, now: number): void {
    const f = this.#streams.get(ssrc);
    if (f?.keyWaitSince === undefined) return;
    this.counts.freezes += 1;
    this.counts.freezeMs += now - f.keyWaitSince;
    f.keyWaitSince = undefined;
  }

  /** A decrypted compound RTCP packet from the SFU: sender reports give LSR. */
  onRtcp(clear: Buffer, now: number): void {
    let off = 0;
    while (off + 4 <= clear.length) {
      const len = (clear.readUInt16BE(off + 2) + 1) * 4;
      if (clear[off + 1] === 200 && off + 20 <= clear.length) {
        const f = this.#streams.get(clear.readUInt32BE(off + 4));
        if (f) {
          f.lsr = ((clear.readUInt32BE(off + 8) & 0xffff) << 16) | (clear.readUInt32BE(off + 12) >>> 16);
          f.lsrAt = now;
          this.counts.senderReports += 1;
        }
      }
      off += len;
    }
  }

  #tcc(pkt: Buffer, now: number): void {
    const cc = pkt[0]! & 0x0f;
    let off = 12 + cc * 4;
    if (pkt.length < off + 4 || pkt.readUInt16BE(off) !== 0xbede) return;
    const end = off + 4 + pkt.readUInt16BE(off + 2) * 4;
    off += 4;
    while (off < end && off < pkt.length) {
      const b = pkt[off]!;
      if (b === 0) {
        off += 1;
        continue;
      }
      const id = b >> 4;
      const len = (b & 0x0f) + 1;
      if (id === 15) return;
      if (id === this.tccExtId && len === 2) {
        const seq = pkt.readUInt16BE(off + 1);
        const u = this.#tccMaxUnwrapped < 0 ? seq : unwrap(this.#tccMaxUnwrapped, seq);
        if (u > this.#tccMaxUnwrapped) this.#tccMaxUnwrapped = u;
        this.#tccSeqs.push(u);
        this.#tccTimes.push(now);
        return;
      }
      off += 1 + len;
    }
  }

  /** The timer (every 100 ms): transport-cc, NACKs, PLIs; receiver reports every second. */
  tick(now: number): void {
    this.#transportCc();
    for (const f of this.#streams.values()) {
      if (f.s.kind === 'video') this.#nacks(f, now);
      if (f.keyWaitSince !== undefined && now - f.lastPli >= 1000) {
        f.lastPli = now;
        this.counts.plisSent += 1;
        this.#out(pictureLossIndication(this.#ssrc, f.s.ssrc));
      }
    }
    if (now - this.#lastRr >= 1000) {
      this.#lastRr = now;
      this.#receiverReports(now);
    }
  }

  #out(b: Buffer): void {
    this.counts.rtcpSent += 1;
    this.#send(b);
  }

  #transportCc(): void {
    if (!this.#tccSeqs.length) return;
    const seqs = this.#tccSeqs;
    const times = this.#tccTimes;
    this.#tccSeqs = [];
    this.#tccTimes = [];
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of seqs) {
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
    // Late packets from before the last feedback's range are not reported again.
    const base = Math.max(lo, this.#tccNext ?? lo);
    if (hi < base) return;
    const arrivals = new Float64Array(Math.min(hi - base + 1, 0xffff)).fill(NaN);
    for (let i = 0; i < seqs.length; i++) {
      const k = seqs[i]! - base;
      if (k >= 0 && k < arrivals.length) arrivals[k] = times[i]!;
    }
    // The first status must be a received packet (its time is the reference).
    let first = 0;
    while (first < arrivals.length && !Number.isFinite(arrivals[first]!)) first++;
    if (first >= arrivals.length) return;
    this.#tccNext = hi + 1;
    const mediaSsrc = this.#streams.keys().next().value ?? 0;
    this.counts.transportFeedbacks += 1;
    this.#out(transportFeedback(this.#ssrc, mediaSsrc, base + first, arrivals.subarray(first), this.#fbCount++));
  }

  #nacks(f: FbStream, now: number): void {
    if (!f.missing.size) return;
    const ask: number[] = [];
    for (const [ext, m] of f.missing) {
      if (f.ring[ext % RING] === ext) {
        this.#arrived(f, ext);
        continue;
      }
      if (m.tries >= NACK_TRIES || f.s.maxSeq - ext > MAX_NACK_AGE) {
        if (now - m.last < NACK_SPACING_MS * 2) continue;
        f.missing.delete(ext);
        this.counts.unrecovered += 1;
        // The frame cannot be decoded: the picture froze when it went missing; wait for a
        // key frame, ask for one now.
        this.#waitKeyFrame(f, m.since);
        continue;
      }
      if (now - m.last < NACK_SPACING_MS) continue;
      m.tries += 1;
      m.last = now;
      ask.push(ext);
    }
    if (!ask.length) return;
    this.counts.nacksSent += 1;
    this.counts.nackedPackets += ask.length;
    this.#out(genericNack(this.#ssrc, f.s.ssrc, ask));
  }

  /**
   * Packets `from` up to `to` (excluded) are missing: each goes on the NACK list, unless
   * that takes the list past MAX_NACK_PACKETS; then the list is cleared, every packet on
   * it and in the gap given up, and a key frame asked for (libwebrtc first tries dropping
   * the packets up to the last key frame).
   */
  #gap(f: FbStream, from: number, to: number, now: number): void {
    if (f.missing.size + (to - from) > MAX_NACK_PACKETS) {
      this.counts.unrecovered += f.missing.size + (to - from);
      let since = now;
      for (const m of f.missing.values()) since = Math.min(since, m.since);
      f.missing.clear();
      this.#waitKeyFrame(f, since);
      return;
    }
    for (let m = from; m < to; m++) f.missing.set(m, { since: now, tries: 0, last: -Infinity });
  }

  /** Video that cannot be decoded since `since`: frozen from then until a key frame, asked for at the next tick. */
  #waitKeyFrame(f: FbStream, since: number): void {
    if (f.keyWaitSince !== undefined) return;
    f.keyWaitSince = since;
    f.lastPli = -Infinity;
  }

  /** A missing packet arrived: recovered if it was NACKed, else late. */
  #arrived(f: FbStream, ext: number, rtx = false): void {
    const m = f.missing.get(ext);
    if (!m) return;
    f.missing.delete(ext);
    if (m.tries > 0) {
      this.counts.recovered += 1;
      if (rtx) this.counts.rtxRecovered += 1;
    } else this.counts.late += 1;
  }

  #receiverReports(now: number): void {
    const blocks: ReportBlock[] = [];
    for (const f of this.#streams.values()) {
      const s = f.s;
      if (s.firstSeq < 0) continue;
      const expected = s.maxSeq - s.firstSeq + 1;
      const dExp = expected - f.expectedPrior;
      const dLost = dExp - (s.received - f.receivedPrior);
      f.expectedPrior = expected;
      f.receivedPrior = s.received;
      blocks.push({
        ssrc: s.ssrc,
        fractionLost: dExp > 0 && dLost > 0 ? (dLost * 256) / dExp : 0,
        cumulativeLost: Math.max(0, expected - s.received),
        extendedHighestSeq: s.maxSeq,
        jitter: s.jitter,
        lsr: f.lsr,
        dlsr: f.lsrAt ? ((now - f.lsrAt) * 65536) / 1000 : 0,
      });
    }
    if (!blocks.length) return;
    this.counts.receiverReports += 1;
    this.#out(receiverReport(this.#ssrc, blocks));
  }
}

/** A 16-bit sequence number unwrapped around the highest unwrapped one seen. */
function unwrap(max: number, seq: number): number {
  let u = (max & ~0xffff) + seq;
  if (u - max > 0x8000) u -= 0x10000;
  else if (max - u > 0x8000) u += 0x10000;
  return u;
}
