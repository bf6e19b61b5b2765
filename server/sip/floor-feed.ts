// The camera and microphone of a room system holding the floor, in the codecs points
// decode: what it sends on its call's legs (H.264, G.722/G.711/Opus; SRTP undone by the
// legs) is received by the SFU (sfu/sip-media.ts, `receive`), leaves the origin as plain
// RTP through two recording taps, and one Debian ffmpeg turns it into VP8 and Opus that
// it sends into the room through the plain ingest path as the floor's `floor-camera` and
// `floor-mic` of that point (sfu/plain-ingest.ts, `floorOf`). So the points, browser and
// SIP, and the recorder receive it as they receive a browser floor holder. One floor at a
// time: at most one such transcoder runs per session. Taking the floor back closes the
// producers (the SFU does, as for a browser); close() ends the rest.
//
// A transcoder that dies while the floor is held is started again on the same taps, after
// a growing delay, and left stopped after several deaths in a row (platform/restart-
// backoff.ts, as the hall's transcoder). It sends from fixed local ports, so the ingest's
// comedia transports (locked to the first sender's address) take the new one's packets:
// the floor's producers stay, and points keep their consumers through a restart.
import type { ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import type { BroadcastRoom, RecordingTapInfo } from '../../sfu';
import { AppError } from '../errors';
import { RestartBackoff } from '../platform/restart-backoff';
import { tiedSpawn } from '../platform/tied-spawn';
import { freeRtpPort } from '../recording/ffmpeg-track';
import { askKeyFrames, tapMedia, tapSdp, waitListening } from './hall-feed';

const VIDEO = { kbps: 800, keyFrameSeconds: 2, maxHeight: 720 };
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
  /** Where the taps and the transcoder meet (the workers' ingest address). */
  ip: string;
  logger: Logger;
}

export class FloorFeed {
  readonly #d: FloorFeedDeps;
  readonly #log: Logger;
  readonly #taps: RecordingTapInfo[] = [];
  readonly #restarts: RestartBackoff;
  #ingestId: string | undefined;
  /** The transcoder's arguments and the ports it listens on (the taps'): the same for every restart. */
  #args: string[] = [];
  readonly #inputs: number[] = [];
  #proc: ChildProcess | undefined;
  /** Set once the first start is done: an end after it is restarted. */
  #up = false;
  #dir: string | undefined;
  #closed = false;

  private constructor(deps: FloorFeedDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'sip-floor', roomId: deps.room.id, pointId: deps.pointId });
    this.#restarts = new RestartBackoff('floor transcoder', this.#log);
  }

  /** Starts the transcoder; resolves when it listens and the taps flow. Throws (closed) on failure. */
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

  /** Idempotent: the transcoder, its taps and its ingest (the floor's producers with it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#proc?.kill('SIGKILL');
    const { room } = this.#d;
    if (!room.closed) {
      for (const t of this.#taps.splice(0)) room.closeRecordingTap(t.tapId);
      if (this.#ingestId) room.closeIngest(this.#ingestId);
    }
    if (this.#dir) void fs.rm(this.#dir, { recursive: true, force: true });
  }

  get running(): boolean {
    return !this.#closed && this.#proc !== undefined && this.#proc.exitCode === null && this.#proc.signalCode === null;
  }

  async #start(): Promise<void> {
    const { room, ip, camera, mic } = this.#d;
    this.#dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sip-floor-'));
    const ssrc = { video: randomInt(1, 2 ** 31), audio: randomInt(1, 2 ** 31) };
    const ingest = await room.createPlainIngest({
      ...(camera ? { video: { ssrc: ssrc.video, payloadType: VP8_PT } } : {}),
      audio: { ssrc: ssrc.audio, payloadType: OPUS_PT },
      floorOf: this.#d.pointId,
    });
    this.#ingestId = ingest.ingestId;
    this.#check();
    const media: string[] = [];
    for (const producerId of [camera, mic]) {
      if (!producerId) continue;
      const port = await freeRtpPort(ip);
      this.#check();
      const tap = await room.openRecordingTap(producerId, { ip, port });
      this.#taps.push(tap);
      this.#check();
      this.#inputs.push(port);
      media.push(...tapMedia(tap, port));
    }
    const sdpFile = path.join(this.#dir, 'floor.sdp');
    await fs.writeFile(sdpFile, tapSdp(ip, media));
    this.#check();
    const args = [
      ...['-hide_banner', '-nostdin', '-loglevel', 'warning', '-protocol_whitelist', 'file,udp,rtp'],
      ...['-listen_timeout', '-1', '-analyzeduration', '2000000', '-i', sdpFile],
    ];
    // Fixed local ports: the ingest's comedia transports keep a restarted transcoder's packets.
    const from = { video: await freeRtpPort(ip), audio: await freeRtpPort(ip) };
    this.#check();
    const out = (e: { ip: string; port: number; rtcpPort: number | undefined }, local: number) =>
      `rtp://${e.ip}:${e.port}?rtcpport=${e.rtcpPort ?? e.port + 1}&localrtpport=${local}&localrtcpport=${local + 1}&pkt_size=1200`;
    if (camera && ingest.video) {
      args.push(
        ...['-map', '0:v:0', '-vf', `scale=-2:'min(${VIDEO.maxHeight},ih)'`, '-pix_fmt', 'yuv420p'],
        ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-lag-in-frames', '0'],
        ...['-error-resilient', '1', '-auto-alt-ref', '0', '-b:v', `${VIDEO.kbps}k`, '-maxrate', `${VIDEO.kbps}k`],
        ...['-bufsize', `${VIDEO.kbps}k`, '-force_key_frames', `expr:gte(t,n_forced*${VIDEO.keyFrameSeconds})`],
        ...['-f', 'rtp', '-ssrc', String(ssrc.video), '-payload_type', String(VP8_PT), out(ingest.video, from.video)],
      );
    }
    args.push(
      ...['-map', `0:a:0`, '-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '64k', '-application', 'voip'],
      ...['-f', 'rtp', '-ssrc', String(ssrc.audio), '-payload_type', String(OPUS_PT), out(ingest.audio!, from.audio)],
    );
    this.#args = args;
    await this.#run();
    for (const tap of this.#taps) {
      await room.resumeRecordingTap(tap.tapId);
      this.#check();
    }
    this.#up = true;
    askKeyFrames(room, this.#taps, () => !this.#closed);
    this.#log.info({ camera, mic }, 'floor transcoder started');
  }

  /** Starts the transcoder (first and every restart); resolves once it listens on the taps' ports. */
  async #run(): Promise<void> {
    const proc = tiedSpawn(this.#d.ffmpegPath, this.#args, { stdio: ['ignore', 'ignore', 'pipe'], log: this.#log });
    this.#proc = proc;
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    proc.on('error', (err) => this.#log.error({ err }, "cannot run ffmpeg for the room system's floor"));
    proc.on('close', (code, signal) => {
      // The first start's failure is start()'s to report.
      if (this.#closed || this.#proc !== proc || !this.#up) return;
      const delay = this.#restarts.ended({ code, signal, stderr: stderr.trim() });
      if (delay !== undefined) setTimeout(() => void this.#restart(), delay).unref();
    });
    for (const port of this.#inputs) {
      await waitListening(this.#d.ip, port, proc);
      this.#check();
    }
    this.#restarts.started();
  }

  async #restart(): Promise<void> {
    if (this.#closed || this.#d.room.closed) return;
    try {
      await this.#run();
      askKeyFrames(this.#d.room, this.#taps, () => !this.#closed);
      this.#log.info('floor transcoder restarted');
    } catch (err) {
      if (this.#closed || this.#d.room.closed) return;
      // Ended at start (its end is counted), or alive but not listening: ending it counts it.
      this.#log.warn({ err }, 'the floor transcoder did not start again');
      this.#proc?.kill('SIGKILL');
    }
  }

  /** After every wait: close() may have run meanwhile. */
  #check(): void {
    if (this.#closed || this.#d.room.closed)
      throw new AppError('unavailable', 'the floor of the room system ended while its media started');
  }
}
