// The virtual host's video as a browser sends it: three VP8 simulcast layers (1280x720
// at about 1.3 Mbps, 640x360 at 500 kbps, 320x180 at 150 kbps) of one test pattern,
// pre-encoded once by ffmpeg to IVF (cached, a key frame every 1.5 s), sent from Node as
// one simulcast producer over a comedia PlainTransport from one socket: one SSRC per
// layer, the payload descriptor with a picture id, a sender report per layer every
// second. It answers the SFU's feedback as an encoder does: a PLI or FIR for a layer makes
// that layer jump to its next key frame in the file at the next frame (decoding restarts
// there, so the stream stays valid), and a NACK resends the packet from a short history.
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FFMPEG } from './source';
import { packetizeVp8, parseIvf, readFeedback, senderReport, type IvfClip, type RtpStreamState } from './vp8-rtp';

export interface HallLayer {
  width: number;
  height: number;
  kbps: number;
}

/** Lowest first, as the SFU's encodings are listed. */
export const HALL_LAYERS: HallLayer[] = [
  { width: 320, height: 180, kbps: 150 },
  { width: 640, height: 360, kbps: 500 },
  { width: 1280, height: 720, kbps: 1300 },
];
export const HALL_FPS = 30;
/** A key frame every 45 frames (1.5 s) in every layer. */
export const HALL_GOP = 45;
const SECONDS = 20;

/** Encodes the three layers once (one ffmpeg run); later runs reuse the cached IVF files. */
export function preparedLayers(layers = HALL_LAYERS): string[] {
  const dir = path.join(os.homedir(), '.cache', 'briefing-orchestrator', 'loadgen');
  mkdirSync(dir, { recursive: true });
  const files = layers.map((l) =>
    path.join(dir, `hall-${l.width}x${l.height}-${HALL_FPS}-${l.kbps}k-g${HALL_GOP}-${SECONDS}s.ivf`),
  );
  if (files.every((f) => existsSync(f))) return files;
  const top = layers[layers.length - 1]!;
  const split = layers.map((_, i) => `[s${i}]`).join('');
  const scaled = layers.map((l, i) => `[s${i}]scale=${l.width}:${l.height}[o${i}]`).join(';');
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'lavfi', '-i', `testsrc2=size=${top.width}x${top.height}:rate=${HALL_FPS}:duration=${SECONDS}`],
    ...['-filter_complex', `[0:v]split=${layers.length}${split};${scaled}`],
  ];
  layers.forEach((l, i) => {
    args.push(
      ...[
        '-map',
        `[o${i}]`,
        '-c:v',
        'libvpx',
        '-b:v',
        `${l.kbps}k`,
        '-minrate',
        `${l.kbps}k`,
        '-maxrate',
        `${l.kbps}k`,
      ],
      ...['-g', String(HALL_GOP), '-keyint_min', String(HALL_GOP), '-deadline', 'realtime', '-cpu-used', '12'],
      // As a browser encodes: no alternate reference frames, no look-ahead.
      ...['-lag-in-frames', '0', '-auto-alt-ref', '0', '-error-resilient', 'default'],
      ...['-f', 'ivf', `${files[i]}.${process.pid}.tmp`],
    );
  });
  const r = spawnSync(FFMPEG, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 });
  if (r.status !== 0) throw new Error(`ffmpeg encode failed: ${r.stderr?.toString() ?? r.error?.message}`);
  // Each process writes its own temporary files: two runs starting at once both encode,
  // and the last rename wins with the same content.
  for (const f of files) renameSync(`${f}.${process.pid}.tmp`, f);
  return files;
}

export interface HallLayerStats {
  ssrc: number;
  width: number;
  height: number;
  packets: number;
  bytes: number;
  keyFrames: number;
  /** Key frames sent early because the SFU asked (PLI or FIR). */
  keyFramesOnRequest: number;
  plis: number;
  firs: number;
  nackedPackets: number;
  resent: number;
}

interface Layer {
  clip: IvfClip;
  st: RtpStreamState;
  tsBase: number;
  cursor: number;
  keyWanted: boolean;
  history: (Buffer | undefined)[];
  stats: HallLayerStats;
}

const HISTORY = 1024;

export class SimulcastHall {
  readonly #layers: Layer[];
  readonly #socket = dgram.createSocket('udp4');
  readonly #target: { ip: string; port: number; rtcpPort: number };
  #timer: NodeJS.Timeout | undefined;
  #srTimer: NodeJS.Timeout | undefined;
  #t0 = 0;
  #frame = 0;
  /** RTCP packets from the SFU that were read. */
  rtcpReceived = 0;

  /** `target.rtcpPort`: where sender reports go (the RTP port when RTCP is muxed); feedback comes back to the sending socket. */
  constructor(o: {
    files: string[];
    ssrcs: number[];
    payloadType: number;
    target: { ip: string; port: number; rtcpPort: number };
  }) {
    if (o.files.length !== o.ssrcs.length) throw new Error('one ssrc per layer');
    this.#target = o.target;
    this.#layers = o.files.map((f, i) => {
      const clip = parseIvf(readFileSync(f));
      const ssrc = o.ssrcs[i]!;
      return {
        clip,
        st: {
          ssrc,
          payloadType: o.payloadType,
          seq: Math.floor(Math.random() * 0x10000),
          pictureId: i * 1000,
          tl0PicIdx: i * 50,
        },
        tsBase: Math.floor(Math.random() * 2 ** 31),
        cursor: 0,
        keyWanted: false,
        history: new Array<Buffer | undefined>(HISTORY),
        stats: {
          ssrc,
          width: clip.width,
          height: clip.height,
          packets: 0,
          bytes: 0,
          keyFrames: 0,
          keyFramesOnRequest: 0,
          plis: 0,
          firs: 0,
          nackedPackets: 0,
          resent: 0,
        },
      };
    });
    this.#socket.on('message', (msg) => this.#onRtcp(msg));
  }

  get stats(): HallLayerStats[] {
    return this.#layers.map((l) => ({ ...l.stats }));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.bind(0, '127.0.0.1', resolve));
    try {
      this.#socket.setSendBufferSize(1024 * 1024);
    } catch {
      // the default is kept
    }
    this.#t0 = performance.now();
    this.#timer = setInterval(() => this.#tick(), 5);
    this.#srTimer = setInterval(() => this.#senderReports(), 1000);
    // The first sender reports fix the SFU's RTCP tuple (comedia), so feedback can reach us.
    this.#senderReports();
    this.#tick();
  }

  stop(): void {
    clearInterval(this.#timer);
    clearInterval(this.#srTimer);
    try {
      this.#socket.close();
    } catch {
      // closed already
    }
  }

  #send(buf: Buffer, port = this.#target.port): void {
    this.#socket.send(buf, port, this.#target.ip);
  }

  /** Sends every frame that is due (a late timer catches up); all layers share the frame clock. */
  #tick(): void {
    const due = Math.floor(((performance.now() - this.#t0) * HALL_FPS) / 1000);
    while (this.#frame <= due) {
      const ts = this.#frame * (90000 / HALL_FPS);
      for (const l of this.#layers) this.#sendFrame(l, ts);
      this.#frame += 1;
    }
  }

  #sendFrame(l: Layer, ts: number): void {
    const frames = l.clip.frames;
    if (l.keyWanted) {
      l.keyWanted = false;
      if (!frames[l.cursor]!.key) {
        let k = (l.cursor + 1) % frames.length;
        while (!frames[k]!.key) k = (k + 1) % frames.length;
        l.cursor = k;
      }
      l.stats.keyFramesOnRequest += 1;
    }
    const frame = frames[l.cursor]!;
    l.cursor = (l.cursor + 1) % frames.length;
    if (frame.key) l.stats.keyFrames += 1;
    for (const pkt of packetizeVp8(frame.data, l.tsBase + ts, l.st)) {
      l.history[pkt.readUInt16BE(2) % HISTORY] = pkt;
      l.stats.packets += 1;
      l.stats.bytes += pkt.length;
      this.#send(pkt);
    }
  }

  #senderReports(): void {
    const now = Date.now();
    const ts = Math.floor(((performance.now() - this.#t0) * 90000) / 1000);
    for (const l of this.#layers)
      this.#send(senderReport(l.st.ssrc, now, l.tsBase + ts, l.stats.packets, l.stats.bytes), this.#target.rtcpPort);
  }

  #onRtcp(msg: Buffer): void {
    this.rtcpReceived += 1;
    for (const fb of readFeedback(msg)) {
      const l = this.#layers.find((x) => x.st.ssrc === fb.ssrc);
      if (!l) continue;
      if (fb.type === 'nack') {
        l.stats.nackedPackets += fb.seqs.length;
        for (const seq of fb.seqs) {
          const pkt = l.history[seq % HISTORY];
          if (pkt && pkt.readUInt16BE(2) === seq) {
            l.stats.resent += 1;
            this.#send(pkt);
          }
        }
        continue;
      }
      if (fb.type === 'pli') l.stats.plis += 1;
      else l.stats.firs += 1;
      l.keyWanted = true;
    }
  }
}
