// Several RTP streams out of one UDP socket. The plain ingest's video is one comedia
// PlainTransport: it learns its sender's address from the first packet and drops what
// comes from any other. ffmpeg's RTP muxer sends each output (one per simulcast layer)
// from a local port of its own, so the layers would all but one be dropped. The funnel
// takes each stream on loopback ports of its own (RTP and RTCP) and forwards every
// datagram unchanged from ONE socket: RTP to the ingest's RTP port, RTCP (the sender
// reports, which the SFU needs for every layer before a point may switch between layers)
// to its RTCP port. What comes back to that socket (the SFU's feedback) is dropped: the
// encoders force key frames on their own.
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from 'pino';

export interface FunnelTarget {
  ip: string;
  port: number;
  /** Where RTCP goes; the RTP port when absent (RTCP muxed). */
  rtcpPort?: number;
}

/** Where a sender sends one stream to the funnel (loopback). */
export interface FunnelInput {
  rtp: number;
  rtcp: number;
}

export class RtpFunnel {
  readonly inputs: FunnelInput[];
  readonly #sockets: dgram.Socket[];
  #closed = false;

  private constructor(inputs: FunnelInput[], sockets: dgram.Socket[]) {
    this.inputs = inputs;
    this.#sockets = sockets;
  }

  /** Opens `streams` pairs of loopback input ports and the one socket they all leave by. */
  static async open(streams: number, target: FunnelTarget, log: Logger): Promise<RtpFunnel> {
    const sockets: dgram.Socket[] = [];
    const bound = async (type: 'udp4' | 'udp6', ip: string): Promise<dgram.Socket> => {
      const s = dgram.createSocket(type);
      sockets.push(s);
      s.on('error', (err) => log.warn({ err }, 'RTP funnel socket error'));
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, ip, () => {
          s.off('error', reject);
          resolve();
        });
      });
      return s;
    };
    try {
      // Bound to the ingest's own address (a local one: the SFU listens on it), not the
      // wildcard: the funnel only ever sends to that ingest, so it needs no other interface.
      const out = await bound(net.isIPv6(target.ip) ? 'udp6' : 'udp4', target.ip);
      // Each input takes the first local sender it hears (its ffmpeg output) and no other.
      const forward = (port: number) => {
        let from: number | undefined;
        return (msg: Buffer, rinfo: dgram.RemoteInfo) => {
          from ??= rinfo.port;
          if (rinfo.port === from) out.send(msg, port, target.ip);
        };
      };
      const inputs: FunnelInput[] = [];
      for (let i = 0; i < streams; i += 1) {
        const rtp = await bound('udp4', '127.0.0.1');
        const rtcp = await bound('udp4', '127.0.0.1');
        rtp.on('message', forward(target.port));
        rtcp.on('message', forward(target.rtcpPort ?? target.port));
        inputs.push({ rtp: rtp.address().port, rtcp: rtcp.address().port });
      }
      return new RtpFunnel(inputs, sockets);
    } catch (err) {
      for (const s of sockets) s.close();
      throw err;
    }
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#sockets) s.close();
  }
}
