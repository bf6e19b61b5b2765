// One side of a real WebRTC transport to the SFU from Node, without a browser: werift does
// ICE (controlling, against mediasoup's ICE-lite), DTLS (client) and the SRTP keys. A
// receive transport counts the RTP it decrypts per SSRC; a send transport protects and
// sends plain RTP it is given (e.g. ffmpeg's, through forwardRtpFrom). For cluster tests
// where a point must produce (the floor) or the media a consumer gets must be counted.
import dgram from 'node:dgram';
import {
  Connection,
  DtlsClient,
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RTCDtlsTransport,
  RtpPacket,
  SrtpSession,
  keyLength,
  saltLength,
  type RTCCertificate,
} from 'werift';
import { iceToMediasoup, withTimeout } from '../../scripts/loadgen/werift-ice';

export interface RemoteTransport {
  id: string;
  iceParameters: { usernameFragment: string; password: string };
  iceCandidates: {
    foundation: string;
    priority: number;
    ip?: string;
    address?: string;
    protocol: string;
    port: number;
  }[];
}

export interface SsrcCount {
  packets: number;
  bytes: number;
}

let certificate: Promise<RTCCertificate> | undefined;
const cert = () => (certificate ??= RTCDtlsTransport.SetupCertificate());

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
  static async dtlsParameters(): Promise<{ role: 'client'; fingerprints: { algorithm: string; value: string }[] }> {
    const c = await cert();
    return {
      role: 'client',
      fingerprints: c.getFingerprints().map((f) => ({ algorithm: f.algorithm, value: f.value })),
    };
  }

  /** ICE to the transport's UDP candidates, then DTLS; resolves once SRTP keys are there. */
  async connect(remote: RemoteTransport, timeoutMs = 20_000): Promise<void> {
    const c = await cert();
    const ice = await iceToMediasoup(remote, timeoutMs, (created) => (this.#ice = created));
    const timeout = <T>(p: Promise<T>, what: string) => withTimeout(p, what, timeoutMs);
    const transport = {
      type: 'ice',
      address: {} as never,
      closed: false,
      onData: (_buf: Buffer): void => undefined,
      send: (data: Buffer) => ice.send(data),
      close: async () => undefined,
    };
    ice.onData.subscribe((buf: Buffer) => {
      const b = buf[0]!;
      if (b >= 20 && b <= 63) transport.onData(buf);
      else if (b >= 128 && b <= 191 && !isRtcp(buf)) this.#onRtp(buf);
    });
    const dtls = new DtlsClient({
      cert: c.certPem,
      key: c.privateKey,
      signatureHash: c.signatureHash,
      transport: transport as never,
      srtpProfiles: [ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80],
      extendedMasterSecret: true,
    });
    this.#dtls = dtls;
    await timeout(
      new Promise<void>((resolve, reject) => {
        dtls.onConnect.once(() => resolve());
        dtls.onError.once((e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
        dtls.connect().catch(reject);
      }),
      'DTLS',
    );
    const profile = dtls.srtp.srtpProfile;
    if (!profile) throw new Error('no SRTP profile negotiated');
    const k = dtls.extractSessionKeys(keyLength(profile), saltLength(profile));
    this.#srtp = new SrtpSession({
      profile,
      keys: {
        localMasterKey: k.localKey,
        localMasterSalt: k.localSalt,
        remoteMasterKey: k.remoteKey,
        remoteMasterSalt: k.remoteSalt,
      },
    });
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
    try {
      this.#dtls?.close();
    } catch {
      // already gone
    }
    await this.#ice?.close().catch(() => undefined);
  }
}
