// One side of a real WebRTC transport to the SFU from Node, without a browser: werift does
// ICE (controlling, against mediasoup's ICE-lite), DTLS (client) and the SRTP keys. A
// receive transport counts the RTP it decrypts per SSRC; a send transport protects and
// sends plain RTP it is given (e.g. ffmpeg's, through forwardRtpFrom). For cluster tests
// where a point must produce (the floor) or the media a consumer gets must be counted.
import dgram from 'node:dgram';
import { RtpPacket, type Connection, type DtlsClient, type SrtpSession } from 'werift';
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
}

const isRtcp = (b: Buffer) => {
  const pt = b[1]! & 0x7f;
  return pt >= 64 && pt <= 95;
};

export class RtpPeer {
  readonly received = new Map<number, SsrcCount>();
  authFailures = 0;
  sent = 0;
  #ice: Connection | undefined;
  #dtls: DtlsClient | undefined;
  #srtp: SrtpSession | undefined;
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
    const c = this.received.get(ssrc) ?? { packets: 0, bytes: 0 };
    c.packets += 1;
    c.bytes += clear.length;
    this.received.set(ssrc, c);
  }

  /** What arrived for one SSRC (a consumer's `rtpParameters.encodings[0].ssrc`). */
  count(ssrc: number | undefined): SsrcCount {
    return (ssrc === undefined ? undefined : this.received.get(ssrc)) ?? { packets: 0, bytes: 0 };
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
   * A local UDP port whose RTP (e.g. from ffmpeg's rtp muxer, RTCP to the same port) is
   * sent on over this transport. Resolves with the port and a function to close it.
   */
  async forwardRtpFrom(): Promise<{ port: number; close: () => void }> {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg) => {
      if (msg.length >= 12 && msg[0]! >= 128 && msg[0]! <= 191 && !isRtcp(msg)) this.sendRtp(msg);
    });
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    return { port: sock.address().port, close: () => sock.close() };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeLink(this.#dtls, this.#ice);
  }
}
