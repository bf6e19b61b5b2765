// One side of a real WebRTC transport to the SFU from Node, without a browser: werift does
// ICE (controlling, against mediasoup's ICE-lite), DTLS (client) and the SRTP keys. A
// receive transport counts the RTP it decrypts per SSRC; a send transport protects and
// sends plain RTP it is given (e.g. ffmpeg's, through forwardRtpFrom). For cluster tests
// where a point must produce (the floor) or the media a consumer gets must be counted.
import dgram from 'node:dgram';
import { RtpPacket, type Connection, type DtlsClient, type SrtcpSession, type SrtpSession } from 'werift';
import {
  clientDtlsParameters,
  closeLink,
  dtlsOverIce,
  iceToMediasoup,
  type IceRemote,
} from '../../scripts/loadgen/werift-link';

export interface RemoteTransport extends IceRemote {
  id: string;
}

export interface SsrcCount {
  packets: number;
  bytes: number;
  /** Sequence numbers between the first and the highest seen that never arrived (RFC 3550, A.3). */
  lost: number;
}

interface SeqTrack {
  first: number;
  /** The highest sequence number seen, extended past each wrap. */
  highest: number;
}

const isRtcp = (b: Buffer) => {
  const pt = b[1]! & 0x7f;
  return pt >= 64 && pt <= 95;
};

export class RtpPeer {
  readonly received = new Map<number, SsrcCount>();
  readonly #seq = new Map<number, SeqTrack>();
  authFailures = 0;
  sent = 0;
  /** Called with each decrypted RTP packet (header and payload), for tests that read the stream itself. */
  onPacket: ((clear: Buffer) => void) | undefined;
  #ice: Connection | undefined;
  #dtls: DtlsClient | undefined;
  #srtp: SrtpSession | undefined;
  #srtcp: SrtcpSession | undefined;
  #closed = false;

  /** Our DTLS parameters for rtc:connectTransport (we are the DTLS client). */
  static dtlsParameters = clientDtlsParameters;

  /** ICE to the transport's UDP candidates, then DTLS; resolves once SRTP keys are there. */
  async connect(remote: RemoteTransport, timeoutMs = 20_000): Promise<void> {
    const ice = await iceToMediasoup(remote, timeoutMs, (created) => (this.#ice = created));
    const link = await dtlsOverIce(ice, timeoutMs, {
      created: (dtls) => (this.#dtls = dtls),
      onOther: (buf) => {
        const b = buf[0]!;
        if (b >= 128 && b <= 191 && !isRtcp(buf)) this.#onRtp(buf);
      },
    });
    this.#srtp = link.srtp;
    this.#srtcp = link.srtcp;
  }

  #onRtp(buf: Buffer): void {
    if (!this.#srtp) return;
    let clear: Buffer;
    try {
      clear = this.#srtp.decrypt(buf);
    } catch {
      this.authFailures += 1;
      return;
    }
    const ssrc = clear.readUInt32BE(8);
    const seq = clear.readUInt16BE(2);
    const c = this.received.get(ssrc) ?? { packets: 0, bytes: 0, lost: 0 };
    c.packets += 1;
    c.bytes += clear.length;
    const t = this.#seq.get(ssrc);
    if (!t) this.#seq.set(ssrc, { first: seq, highest: seq });
    else {
      // The nearest extension of `seq` to the highest seen (a late packet stays behind it).
      const delta = ((seq - (t.highest & 0xffff) + 0x8000) & 0xffff) - 0x8000;
      if (delta > 0) t.highest += delta;
    }
    const track = this.#seq.get(ssrc)!;
    c.lost = Math.max(0, track.highest - track.first + 1 - c.packets);
    this.received.set(ssrc, c);
    this.onPacket?.(clear);
  }

  /** What arrived for one SSRC (a consumer's `rtpParameters.encodings[0].ssrc`). */
  count(ssrc: number | undefined): SsrcCount {
    return (ssrc === undefined ? undefined : this.received.get(ssrc)) ?? { packets: 0, bytes: 0, lost: 0 };
  }

  /** Protects one plain RTP packet and sends it over the transport. */
  sendRtp(plain: Buffer): void {
    if (!this.#srtp || !this.#ice || this.#closed) return;
    const pkt = RtpPacket.deSerialize(plain);
    const protectedPkt = this.#srtp.encrypt(pkt.payload, pkt.header);
    this.sent += 1;
    this.#ice.send(protectedPkt).catch(() => undefined);
  }

  /**
   * Protects one plain RTCP packet (or compound) and sends it over the transport: a
   * sender's reports, which mediasoup needs to switch a consumer between simulcast layers.
   */
  sendRtcp(plain: Buffer): void {
    if (!this.#srtcp || !this.#ice || this.#closed) return;
    this.#ice.send(this.#srtcp.encrypt(plain)).catch(() => undefined);
  }

  /**
   * A local UDP port whose RTP and RTCP (e.g. from ffmpeg's rtp muxer, RTCP to the same
   * port) are sent on over this transport. Resolves with the port and a function to close it.
   */
  async forwardRtpFrom(): Promise<{ port: number; close: () => void }> {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg) => {
      if (msg.length < 8 || msg[0]! < 128 || msg[0]! > 191) return;
      if (isRtcp(msg)) this.sendRtcp(msg);
      else if (msg.length >= 12) this.sendRtp(msg);
    });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    return { port: sock.address().port, close: () => sock.close() };
  }

  /**
   * Sends one small protected packet every `everyMs`, as a browser's RTCP and consent
   * checks keep a transport busy (werift alone checks consent every 4-6 s). Returns a stop.
   */
  keepSending(everyMs = 1000): () => void {
    const ssrc = 0x5eed0000 + Math.floor(Math.random() * 0xffff);
    let seq = 0;
    const timer = setInterval(() => {
      const rtp = Buffer.alloc(20);
      rtp[0] = 0x80;
      rtp[1] = 127; // a payload type no consumer of ours uses: the SFU drops it after counting it
      rtp.writeUInt16BE(seq++ & 0xffff, 2);
      rtp.writeUInt32BE(Date.now() >>> 0, 4);
      rtp.writeUInt32BE(ssrc, 8);
      this.sendRtp(rtp);
    }, everyMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * The point's network drops its media: nothing it sends leaves its UDP sockets and
   * nothing reaches it any more (ICE, DTLS and SRTP alike), with no close alert to tell.
   */
  cutNetwork(): void {
    type Sock = { send: (...args: unknown[]) => void; removeAllListeners: (e: string) => void };
    const ice = this.#ice as unknown as { protocols: { transport?: { socket?: Sock } }[] } | undefined;
    const protocols = ice?.protocols ?? [];
    for (const p of protocols) {
      const sock = p.transport?.socket;
      if (!sock) continue;
      sock.removeAllListeners('message');
      sock.send = (...args: unknown[]) => {
        const cb = args[args.length - 1];
        if (typeof cb === 'function') (cb as (err: null) => void)(null);
      };
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeLink(this.#dtls, this.#ice);
  }
}
