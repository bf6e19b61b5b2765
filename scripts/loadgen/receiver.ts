// One virtual point's WebRTC receive transport, as cheap as it can be while staying real:
// werift does ICE (controlling, against mediasoup's ICE-lite), DTLS (client) and the SRTP
// key derivation; every datagram after that is read here directly from the UDP socket.
// An ICE-TCP receiver (`tcp`) connects to the transport's TCP candidate instead
// (./ice-tcp.ts: RFC 4571 frames on one connection) and reads every frame the same way.
// Each RTP packet is read by ./rtp-reader.ts (loss, jitter, silences, sampled decrypts,
// key frames, RTX); unless silent, the receiver sends the feedback a browser sends back
// (point-feedback.ts: transport-cc, receiver reports, NACK, PLI, aggregated on a 100 ms
// timer, protected with SRTCP).
import type { Socket as UdpSocket } from 'node:dgram';
import type { Connection, DtlsClient, SrtcpSession, SrtpSession } from 'werift';
import { PointFeedback } from './point-feedback';
import type { Gate } from './gate';
import { RtpReader, type ConsumerRtp } from './rtp-reader';
import type { StreamStats } from './stream-stats';
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

export class Receiver {
  readonly #reader: RtpReader;
  /** The streams read, by SSRC. */
  readonly streams: Map<number, StreamStats>;
  #ice: PacketLink | undefined;
  #dtls: DtlsClient | undefined;
  #srtp: SrtpSession | undefined;
  #srtcp: SrtcpSession | undefined;
  #closed = false;
  readonly #silent: boolean;
  #fbTimer: NodeJS.Timeout | undefined;
  /** The RTCP this receiver sends (undefined when silent, or before the keys). */
  readonly feedback: PointFeedback | undefined;
  /** When ICE connected and DTLS connected (the SRTP keys) (epoch ms). */
  iceConnectedAt: number | undefined;
  connectedAt: number | undefined;
  /** Told each step once, as it happens (the join's stages). */
  onStep: (step: ReceiverStep, at: number) => void = () => undefined;
  /** Non-media datagrams (STUN, DTLS) handed back to werift. */
  controlPackets = 0;
  /** The local UDP port of the media socket (after ICE); undefined over TCP. */
  localPort: number | undefined;
  /** ICE over TCP to the transport's TCP candidate, not UDP. */
  readonly tcp: boolean;
  /** The watchdog drill: RTP is dropped uncounted, as if it never decrypted. */
  blackhole = false;
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
    this.tcp = opts.tcp ?? false;
    this.#silent = opts.silent ?? false;
    this.#handshakes = opts.handshakes;
    if (!this.#silent) this.feedback = new PointFeedback((b) => this.#sendRtcp(b));
    this.#reader = new RtpReader({
      decryptEvery: Math.max(1, opts.decryptEvery ?? 10),
      feedback: this.feedback,
      srtp: () => this.#srtp,
      masterSecretChanged: () => {
        const now = this.#masterSecret();
        return !!this.#masterSecretAtConnect && !!now && !now.equals(this.#masterSecretAtConnect);
      },
      onStep: (step, at) => this.onStep(step, at),
    });
    this.streams = this.#reader.streams;
  }

  /** When the first packet was decrypted (epoch ms). */
  get firstDecryptedAt(): number | undefined {
    return this.#reader.firstDecryptedAt;
  }

  /** RTP from SSRCs no consumer announced (RTX when it was not expected), the SFU's probation apart. */
  get unknownPackets(): number {
    return this.#reader.unknownPackets;
  }

  /** The SFU's bandwidth probes (padding on mediasoup's probation SSRC, 1234): not media. */
  get probationPackets(): number {
    return this.#reader.probationPackets;
  }

  /**
   * A counted hole: the next N packets on the media SSRCs (not RTX) are dropped uncounted,
   * as if lost on the way, so that the NACKs and retransmissions that fill it can be read.
   */
  get dropMedia(): number {
    return this.#reader.dropMedia;
  }

  set dropMedia(n: number) {
    this.#reader.dropMedia = n;
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
    this.#reader.expect(ssrc, kind, clockRate, source);
  }

  /** A consumer's RTX stream (encodings[0].rtx.ssrc), repairing `mediaSsrc` of `payloadType`. */
  expectRtx(rtxSsrc: number, mediaSsrc: number, payloadType: number): void {
    this.#reader.expectRtx(rtxSsrc, mediaSsrc, payloadType);
  }

  /** A consumer's streams from its RTP parameters (media, RTX, transport-cc); its media SSRC, if any. */
  expectConsumer(rtp: ConsumerRtp, kind: 'audio' | 'video', source: string | undefined): number | undefined {
    return this.#reader.expectConsumer(rtp, kind, source);
  }

  /** Why a stream's packets never authenticate, from one of them (see RtpReader.diagnose). */
  diagnose(pkt: Buffer, ext: number): string {
    return this.#reader.diagnose(pkt, ext);
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
    for (const pkt of held ?? []) this.#reader.read(pkt);
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
      this.#reader.read(msg);
      return true;
    }
    this.controlPackets += 1;
    return false;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#fbTimer);
    await closeLink(this.#dtls, this.#ice);
  }
}
