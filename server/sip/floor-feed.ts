// The camera and microphone of a room system holding the floor, in the codecs points
// decode: what it sends on its call's legs (H.264, G.722/G.711/Opus; SRTP undone by the
// legs) is received by the SFU (sfu/sip-media.ts, `receive`), leaves the origin as plain
// RTP through recording taps, and two Debian ffmpeg turn it into Opus (its sound) and VP8
// (its picture, when it sends one) that they send into the room through the plain ingest
// path as the floor's `floor-mic` and `floor-camera` of that point (sfu/plain-ingest.ts,
// `floorOf`). So the points, browser and SIP, and the recorder receive it as they receive
// a browser floor holder. Two processes, not one: ffmpeg's single loop holds the audio
// behind a video encode that falls behind real time, so the voice never waits for the
// picture. One floor at a time: at most one such pair runs per session. Taking the floor
// back closes the producers (the SFU does, as for a browser); close() ends the rest.
//
// Each process that dies while the floor is held is started again on its own taps, on its
// own backoff (floor-process.ts). Each sends from fixed local ports, so the ingest's
// comedia transports (locked to the first sender's address) take the new one's packets:
// the floor's producers stay, and points keep their consumers through a restart.
import { randomInt } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { BroadcastRoom, RecordingTapInfo } from '../../sfu';
import { AppError } from '../errors';
import { freeRtpPort } from '../recording/ffmpeg-track';
import { FloorProcess } from './floor-process';
import { askKeyFrames, tapMedia, tapSdp } from './hall-feed';

/** The hall's transcoder sends 25 fps too (hall-feed.ts); libvpx on two threads. */
const VIDEO = { kbps: 800, fps: 25, keyFrameSeconds: 2, maxHeight: 720, threads: 2 };
const VP8_PT = 96;
const OPUS_PT = 111;

export interface FloorFeedDeps {
  room: BroadcastRoom;
  /** The point holding the floor. */
  pointId: string;
  /** What the room system sends: producers of `room.sip.receive` (camera optional). */
  camera: string | undefined;
  mic: string;
  ffmpegPath: string;
  /** Where the taps and the transcoders meet (the workers' ingest address). */
  ip: string;
  logger: Logger;
  /** A transcoder kept dying and is left stopped: the floor is to end. */
  gaveUp(err: AppError): void;
}

type Endpoint = { ip: string; port: number; rtcpPort: number | undefined };

export class FloorFeed {
  readonly #d: FloorFeedDeps;
  readonly #log: Logger;
  readonly #taps: RecordingTapInfo[] = [];
  /** The sound's process first, then the picture's (when the room system sends one). */
  readonly #procs: FloorProcess[] = [];
  #ingestId: string | undefined;
  #dir: string | undefined;
  #closed = false;

  private constructor(deps: FloorFeedDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'sip-floor', roomId: deps.room.id, pointId: deps.pointId });
  }

  /** Starts the transcoders; resolves when they listen and the taps flow. Throws (closed) on failure. */
  static async start(deps: FloorFeedDeps): Promise<FloorFeed> {
    const f = new FloorFeed(deps);
    try {
      await f.#start();
    } catch (err) {
      f.close();
      throw err;
    }
    return f;
  }

  /** Idempotent: the transcoders, their taps and the ingest (the floor's producers with it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#procs) p.kill();
    const { room } = this.#d;
    if (!room.closed) {
      for (const t of this.#taps.splice(0)) room.closeRecordingTap(t.tapId);
      if (this.#ingestId) room.closeIngest(this.#ingestId);
    }
    if (this.#dir) void fs.rm(this.#dir, { recursive: true, force: true });
  }

  /** Every transcoder of the floor runs. */
  get running(): boolean {
    return this.#procs.length > 0 && this.#procs.every((p) => p.running);
  }

  async #start(): Promise<void> {
    const { room, camera, mic } = this.#d;
    this.#dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sip-floor-'));
    const ssrc = { video: randomInt(1, 2 ** 31), audio: randomInt(1, 2 ** 31) };
    const ingest = await room.createPlainIngest({
      ...(camera ? { video: { ssrc: ssrc.video, payloadType: VP8_PT } } : {}),
      audio: { ssrc: ssrc.audio, payloadType: OPUS_PT },
      floorOf: this.#d.pointId,
    });
    this.#ingestId = ingest.ingestId;
    this.#check();
    const audio = [
      ...['-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '64k', '-application', 'voip'],
      ...['-f', 'rtp', '-ssrc', String(ssrc.audio), '-payload_type', String(OPUS_PT)],
    ];
    await this.#prepare('audio', mic, audio, ingest.audio!);
    if (camera && ingest.video) {
      const video = [
        ...['-vf', `scale=-2:'min(${VIDEO.maxHeight},ih)',fps=${VIDEO.fps}`, '-pix_fmt', 'yuv420p'],
        ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-threads', String(VIDEO.threads)],
        ...['-lag-in-frames', '0', '-error-resilient', '1', '-auto-alt-ref', '0'],
        ...['-b:v', `${VIDEO.kbps}k`, '-maxrate', `${VIDEO.kbps}k`, '-bufsize', `${VIDEO.kbps}k`],
        ...['-force_key_frames', `expr:gte(t,n_forced*${VIDEO.keyFrameSeconds})`],
        ...['-f', 'rtp', '-ssrc', String(ssrc.video), '-payload_type', String(VP8_PT)],
      ];
      await this.#prepare('video', camera, video, ingest.video);
    }
    for (const p of this.#procs) {
      await p.start();
      this.#check();
    }
    for (const tap of this.#taps) {
      await room.resumeRecordingTap(tap.tapId);
      this.#check();
    }
    askKeyFrames(room, this.#taps, () => !this.#closed);
    this.#log.info({ camera, mic }, 'floor transcoders started');
  }

  /**
   * One transcoder: a tap of `producerId` to a port of its own, an SDP file with that
   * m-line only (`floor-audio.sdp`, `floor-video.sdp`), and `encode` sent to `to` from a
   * fixed local port (the ingest's comedia transport keeps a restarted one's packets).
   */
  async #prepare(kind: 'audio' | 'video', producerId: string, encode: string[], to: Endpoint): Promise<void> {
    const { room, ip } = this.#d;
    const port = await freeRtpPort(ip);
    this.#check();
    const tap = await room.openRecordingTap(producerId, { ip, port });
    this.#taps.push(tap);
    this.#check();
    const sdpFile = path.join(this.#dir!, `floor-${kind}.sdp`);
    await fs.writeFile(sdpFile, tapSdp(ip, tapMedia(tap, port)));
    const local = await freeRtpPort(ip);
    this.#check();
    const args = [
      ...['-hide_banner', '-nostdin', '-loglevel', 'warning', '-protocol_whitelist', 'file,udp,rtp'],
      ...['-listen_timeout', '-1', '-analyzeduration', '2000000', '-i', sdpFile],
      ...['-map', kind === 'audio' ? '0:a:0' : '0:v:0', ...encode],
      `rtp://${to.ip}:${to.port}?rtcpport=${to.rtcpPort ?? to.port + 1}&localrtpport=${local}&localrtcpport=${local + 1}&pkt_size=1200`,
    ];
    this.#procs.push(
      new FloorProcess({
        what: `floor ${kind} transcoder`,
        ffmpegPath: this.#d.ffmpegPath,
        args,
        ip,
        inputs: [port],
        logger: this.#log,
        live: () => !this.#closed && !room.closed,
        restarted: () => askKeyFrames(room, [tap], () => !this.#closed),
        gaveUp: (err) => {
          if (!this.#closed) this.#d.gaveUp(err);
        },
      }),
    );
  }

  /** After every wait: close() may have run meanwhile. */
  #check(): void {
    if (this.#closed || this.#d.room.closed)
      throw new AppError('unavailable', 'the floor of the room system ended while its media started');
  }
}
