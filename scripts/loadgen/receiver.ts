// One virtual point's WebRTC receive transport, as cheap as it can be while staying real:
// werift does ICE (controlling, against mediasoup's ICE-lite), DTLS (client) and the SRTP
// key derivation; every datagram after that is read here directly from the UDP socket.
// An ICE-TCP receiver (`tcp`) connects to the transport's TCP candidate instead
// (./ice-tcp.ts: RFC 4571 frames on one connection) and reads every frame the same way.
// Per RTP packet: the header (ssrc, sequence, timestamp, marker) for loss, jitter and
// bitrate, no parsing objects; unless silent, the feedback a browser sends back
// (point-feedback.ts: transport-cc, receiver reports, NACK, PLI, aggregated on a 100 ms
// timer, protected with SRTCP). Every video packet until the first key frame (and until
// the next one after unrecovered loss), and one packet in `decryptEvery` otherwise, is
// decrypted (AES-128-GCM, the profile mediasoup picks) to prove SRTP works and to find
// VP8 key frames. No decoding.
// The SRTP index (rollover counter) of each decrypt comes from this file's own count of
// every packet's sequence number (srtp-index.ts), not from werift's context, which only
// sees the sampled packets.
// With RTX negotiated (the default for browser-like points), a NACKed video packet comes
// back on the consumer's RTX stream: its original sequence number is read first from the
// payload's first bytes without the full decrypt, and a retransmission of a packet
// already received is skipped there, unverified and counted apart; any other is decrypted
// (its own SSRC and index count), unwrapped (./rtx.ts) and counted as the original packet,
// so loss after recovery, freezes and key-frame completeness are read as with a resend on
// the media SSRC.
import type { Socket as UdpSocket } from 'node:dgram';
import type { Connection, DtlsClient, SrtcpSession, SrtpSession } from 'werift';
import { PointFeedback } from './point-feedback';
import type { Gate } from './gate';
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
import { tcpIceToMediasoup, type TcpIceLink } from './ice-tcp';
import {
  clientDtlsParameters,
  closeLink,
  dtlsOverIce,
  iceToMediasoup,
  type IceRemote,
  type PacketLink,
} from './werift-link';

export { isVp8KeyFrameStart, keyFrameComplete, lostOf, newStream, type StreamStats } from './stream-stats';

export interface RemoteTransportParams extends IceRemote {
  id: string;
  dtlsParameters: { fingerprints: { algorithm: string; value: string }[] };
}

interface IceProtocolLike {
  transport?: { socket?: UdpSocket };
  datagramReceived?: (data: Buffer, addr: readonly [string, number]) => void;
}

/** Set by Receiver's static block: the per-packet path with given keys (readWithKeys). */
let readingWithKeys: (r: Receiver, srtp: SrtpSession) => (pkt: Buffer) => void;

/**
 * Reads packets with these SRTP keys and no link (no ICE, DTLS or RTCP out): the returned
 * function takes each datagram down the same path as the socket's. For tests of the
 * per-packet reading against a reference sender; the generator never calls it.
 * @internal
 */
export function readWithKeys(receiver: Receiver, srtp: SrtpSession): (pkt: Buffer) => void {
  return readingWithKeys(receiver, srtp);
}

/** The steps of a receiver's connect and first media, each reported once (./point.ts times its join by them). */
export type ReceiverStep = 'ice' | 'dtls' | 'firstRtp' | 'keyFrame';

/** mediasoup's RtpProbationSsrc: the padding it sends to probe the link's bandwidth. */
const PROBATION_SSRC = 1234;

export class Receiver {
  readonly streams = new Map<number, StreamStats>();
  /** SSRCs the consumers announced: kind, clock rate and source. */
  readonly #expected = new Map<number, { kind: 'audio' | 'video'; clockRate: number; source: string | undefined }>();
  /** RTX SSRCs the consumers announced, each with its SRTP reader once it has a packet. */
  readonly #rtx = new Map<number, RtxStream & { reader: SrtpStreamReader | undefined }>();
  #ice: PacketLink | undefined;
  #dtls: DtlsClient | undefined;
  #srtp: SrtpSession | undefined;
  #srtcp: SrtcpSession | undefined;
  #closed = false;
  readonly #silent: boolean;
  #fbTimer: NodeJS.Timeout | undefined;
  /** The RTCP this receiver sends (undefined when silent, or before the keys). */
  feedback: PointFeedback | undefined;
  #decryptEvery: number;
  /** When ICE connected, DTLS connected (the SRTP keys), and the first packet decrypted (epoch ms). */
  iceConnectedAt: number | undefined;
  connectedAt: number | undefined;
  firstDecryptedAt: number | undefined;
  /** Told each step once, as it happens (the join's stages). */
  onStep: (step: ReceiverStep, at: number) => void = () => undefined;
  /** Non-media datagrams (STUN, DTLS) handed back to werift. */
  controlPackets = 0;
  /** RTP from SSRCs no consumer announced (RTX when it was not expected), the SFU's probation apart. */
  unknownPackets = 0;
  /** The SFU's bandwidth probes (padding on mediasoup's probation SSRC, 1234): not media. */
  probationPackets = 0;
  /** The local UDP port of the media socket (after ICE); undefined over TCP. */
  localPort: number | undefined;
  /** ICE over TCP to the transport's TCP candidate, not UDP. */
  readonly tcp: boolean;
  /** The watchdog drill: RTP is dropped uncounted, as if it never decrypted. */
  blackhole = false;
  /**
   * A counted hole: the next N packets on the media SSRCs (not RTX) are dropped uncounted,
   * as if lost on the way, so that the NACKs and retransmissions that fill it can be read.
   */
  dropMedia = 0;
  /** Over TCP: the SFU stopped answering consent checks and the link closed (see ./ice-tcp.ts). */
  onIceLost: () => void = () => undefined;

  readonly #handshakes: Gate | undefined;

  static {
    readingWithKeys = (r, srtp) => {
      r.#srtp = srtp;
      r.#held = undefined;
      return (pkt) => void r.#onPacket(pkt);
    };
  }

  /**
   * `silent`: no RTCP back (no feedback, no reports), as the generator's first receivers.
   * `handshakes`: shared by a run's receivers, so that few DTLS handshakes compute at once.
   * `tcp`: ICE-TCP to the transport's TCP candidate instead of UDP.
   */
  constructor(opts: { decryptEvery?: number; silent?: boolean; handshakes?: Gate; tcp?: boolean } = {}) {
    this.#decryptEvery = Math.max(1, opts.decryptEvery ?? 10);
    this.tcp = opts.tcp ?? false;
    this.#silent = opts.silent ?? false;
    this.#handshakes = opts.handshakes;
    if (!this.#silent) this.feedback = new PointFeedback((b) => this.#sendRtcp(b));
  }

  /** The transport-wide sequence number's extension id, from a consumer's RTP parameters. */
  set tccExtId(id: number) {
    if (this.feedback) this.feedback.tccExtId = id;
  }

  /** Sends a PLI for this SSRC at the next feedback tick and waits for the key frame. */
  requestKeyFrame(ssrc: number): void {
    this.feedback?.requestKeyFrame(ssrc, performance.now());
  }

  #sendRtcp(clear: Buffer): void {
    const srtcp = this.#srtcp;
    const ice = this.#ice;
    if (!srtcp || !ice || this.#closed) return;
    ice.send(srtcp.encrypt(clear)).catch(() => undefined);
  }

  /** A consumer's media SSRC; `source` the producer's (`host-camera`, …). */
  expect(ssrc: number, kind: 'audio' | 'video', clockRate: number, source?: string): void {
    this.#expected.set(ssrc, { kind, clockRate, source });
  }

  /** A consumer's RTX stream (encodings[0].rtx.ssrc), repairing `mediaSsrc` of `payloadType`. */
  expectRtx(rtxSsrc: number, mediaSsrc: number, payloadType: number): void {
    this.#rtx.set(rtxSsrc, { mediaSsrc, payloadType, maxExt: -1, reader: undefined });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Our DTLS parameters for rtc:connectTransport (we are the DTLS client). */
  static dtlsParameters = clientDtlsParameters;

  /** ICE to the first UDP candidate (the TCP one if `tcp`), then DTLS; resolves once SRTP keys are there. */
  async connect(remote: RemoteTransportParams, timeoutMs = 20_000): Promise<void> {
    const created = (link: PacketLink) => {
      this.#ice = link;
      // Closed meanwhile: the link goes too, and its connect fails.
      if (this.#closed) void link.close();
    };
    const ice: PacketLink = this.tcp
      ? await tcpIceToMediasoup(remote, timeoutMs, created)
      : await iceToMediasoup(remote, timeoutMs, created);
    if (this.#closed) throw new Error('closed');
    this.iceConnectedAt = Date.now();
    this.onStep('ice', this.iceConnectedAt);
    // The packets are ours from here: RTP that arrives before the SRTP keys (mediasoup
    // sends as soon as its side of DTLS is done, before our client has read the last
    // flight) is held and read once the keys are there, so every packet from the first is
    // counted.
    if (this.tcp) this.#takeOverTcp(ice as TcpIceLink);
    else this.#takeOverSocket(ice as Connection);

    const handshake = () => dtlsOverIce(ice, timeoutMs, { created: (dtls) => (this.#dtls = dtls) });
    const link = await (this.#handshakes ? this.#handshakes.run(handshake) : handshake());
    this.#srtp = link.srtp;
    this.#srtcp = link.srtcp;
    this.profile = link.profile;
    if (this.feedback) {
      const fb = this.feedback;
      this.#fbTimer = setInterval(() => fb.tick(performance.now()), 100);
    }
    this.#masterSecretAtConnect = Buffer.from(this.#masterSecret() ?? Buffer.alloc(0));
    this.connectedAt = Date.now();
    this.onStep('dtls', this.connectedAt);
    const held = this.#held;
    this.#held = undefined;
    for (const pkt of held ?? []) this.#onRtp(pkt);
  }

  /** RTP received between ICE and the SRTP keys (bounded: a few seconds of media). */
  #held: Buffer[] | undefined = [];
  heldDropped = 0;
  #masterSecretAtConnect: Buffer | undefined;

  #masterSecret(): Buffer | undefined {
    return (this.#dtls as unknown as { cipher?: { masterSecret?: Buffer } } | undefined)?.cipher?.masterSecret;
  }

  profile = '';

  /**
   * Replaces werift's per-datagram path on the selected pair's socket: media is handled
   * here, anything else (STUN consent, DTLS alerts) goes to werift as before.
   */
  #takeOverSocket(ice: Connection): void {
    const protocol = (ice.nominated as unknown as { protocol?: IceProtocolLike } | undefined)?.protocol;
    const socket = protocol?.transport?.socket;
    if (!socket || !protocol?.datagramReceived) throw new Error('werift internals changed: no UDP socket on the pair');
    this.localPort = socket.address().port;
    try {
      socket.setRecvBufferSize(2 * 1024 * 1024);
    } catch {
      // Capped by net.core.rmem_max: the default is kept.
    }
    const werift = socket.listeners('message') as ((msg: Buffer, rinfo: unknown) => void)[];
    socket.removeAllListeners('message');
    socket.on('message', (msg: Buffer, rinfo) => {
      if (!this.#onPacket(msg)) for (const l of werift) l(msg, rinfo);
    });
  }

  /** The TCP link's frames, deframed: media here, the rest (DTLS) to werift as before. */
  #takeOverTcp(link: TcpIceLink): void {
    link.onPacket = (pkt) => {
      if (!this.#onPacket(pkt)) link.deliver(pkt);
    };
    link.onConsentLost = () => {
      if (!this.#closed) this.onIceLost();
    };
  }

  /** One packet off the wire: RTP and RTCP are read here (true); anything else is werift's (false). */
  #onPacket(msg: Buffer): boolean {
    const b = msg[0]!;
    if (b >= 128 && b <= 191) {
      const pt = msg[1]! & 0x7f;
      if (pt >= 64 && pt <= 95) {
        // RTCP (sender reports): read for LSR when this receiver reports back.
        if (this.feedback && this.#srtcp) {
          try {
            this.feedback.onRtcp(this.#srtcp.decrypt(msg), performance.now());
          } catch {
            // not authenticated: ignored, as a browser does
          }
        }
        return true;
      }
      if (this.blackhole) return true;
      if (this.#held) {
        if (this.#held.length < 2000) this.#held.push(msg);
        else this.heldDropped += 1;
        return true;
      }
      this.#onRtp(msg);
      return true;
    }
    this.controlPackets += 1;
    return false;
  }

  #onRtp(pkt: Buffer): void {
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
    const fb = this.feedback;
    const seq = pkt.readUInt16BE(2);
    const ext = x.maxExt < 0 ? seq : extendSeq(x.maxExt, seq);
    x.reader ??= new SrtpStreamReader(this.#srtp!.remoteContext.cipher);
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
      this.feedback?.onPacket(pkt, s, ext, -1, now);
    } else {
      // The 16-bit sequence number extended around the highest one seen (RFC 3711 §3.3.1).
      ext = extendSeq(s.maxSeq, seq);
      if (this.feedback && !this.feedback.onPacket(pkt, s, ext, prevMax, now, rtx !== undefined)) return; // a duplicate
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
      s.kind === 'video' && (s.firstKeyFrameAt === undefined || (this.feedback?.wantsKeyFrame(ssrc) ?? false));
    // ext < 0: reordered from before the first packet seen (its ROC would be -1).
    // One packet in K of *this stream*: a counter shared by audio and video picked only
    // audio packets when the two arrived in a regular pattern (through a cluster's pipe),
    // so video never decrypted again and the watchdog rebuilt healthy points.
    let clear = rtx;
    if (!clear && ext >= 0 && (needKey || s.received % this.#decryptEvery === 0)) {
      s.reader ??= new SrtpStreamReader(this.#srtp!.remoteContext.cipher);
      clear = s.reader.decrypt(pkt, ext);
      if (!clear) {
        s.authFailures += 1;
        if (s.decrypted === 0 && s.authFailures === 50) s.diagnosis = this.diagnose(pkt, ext);
        return;
      }
      s.decrypted += 1;
      if (this.firstDecryptedAt === undefined) {
        this.firstDecryptedAt = Date.now();
        this.onStep('firstRtp', this.firstDecryptedAt);
      }
    }
    if (clear && ext >= 0) {
      if (needKey && isVp8KeyFrameStart(clear)) {
        if (s.firstKeyFrameAt === undefined) {
          s.keyFrameStartAt ??= Date.now();
          s.keyFrame = { ts, startExt: ext, endExt: undefined, packets: 1 };
          this.#keyFrameRead(s, ext, ts, marker);
        } else this.feedback?.onKeyFrame(ssrc, now);
      }
    }
  }

  /** A packet of the first key frame being assembled; the frame's completion is the join's last step. */
  #keyFrameRead(s: StreamStats, ext: number, ts: number, marker: boolean): void {
    if (!keyFrameComplete(s, ext, ts, marker)) return;
    s.firstKeyFrameAt = Date.now();
    s.keyFrame = undefined;
    this.onStep('keyFrame', s.firstKeyFrameAt);
  }

  /**
   * Why a stream's packets never authenticate, from one of them: another ROC (0-3 around
   * ours), the keys of the other direction, werift having changed its DTLS master secret
   * after the handshake (a second key exchange), or none of these (the two sides derived
   * different keys, or the packet was protected under another transport's keys).
   */
  diagnose(pkt: Buffer, ext: number): string {
    const srtp = this.#srtp;
    if (!srtp) return 'no SRTP session';
    const ours = rocOf(ext);
    for (let roc = 0; roc <= Math.max(3, ours + 2); roc++)
      if (roc !== ours && tryDecrypt(srtp.remoteContext.cipher, pkt, roc))
        return `rollover counter: ${roc}, not ${ours}`;
    for (let roc = 0; roc <= 3; roc++)
      if (tryDecrypt(srtp.localContext.cipher, pkt, roc)) return 'protected with our own (client) keys';
    const now = this.#masterSecret();
    if (this.#masterSecretAtConnect && now && !now.equals(this.#masterSecretAtConnect))
      return 'werift changed its DTLS master secret after connecting';
    return 'keys differ: no ROC or key of ours authenticates it';
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#fbTimer);
    await closeLink(this.#dtls, this.#ice);
  }
}
