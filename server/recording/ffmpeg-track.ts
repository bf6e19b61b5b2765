// One recorded track: an ffmpeg process reading the plain RTP of one recording tap (an SDP
// file says what arrives on which port) and copying it, without re-encoding, into short
// segment files. ffmpeg lists a segment in segments.csv once it is complete; each listed
// segment is hashed and announced. If ffmpeg dies, the segment it was writing is kept
// (Matroska/WebM is readable up to where it stopped) and announced as partial.
//
// ffmpeg waits for packets as long as it takes (a camera paused for minutes costs no
// restart). It honours SIGINT only between packets, and a second SIGINT would abort the
// last segment instead of finishing it; so stop() sends it an RTCP BYE, which its RTP
// input takes as the end of the stream, packets flowing or not: it writes the last
// segment, lists it and exits. SIGINT, then SIGKILL, only if that BYE goes unheeded.
//
// Why ffmpeg (Debian's) rather than GStreamer: the SDP demuxer and the segment muxer do
// the whole job with `-c copy` in one process and one command line; Debian ships it with
// VP8, H264 and Opus in WebM/Matroska, and the tests already use it (ffmpeg as publisher,
// ffprobe to check files). GStreamer would need a pipeline per codec (rtpvp8depay,
// rtpopusdepay, splitmuxsink) and more packages for the same result.
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import dgram from 'node:dgram';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { RecordingTapInfo } from '../../sfu';
import { tiedSpawn } from '../platform/tied-spawn';

export interface SegmentFile {
  /** The file name, in the track's folder. */
  file: string;
  bytes: number;
  sha256: string;
  /** Seconds, from ffmpeg's list; null for a partial segment (ffmpeg died writing it). */
  seconds: number | null;
}

export interface FfmpegTrackOptions {
  dir: string;
  tap: Pick<RecordingTapInfo, 'kind' | 'codec'>;
  port: number;
  segmentSeconds: number;
  ffmpegPath: string;
  /** The owner's set of running recorder processes (each added at spawn, removed at exit). */
  processes?: Set<ChildProcess>;
  /** The number of the first segment file (a restarted ffmpeg continues the numbering). */
  startNumber: number;
  log: Logger;
}

interface TrackEvents {
  segment: [SegmentFile];
  /**
   * ffmpeg exited; `expected` when stop() asked it to. Not expected: `died` when killed
   * by a signal, else it ended by itself (a BYE from the sender, or an error).
   */
  exit: [{ expected: boolean; died: boolean; code: number | null; signal: NodeJS.Signals | null }];
}

const LIST = 'segments.csv';
/** After a BYE, how long ffmpeg may take to finish before SIGINT, and before SIGKILL. */
const BYE_GRACE_MS = 3000;
const STOP_GRACE_MS = 8000;
const READY_WAIT_MS = 5000;

/**
 * An RTCP BYE (RFC 3550, 6.6) to the recorder's RTCP port. ffmpeg's RTP input ignores
 * packets under 12 bytes, so it names two sources rather than one.
 */
export const RTCP_BYE = Buffer.from([0x82, 203, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);

async function sendBye(ip: string, port: number): Promise<void> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.send(RTCP_BYE, port + 1, ip, () => resolve()));
  s.close();
}

/** A local UDP port with the next one free too (RTP and RTCP), found by binding both. */
export async function freeRtpPort(ip: string): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const a = dgram.createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      a.once('error', reject);
      a.bind(0, ip, () => resolve(a.address().port));
    });
    if (port % 2 !== 0 || port >= 65535) {
      a.close();
      continue;
    }
    const b = dgram.createSocket('udp4');
    const free = await new Promise<boolean>((resolve) => {
      b.once('error', () => resolve(false));
      b.bind(port + 1, ip, () => resolve(true));
    });
    a.close();
    b.close();
    if (free) return port;
  }
  throw new Error('no free pair of UDP ports for a recorder');
}

/** True once something (ffmpeg) holds the port. */
async function portTaken(ip: string, port: number): Promise<boolean> {
  const s = dgram.createSocket('udp4');
  return new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(true));
    s.bind(port, ip, () => {
      s.close();
      resolve(false);
    });
  });
}

export function sdpFor(tap: FfmpegTrackOptions['tap'], ip: string, port: number): string {
  const { codec } = tap;
  const name = codec.mimeType.split('/')[1]!;
  const channels = tap.kind === 'audio' ? `/${codec.channels ?? 1}` : '';
  const fmtp = /h264/i.test(name) ? [`a=fmtp:${codec.payloadType} packetization-mode=1`] : [];
  return [
    'v=0',
    `o=- 0 0 IN IP4 ${ip}`,
    's=recording',
    `c=IN IP4 ${ip}`,
    't=0 0',
    `m=${tap.kind} ${port} RTP/AVP ${codec.payloadType}`,
    `a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${channels}`,
    ...fmtp,
    'a=recvonly',
    '',
  ].join('\n');
}

/** WebM for what WebM carries (VP8, VP9, Opus), Matroska otherwise. */
export const segmentExtension = (mimeType: string) => (/vp8|vp9|opus/i.test(mimeType) ? 'webm' : 'mkv');

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export class FfmpegTrack extends EventEmitter<TrackEvents> {
  readonly #o: FfmpegTrackOptions;
  readonly #ext: string;
  readonly #seen = new Set<string>();
  #proc: ChildProcess | undefined;
  #poll: NodeJS.Timeout | undefined;
  #stopping = false;
  #starting: Promise<void> | undefined;
  #exited: Promise<void> = Promise.resolve();
  #scan: Promise<void> = Promise.resolve();
  #stderr = '';
  #ip = '';

  private constructor(o: FfmpegTrackOptions) {
    super();
    this.#o = o;
    this.#ext = segmentExtension(o.tap.codec.mimeType);
  }

  /** Starts ffmpeg and resolves once it listens on the port. */
  static async start(o: FfmpegTrackOptions, ip: string): Promise<FfmpegTrack> {
    await fs.mkdir(o.dir, { recursive: true });
    const t = new FfmpegTrack(o);
    await t.#spawn(ip);
    return t;
  }

  /** The number after the highest segment file seen (a restart continues from it). */
  get nextNumber(): number {
    let n = this.#o.startNumber;
    for (const f of this.#seen) n = Math.max(n, Number(/(\d+)/.exec(f)?.[1] ?? 0) + 1);
    return n;
  }

  get running(): boolean {
    return this.#proc !== undefined;
  }

  async #spawn(ip: string): Promise<void> {
    const o = this.#o;
    this.#ip = ip;
    const sdpFile = path.join(o.dir, `track-${o.startNumber}.sdp`);
    await fs.writeFile(sdpFile, sdpFor(o.tap, ip, o.port));
    const args = [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'warning',
      '-protocol_whitelist',
      'file,udp,rtp',
      // Never give up on silence: -1 waits for ever (the SDP input's default is 10 s).
      '-listen_timeout',
      '-1',
      '-i',
      sdpFile,
      '-map',
      '0',
      '-c',
      'copy',
      '-f',
      'segment',
      '-segment_time',
      String(o.segmentSeconds),
      '-segment_format',
      this.#ext === 'webm' ? 'webm' : 'matroska',
      '-segment_list',
      path.join(o.dir, LIST),
      '-segment_list_type',
      'csv',
      '-segment_start_number',
      String(o.startNumber),
      '-reset_timestamps',
      '1',
      path.join(o.dir, `seg-%05d.${this.#ext}`),
    ];
    const proc = tiedSpawn(o.ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'], log: o.log });
    this.#proc = proc;
    o.processes?.add(proc);
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-2000);
    });
    this.#exited = new Promise<void>((resolve) => {
      proc.once('exit', (code, signal) => {
        o.processes?.delete(proc);
        if (this.#proc === proc) this.#proc = undefined;
        clearInterval(this.#poll);
        const expected = this.#stopping;
        const died = !expected && signal !== null;
        if (died) o.log.warn({ code, signal, stderr: this.#stderr.slice(-500) }, 'recorder process died');
        else if (!expected) o.log.debug({ code }, 'recorder ended: no packets for a while');
        void this.#rescan(true).finally(() => {
          this.emit('exit', { expected, died, code, signal });
          resolve();
        });
      });
    });
    proc.once('error', (err) => o.log.error({ err }, 'could not start the recorder (ffmpeg)'));
    this.#poll = setInterval(() => void this.#rescan(false), 1000);
    this.#poll.unref();
    const deadline = Date.now() + READY_WAIT_MS;
    while (this.#proc === proc && !(await portTaken(ip, o.port))) {
      if (Date.now() > deadline) {
        // It waits for packets for ever: one that never listened is not left behind.
        this.#stopping = true;
        proc.kill('SIGKILL');
        throw new Error(`ffmpeg did not listen on ${o.port}: ${this.#stderr.slice(-300)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (this.#proc !== proc) throw new Error(`ffmpeg exited at start: ${this.#stderr.slice(-300)}`);
  }

  /** Starts a new ffmpeg on the same port after one died, continuing the numbering. */
  async restart(ip: string): Promise<void> {
    if (this.#starting) return this.#starting;
    if (this.#proc || this.#stopping) return;
    this.#o.startNumber = this.nextNumber;
    this.#starting = this.#spawn(ip).finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  /** Asks ffmpeg to finish its segment and exit (killed if stuck); resolves when all is listed. */
  async stop(): Promise<void> {
    this.#stopping = true;
    // A restart under way gets its process first, so that one is stopped too.
    await this.#starting?.catch(() => undefined);
    const proc = this.#proc;
    if (proc) {
      await sendBye(this.#ip, this.#o.port).catch(() => undefined);
      const interrupt = setTimeout(() => proc.kill('SIGINT'), BYE_GRACE_MS);
      const kill = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
      await this.#exited;
      clearTimeout(interrupt);
      clearTimeout(kill);
    }
    await this.#scan;
  }

  /** Announces the segments ffmpeg listed; after an exit, also those it never listed. */
  #rescan(final: boolean): Promise<void> {
    this.#scan = this.#scan
      .then(() => this.#readList(final))
      .catch((err: unknown) => {
        this.#o.log.warn({ err }, 'could not read the recorded segments');
      });
    return this.#scan;
  }

  async #readList(final: boolean): Promise<void> {
    const dir = this.#o.dir;
    const listed = new Map<string, number>();
    const text = await fs.readFile(path.join(dir, LIST), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      const [file, start, end] = line.split(',');
      if (file && end !== undefined) listed.set(file, Math.round((Number(end) - Number(start)) * 1000) / 1000);
    }
    const files = final
      ? (await fs.readdir(dir)).filter((f) => f.startsWith('seg-') && f.endsWith(`.${this.#ext}`)).sort()
      : [...listed.keys()];
    for (const file of files) {
      if (this.#seen.has(file)) continue;
      const full = path.join(dir, file);
      const stat = await fs.stat(full).catch(() => undefined);
      if (!stat || stat.size === 0) continue;
      this.#seen.add(file);
      this.emit('segment', {
        file,
        bytes: stat.size,
        sha256: await sha256File(full),
        seconds: listed.get(file) ?? null,
      });
    }
  }
}
