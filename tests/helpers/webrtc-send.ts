// What a page does to publish, from Node: a WebRTC send transport (werift, through
// tests/helpers/rtp-peer.ts), producers declared with the SSRCs ffmpeg will use, and
// ffmpeg's RTP sent on through the transport. Video may be simulcast: one encoding per
// layer, lowest first, each its own SSRC and picture size, as a browser sends them.
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { Socket } from 'socket.io-client';
import { requester, type AnyEvents } from '../../client/src/net/request';
import type { MediaSource, RtcRequests } from '../../server/contract/broadcast';
import type { RequestEvents } from '../../server/contract/socket';
import { receiveCapabilities, type Caps } from '../../scripts/loadgen/werift-link';
import { RtpPeer } from './rtp-peer';
import { tiedSpawn } from '../../server/platform/tied-spawn';

/** A `/host` socket (or a point's holding the floor), typed from the contract for the requests it sends. */
export type SendingSocket = Socket<AnyEvents, RequestEvents<RtcRequests>>;

export interface VideoLayer {
  ssrc: number;
  width: number;
  height: number;
  /** kbps */
  bitrate: number;
}

export interface SendOptions {
  video: { source: MediaSource; payloadType: number; layers: VideoLayer[]; picture?: string };
  audio?: { source: MediaSource; payloadType: number; ssrc: number };
}

export interface Sending {
  peer: RtpPeer;
  /** Video first, then audio. */
  producerIds: string[];
  ffmpeg: ChildProcess;
  close: () => Promise<void>;
}

const VP8_FEEDBACK = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];

/** ffmpeg's arguments: one VP8 encode per layer (a key frame a second) and an Opus tone, as RTP to `port`. */
export function sendArgs(o: SendOptions, port: number): string[] {
  const url = `rtp://127.0.0.1:${port}?rtcpport=${port}&pkt_size=1200`;
  const { layers } = o.video;
  const top = layers[layers.length - 1]!;
  const split = layers.map((_, i) => `[s${i}]`).join('');
  const scaled = layers.map((l, i) => `[s${i}]scale=${l.width}:${l.height}[l${i}]`).join(';');
  const args = ['-hide_banner', '-loglevel', 'error', '-re'];
  args.push('-f', 'lavfi', '-i', `${o.video.picture ?? 'testsrc2'}=size=${top.width}x${top.height}:rate=15`);
  if (o.audio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440');
  args.push('-filter_complex', `[0:v]split=${layers.length}${split};${scaled}`);
  layers.forEach((l, i) => {
    args.push('-map', `[l${i}]`, '-c:v', 'libvpx', '-b:v', `${l.bitrate}k`, '-deadline', 'realtime');
    args.push('-cpu-used', '8', '-g', '15', '-ssrc', String(l.ssrc), '-payload_type', String(o.video.payloadType));
    args.push('-f', 'rtp', url);
  });
  if (o.audio) {
    args.push('-map', '1:a', '-c:a', 'libopus', '-b:a', '32k', '-ssrc', String(o.audio.ssrc));
    args.push('-payload_type', String(o.audio.payloadType), '-f', 'rtp', url);
  }
  return args;
}

/** Opens a send transport on `socket`, declares the producers and starts ffmpeg feeding them. */
export async function sendFromNode(socket: SendingSocket, o: SendOptions): Promise<Sending> {
  const ask = requester(socket, 5000);
  const { routerRtpCapabilities } = await ask('rtc:capabilities', {});
  const t = await ask('rtc:createTransport', {
    direction: 'send',
    // The contract carries mediasoup's objects as they are; read here as mediasoup's types.
    rtpCapabilities: receiveCapabilities(routerRtpCapabilities as unknown as Caps),
  });
  await ask('rtc:connectTransport', { transportId: t.id, dtlsParameters: await RtpPeer.dtlsParameters() });
  const peer = new RtpPeer();
  await peer.connect(t as unknown as Parameters<RtpPeer['connect']>[0]);
  const producerIds: string[] = [];
  const video = await ask('rtc:produce', {
    transportId: t.id,
    kind: 'video',
    source: o.video.source,
    rtpParameters: {
      codecs: [
        { mimeType: 'video/VP8', payloadType: o.video.payloadType, clockRate: 90000, rtcpFeedback: VP8_FEEDBACK },
      ],
      encodings: o.video.layers.map((l) => ({ ssrc: l.ssrc, maxBitrate: l.bitrate * 1000 })),
      rtcp: { cname: o.video.source },
    },
  });
  producerIds.push(video.id);
  if (o.audio) {
    const audio = await ask('rtc:produce', {
      transportId: t.id,
      kind: 'audio',
      source: o.audio.source,
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: o.audio.payloadType, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc: o.audio.ssrc }],
        rtcp: { cname: o.audio.source },
      },
    });
    producerIds.push(audio.id);
  }
  const fwd = await peer.forwardRtpFrom();
  const ffmpeg = tiedSpawn('ffmpeg', sendArgs(o, fwd.port), { stdio: 'ignore', cwd: os.tmpdir() });
  return {
    peer,
    producerIds,
    ffmpeg,
    close: async () => {
      ffmpeg.kill('SIGKILL');
      fwd.close();
      await peer.close();
    },
  };
}
