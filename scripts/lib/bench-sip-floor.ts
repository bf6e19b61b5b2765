// The floor side of scripts/bench-sip.ts's simulated room systems: a call answers the
// gateway's re-INVITE `sendrecv` (naming its SSRCs) and then sends what a room system's
// camera and microphone would, H.264 and G.711 in 20 ms packets with RTCP sender reports,
// from an ffmpeg whose packets are relayed out of the call's own media ports (the
// gateway's legs take nothing from another address); a re-INVITE `sendonly` (the floor
// taken back) is answered `recvonly` and stops it.
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import pino from 'pino';
import { tiedSpawn } from '../../server/platform/tied-spawn';

/** A call as the floor needs it: its SIP socket and address, its media ports (audio, video), its offer. */
export interface FloorCall {
  sock: dgram.Socket;
  sinks: dgram.Socket[];
  local: string;
  sdp: string;
}

const SSRC = { audio: 4001, video: 4002 };

export class FloorRoomSystem {
  /** Re-INVITEs `sendrecv` that started the sender. */
  asked = 0;
  #sender: ChildProcess | undefined;
  readonly #relays: dgram.Socket[] = [];
  readonly #video: { size: string; fps: string };

  constructor(video: { size: string; fps: string }) {
    this.#video = video;
  }

  get sending(): boolean {
    return this.#sender !== undefined;
  }

  /** A request from the gateway on the call's socket: a re-INVITE is answered; anything else is ignored. */
  reinvited(call: FloorCall, msg: string, gateway: { ip: string; port: number }): void {
    if (!msg.startsWith('INVITE ')) return;
    const body = msg.slice(msg.indexOf('\r\n\r\n') + 4);
    const floor = /a=sendrecv/.test(body);
    const ports = [...body.matchAll(/^m=\w+ (\d+)/gm)].map((m) => Number(m[1]));
    const ip = /^c=IN IP4 (\S+)/m.exec(body)?.[1] ?? gateway.ip;
    let n = 0;
    const sdp = call.sdp.replace(/^o=(\S+ \S+) 1 /m, `o=$1 ${Date.now() % 1e9} `).replace(/a=sendrecv/g, () => {
      const kind = n++ === 0 ? 'audio' : 'video';
      return floor ? `a=sendrecv\r\na=ssrc:${SSRC[kind]} cname:room` : 'a=recvonly';
    });
    const head = (name: string) => new RegExp(`^${name}:.*$`, 'gmi').exec(msg)?.[0] ?? '';
    const answer = [
      'SIP/2.0 200 OK',
      ...[...msg.matchAll(/^Via:.*$/gim)].map((m) => m[0]),
      ...['From', 'To', 'Call-ID', 'CSeq'].map(head),
      `Contact: <sip:room@${call.local}>`,
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(sdp)}`,
      '',
      sdp,
    ];
    call.sock.send(answer.join('\r\n'), gateway.port, gateway.ip);
    if (floor && !this.#sender) {
      this.asked += 1;
      void this.#start(call, ip, ports);
    } else if (!floor) this.stop();
  }

  stop(): void {
    this.#sender?.kill('SIGKILL');
    this.#sender = undefined;
    for (const r of this.#relays.splice(0)) r.close();
  }

  /** ffmpeg sends RTP and RTCP to relays that forward each packet from the call's media port (rtcp-mux). */
  async #start(call: FloorCall, ip: string, ports: number[]): Promise<void> {
    const out: number[][] = [];
    for (const [i, sink] of call.sinks.entries()) {
      const pair: number[] = [];
      for (let n = 0; n < 2; n++) {
        const relay = dgram.createSocket('udp4');
        await new Promise<void>((r) => relay.bind(0, '127.0.0.1', () => r()));
        relay.on('message', (b) => sink.send(b, ports[i]!, ip));
        this.#relays.push(relay);
        pair.push(relay.address().port);
      }
      out.push(pair);
    }
    const rtp = ([port, rtcp]: number[], ssrc: number, pt: number) => [
      ...['-f', 'rtp', '-ssrc', String(ssrc), '-payload_type', String(pt)],
      `rtp://127.0.0.1:${port}?rtcpport=${rtcp}&pkt_size=1200`,
    ];
    const { size, fps } = this.#video;
    this.#sender = tiedSpawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-re'],
        ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${fps}`],
        ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=8000:samples_per_frame=160'],
        ...['-map', '0:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
        ...['-pix_fmt', 'yuv420p', '-g', '60', '-b:v', '1500k', ...rtp(out[1]!, SSRC.video, 96)],
        ...['-map', '1:a', '-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1', ...rtp(out[0]!, SSRC.audio, 0)],
      ],
      { stdio: 'ignore', log: pino({ level: 'warn' }) },
    );
  }
}
