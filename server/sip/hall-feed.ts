// The hall in the codecs room systems speak, made once per session for all of them: the
// hall's live camera and microphone leave the origin as plain RTP (two recording taps,
// exactly as the recorder gets them), one Debian ffmpeg decodes them and encodes H.264
// constrained baseline, G.711 (PCMU and PCMA), G.722 and Opus, and sends each back into
// the origin as a producer of a SIP feed (sfu/sip-media.ts), which every call's legs
// consume. So the cost is one transcode per session, whatever the number of room systems.
//
// The hall's source may change (console, WHIP, an ingest) or publish nothing yet (the
// lobby): every RECONCILE_MS the feed compares what it taps with the live source's camera
// and microphone and restarts the transcoder at once when they differ. A transcoder that
// died is started again after a growing delay, and left stopped after several deaths in a
// row until the source changes (platform/restart-backoff.ts). ffmpeg sends from fixed
// local ports, so the feed's comedia transports (locked to the first sender's address)
// keep taking packets from a restarted transcoder, and the legs never notice.
//
// The current agenda item is burned into the picture (hall-caption.ts): the feed rewrites
// the caption's file when the item changes, and the running transcoder redraws it from
// its next frame on.
import type { ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { BroadcastRoom, RecordingTapInfo, SipFeedInfo, SipMediaCodec } from '../../sfu';
import { AppError } from '../errors';
import { RestartBackoff } from '../platform/restart-backoff';
import { tiedSpawn } from '../platform/tied-spawn';
import { freeRtpPort } from '../recording/ffmpeg-track';
import { CaptionFile, captionFilter } from './hall-caption';

const RECONCILE_MS = 2000;
/** How often the caption's text is compared with the agenda's current item. */
const CAPTION_MS = 250;
const VIDEO = { kbps: 1200, fps: 25, gopSeconds: 2, maxHeight: 720 };
/** Payload types the transcoder sends with (legs re-stamp them with what each system offered). */
const OUTPUTS: { codec: SipMediaCodec; payloadType: number; args: string[] }[] = [
  {
    codec: 'H264',
    payloadType: 96,
    args: [
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
      ...['-level:v', '3.1', '-pix_fmt', 'yuv420p', '-g', String(VIDEO.fps * VIDEO.gopSeconds)],
      ...['-b:v', `${VIDEO.kbps}k`, '-maxrate', `${VIDEO.kbps}k`, '-bufsize', `${VIDEO.kbps}k`],
      // Slices small enough for one RTP packet each, sent as single NAL units: valid in
      // packetization-mode 0 and 1 alike, so one stream serves systems of either mode.
      ...['-x264-params', 'slice-max-size=1100', '-rtpflags', 'h264_mode0'],
    ],
  },
  { codec: 'PCMU', payloadType: 0, args: ['-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1'] },
  { codec: 'PCMA', payloadType: 8, args: ['-c:a', 'pcm_alaw', '-ar', '8000', '-ac', '1'] },
  { codec: 'G722', payloadType: 9, args: ['-c:a', 'g722', '-ar', '16000', '-ac', '1'] },
  { codec: 'opus', payloadType: 111, args: ['-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '64k'] },
];

export interface HallFeedDeps {
  room: BroadcastRoom;
  /** The hall's camera and microphone points receive now (hall-source.ts), if any. */
  hallProducers: () => { camera?: string; mic?: string };
  ffmpegPath: string;
  ip: string;
  logger: Logger;
  /** The agenda caption burned into the picture (hall-caption.ts): its text now and its font; undefined: none. */
  caption?: { text: () => string; fontFile: string } | undefined;
}

interface Running {
  camera: string | undefined;
  mic: string | undefined;
  taps: RecordingTapInfo[];
  /** Undefined while its taps are being opened. */
  proc: ChildProcess | undefined;
  /** The end of what the transcoder printed. */
  stderr: string;
  dir: string;
}

export class HallFeed {
  readonly #d: HallFeedDeps;
  readonly #log: Logger;
  #feed: SipFeedInfo | undefined;
  /** Fixed local ports the transcoder sends each output from (RTP, RTCP = +1). */
  readonly #sendPorts = new Map<string, number>();
  readonly #ssrcs = new Map<string, number>();
  #running: Running | undefined;
  /** The hall's camera and microphone the transcoder was last started on. */
  #wanted: { camera?: string; mic?: string } = {};
  readonly #restarts: RestartBackoff;
  /** No start before this instant (a died transcoder's delay); undefined: given up until the hall changes. */
  #startAt: number | undefined = 0;
  #timer: NodeJS.Timeout | undefined;
  #caption: CaptionFile | undefined;
  #captionTimer: NodeJS.Timeout | undefined;
  #busy = false;
  #closed = false;

  private constructor(deps: HallFeedDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'sip-feed', roomId: deps.room.id });
    this.#restarts = new RestartBackoff('SIP transcoder', this.#log);
  }

  static async start(deps: HallFeedDeps): Promise<HallFeed> {
    const f = new HallFeed(deps);
    for (const o of OUTPUTS) {
      f.#sendPorts.set(o.codec, await freeRtpPort(deps.ip));
      f.#ssrcs.set(o.codec, randomInt(1, 2 ** 31));
    }
    f.#feed = await deps.room.sip.createFeed({
      streams: OUTPUTS.map((o) => ({ codec: o.codec, ssrc: f.#ssrcs.get(o.codec)!, payloadType: o.payloadType })),
    });
    if (deps.caption) {
      try {
        await f.#startCaption(deps.caption.text);
      } catch (err) {
        f.close();
        throw err;
      }
    }
    await f.#reconcile();
    f.#timer = setInterval(() => void f.#reconcile(), RECONCILE_MS);
    f.#timer.unref();
    return f;
  }

  /** The caption's file, written now and again whenever the text changes. */
  async #startCaption(text: () => string): Promise<void> {
    const caption = new CaptionFile(await fs.mkdtemp(path.join(os.tmpdir(), 'sip-caption-')));
    this.#caption = caption;
    await caption.set(text());
    this.#captionTimer = setInterval(() => {
      if (this.#closed) return;
      caption.set(text()).catch((err: unknown) => this.#log.warn({ err }, 'could not write the agenda caption'));
    }, CAPTION_MS);
    this.#captionTimer.unref();
  }

  /** The feed's producer of a codec. */
  producerOf(codec: SipMediaCodec): string {
    const s = this.#feed?.streams.find((x) => x.codec === codec);
    if (!s) throw new AppError('unavailable', `the SIP feed has no ${codec}`);
    return s.producerId;
  }

  /** Whether the transcoder runs on the hall's video (false: no camera in the hall yet). */
  get sendingVideo(): boolean {
    return this.#running?.camera !== undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    clearInterval(this.#captionTimer);
    this.#stopTranscoder();
    const caption = this.#caption;
    // After the write under way, if any: removing the folder under it could fail.
    if (caption)
      void caption
        .idle()
        .then(() => fs.rm(caption.dir, { recursive: true, force: true }))
        .catch((err: unknown) => this.#log.warn({ err }, "could not remove the caption's folder"));
    if (this.#feed && !this.#d.room.closed) this.#d.room.sip.closeFeed(this.#feed.feedId);
  }

  async #reconcile(): Promise<void> {
    if (this.#busy || this.#closed || this.#d.room.closed) return;
    this.#busy = true;
    try {
      const want = this.#d.hallProducers();
      const r = this.#running;
      const alive = r?.proc && r.proc.exitCode === null && r.proc.signalCode === null;
      const changed = want.camera !== this.#wanted.camera || want.mic !== this.#wanted.mic;
      if (alive && !changed) return;
      if (changed) {
        this.#wanted = want;
        this.#restarts.reset();
        this.#startAt = 0;
      } else if (r?.proc) {
        const { exitCode: code, signalCode: signal } = r.proc;
        this.#stopTranscoder();
        this.#ended({ code, signal, stderr: r.stderr.trim() });
      }
      if (this.#startAt === undefined || Date.now() < this.#startAt) return;
      this.#stopTranscoder();
      if (!want.mic && !want.camera) return;
      await this.#startTranscoder(want);
      if (this.#running?.proc) this.#restarts.started();
    } catch (err) {
      this.#stopTranscoder();
      this.#ended({ err });
    } finally {
      this.#busy = false;
    }
  }

  /** The transcoder ended or could not start: the next start waits, or never comes (given up). */
  #ended(detail: Record<string, unknown>): void {
    const delay = this.#restarts.ended(detail);
    this.#startAt = delay === undefined ? undefined : Date.now() + delay;
    if (delay !== undefined) setTimeout(() => void this.#reconcile(), delay).unref();
  }

  async #startTranscoder(want: { camera?: string; mic?: string }): Promise<void> {
    const { room, ip } = this.#d;
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sip-feed-'));
    if (this.#closed || room.closed) {
      void fs.rm(dir, { recursive: true, force: true });
      return;
    }
    const taps: RecordingTapInfo[] = [];
    const running: Running = {
      camera: want.camera,
      mic: want.mic,
      taps,
      proc: undefined,
      stderr: '',
      dir,
    };
    // Held from the start, so a failure half way closes what was opened.
    this.#running = running;
    // After every wait: close() (or a newer start) may have run meanwhile. What was opened
    // since is then this start's to release, as close() could not see it.
    const superseded = (): boolean => {
      if (!this.#closed && !room.closed && this.#running === running) return false;
      if (this.#running === running) this.#running = undefined;
      releaseRunning(room, running);
      return true;
    };
    const media: string[] = [];
    const inputs: { kind: 'video' | 'audio'; port: number }[] = [];
    for (const producerId of [want.camera, want.mic]) {
      if (!producerId) continue;
      const port = await freeRtpPort(ip);
      if (superseded()) return;
      const tap = await room.openRecordingTap(producerId, { ip, port });
      taps.push(tap);
      if (superseded()) return;
      inputs.push({ kind: tap.kind, port });
      media.push(...tapMedia(tap, port));
    }
    const sdpFile = path.join(dir, 'hall.sdp');
    await fs.writeFile(sdpFile, tapSdp(ip, media));
    if (superseded()) return;
    const args = [
      ...['-hide_banner', '-nostdin', '-loglevel', 'warning', '-protocol_whitelist', 'file,udp,rtp'],
      ...['-listen_timeout', '-1', '-analyzeduration', '2000000', '-i', sdpFile],
    ];
    const hasVideo = taps.some((t) => t.kind === 'video');
    const hasAudio = taps.some((t) => t.kind === 'audio');
    for (const o of OUTPUTS) {
      const video = o.codec === 'H264';
      if ((video && !hasVideo) || (!video && !hasAudio)) continue;
      const stream = this.#feed!.streams.find((s) => s.codec === o.codec)!;
      const local = this.#sendPorts.get(o.codec)!;
      const captionFile = this.#caption?.path;
      const fontFile = this.#d.caption?.fontFile;
      const scale = [
        `scale=-2:'min(${VIDEO.maxHeight},ih)'`,
        `fps=${VIDEO.fps}`,
        ...(captionFile && fontFile ? [captionFilter({ fontFile, textFile: captionFile })] : []),
      ].join(',');
      args.push(
        ...['-map', video ? '0:v:0' : '0:a:0', ...(video ? ['-vf', scale] : []), ...o.args],
        ...['-f', 'rtp', '-ssrc', String(this.#ssrcs.get(o.codec)), '-payload_type', String(o.payloadType)],
        `rtp://${stream.ip}:${stream.port}?rtcpport=${stream.rtcpPort}&localrtpport=${local}&localrtcpport=${local + 1}&pkt_size=1200`,
      );
    }
    const proc = tiedSpawn(this.#d.ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'], log: this.#log });
    running.proc = proc;
    proc.stderr!.on('data', (d: Buffer) => (running.stderr = (running.stderr + d.toString()).slice(-2000)));
    proc.on('error', (err) => this.#log.error({ err }, 'cannot run ffmpeg for the SIP feed'));
    // Taps start once ffmpeg listens on their ports, and with a key frame.
    for (const input of inputs) {
      await waitListening(ip, input.port, proc);
      if (superseded()) return;
    }
    for (const tap of taps) {
      await room.resumeRecordingTap(tap.tapId);
      if (superseded()) return;
    }
    askKeyFrames(room, taps, () => this.#running === running);
    this.#log.info({ camera: want.camera, mic: want.mic }, 'SIP transcoder started');
  }

  #stopTranscoder(): void {
    const r = this.#running;
    this.#running = undefined;
    if (r) releaseRunning(this.#d.room, r);
  }
}

/** Ends a transcoder's process, closes its taps and removes its files; safe to repeat. */
function releaseRunning(room: BroadcastRoom, r: Running): void {
  r.proc?.kill('SIGKILL');
  if (!room.closed) for (const t of r.taps.splice(0)) room.closeRecordingTap(t.tapId);
  void fs.rm(r.dir, { recursive: true, force: true });
}

/** ffmpeg decodes from a key frame: asks the taps' sources at once and again while its decoder settles. */
export function askKeyFrames(room: BroadcastRoom, taps: RecordingTapInfo[], current: () => boolean): void {
  for (const wait of [0, 1000, 3000]) {
    setTimeout(() => {
      if (!current() || room.closed) return;
      for (const tap of taps) void room.recordingKeyFrame(tap.tapId).catch(() => undefined);
    }, wait).unref();
  }
}

/** The m= lines of a tap in the SDP file ffmpeg reads its input from. */
export function tapMedia(tap: RecordingTapInfo, port: number): string[] {
  const name = tap.codec.mimeType.split('/')[1]!;
  const channels = tap.kind === 'audio' ? `/${tap.codec.channels ?? 1}` : '';
  return [
    `m=${tap.kind} ${port} RTP/AVP ${tap.codec.payloadType}`,
    `a=rtpmap:${tap.codec.payloadType} ${name}/${tap.codec.clockRate}${channels}`,
    ...(/h264/i.test(name) ? [`a=fmtp:${tap.codec.payloadType} packetization-mode=1`] : []),
    'a=recvonly',
  ];
}

/** The SDP file of taps sent to `ip`. */
export function tapSdp(ip: string, media: string[]): string {
  return ['v=0', `o=- 0 0 IN IP4 ${ip}`, 's=sip-feed', `c=IN IP4 ${ip}`, 't=0 0', ...media, ''].join('\n');
}

/** Resolves once something (ffmpeg) holds the UDP port; throws if the process ended first. */
export async function waitListening(ip: string, port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new AppError('unavailable', 'the SIP transcoder (ffmpeg) ended at start');
    }
    const s = dgram.createSocket('udp4');
    const taken = await new Promise<boolean>((resolve) => {
      s.once('error', () => {
        s.close();
        resolve(true);
      });
      s.bind(port, ip, () => {
        s.close();
        resolve(false);
      });
    });
    if (taken) return;
    if (Date.now() > deadline)
      throw new AppError('unavailable', `the SIP transcoder (ffmpeg) did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
