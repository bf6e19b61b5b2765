// The hall from an SRT encoder (a vision mixer's or hardware encoder's SRT output, OBS):
// per session, on a port of SRT_INGEST_PORTS, an ffmpeg listener (Debian's, built with
// libsrt) waits for the encoder with the session's passphrase (AES-128: without it the
// handshake fails). Once the encoder sends, a second ffmpeg transcodes what arrives (any
// codec ffmpeg reads, H.264 and AAC usually) to VP8 and Opus into a plain RTP ingest on
// the origin, whose producers are the hall's `host-camera` and `host-mic` (the `ingest`
// source of hall-source.ts). The two processes are split so the ingest, and with it the
// hall's source, exists only while an encoder actually sends. When it stops, the ingest
// closes and the listener waits again.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { BroadcastRoom, PlainIngestInfo } from '../../sfu';
import type { SrtStatus } from '../contract/broadcast';
import { AppError } from '../errors';

export interface SrtIngestDeps {
  room: (sessionId: string) => Promise<BroadcastRoom>;
  ffmpegPath: string;
  listenIp: string;
  /** First and last port, inclusive: one per session listening. */
  ports: [number, number];
  /** The host name encoders reach (PUBLIC_URL's). */
  publicHost: () => string;
  logger: Logger;
  changed?: (sessionId: string, status: SrtStatus) => void;
}

/** Video the transcoder sends the points (one layer; the routers' VP8). */
const VIDEO = { payloadType: 101, kbps: 1500, gopSeconds: 2 };
const AUDIO = { payloadType: 100, kbps: 96 };
const RESTART_MS = [500, 1000, 2000, 5000];

interface Listening {
  readonly sessionId: string;
  readonly port: number;
  readonly passphrase: string;
  listener: ChildProcess | undefined;
  transcoder: ChildProcess | undefined;
  ingest: { room: BroadcastRoom; info: PlainIngestInfo } | undefined;
  /** Listener runs in a row that ended without an encoder sending (backoff). */
  idleRuns: number;
  closed: boolean;
}

export class SrtIngests {
  readonly #deps: SrtIngestDeps;
  readonly #log: Logger;
  readonly #bySession = new Map<string, Listening>();

  constructor(deps: SrtIngestDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'srt-ingest' });
  }

  status(sessionId: string): SrtStatus {
    const l = this.#bySession.get(sessionId);
    if (!l) return { url: null, port: null, passphrase: null, state: 'off' };
    const host = this.#deps.publicHost();
    return {
      url: `srt://${host.includes(':') ? `[${host}]` : host}:${l.port}?passphrase=${l.passphrase}&pbkeylen=16`,
      port: l.port,
      passphrase: l.passphrase,
      state: l.ingest ? 'receiving' : 'listening',
    };
  }

  /** Opens the session's listener (idempotent): a free port and a new passphrase. */
  async open(sessionId: string): Promise<SrtStatus> {
    if (this.#bySession.has(sessionId)) return this.status(sessionId);
    await this.#deps.room(sessionId); // not_open outside the lobby and live
    const used = new Set([...this.#bySession.values()].map((l) => l.port));
    const [first, last] = this.#deps.ports;
    let port: number | undefined;
    for (let p = first; p <= last && port === undefined; p += 1) if (!used.has(p)) port = p;
    if (port === undefined) {
      throw new AppError('limit_exceeded', `every SRT port (${first}-${last}) is in use; close another session's`);
    }
    const l: Listening = {
      sessionId,
      port,
      passphrase: randomBytes(24).toString('base64url'),
      listener: undefined,
      transcoder: undefined,
      ingest: undefined,
      idleRuns: 0,
      closed: false,
    };
    this.#bySession.set(sessionId, l);
    this.#listen(l);
    this.#log.info({ sessionId, port }, 'SRT listener opened');
    this.#changed(l);
    return this.status(sessionId);
  }

  close(sessionId: string): void {
    const l = this.#bySession.get(sessionId);
    if (!l) return;
    this.#bySession.delete(sessionId);
    l.closed = true;
    l.listener?.kill('SIGKILL');
    l.transcoder?.kill('SIGKILL');
    this.#closeIngest(l);
    this.#log.info({ sessionId, port: l.port }, 'SRT listener closed');
    this.#deps.changed?.(sessionId, this.status(sessionId));
  }

  closeAll(): void {
    for (const id of [...this.#bySession.keys()]) this.close(id);
  }

  #listen(l: Listening): void {
    const ip = this.#deps.listenIp.includes(':') ? `[${this.#deps.listenIp}]` : this.#deps.listenIp;
    const url = `srt://${ip}:${l.port}?mode=listener&passphrase=${l.passphrase}&pbkeylen=16`;
    // Remuxed as it comes (no decoding here): the transcoder starts on its first bytes.
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', url, '-map', '0', '-c', 'copy'];
    const listener = spawn(this.#deps.ffmpegPath, [...args, '-f', 'mpegts', 'pipe:1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    l.listener = listener;
    const errors = tail(listener);
    let started = false;
    listener.stdout!.on('data', (chunk: Buffer) => {
      if (started) return;
      started = true;
      listener.stdout!.pause();
      void this.#startTranscoder(l, listener, chunk);
    });
    listener.on('error', (err) => this.#log.error({ err, sessionId: l.sessionId }, 'cannot run ffmpeg for SRT'));
    listener.on('close', (code) => {
      if (l.listener === listener) l.listener = undefined;
      if (l.closed) return;
      l.idleRuns = started ? 0 : l.idleRuns + 1;
      this.#log.info({ sessionId: l.sessionId, code, stderr: errors() }, 'SRT listener ended; listening again');
      const wait = RESTART_MS[Math.min(l.idleRuns, RESTART_MS.length - 1)]!;
      setTimeout(() => !l.closed && !l.listener && this.#listen(l), wait).unref();
    });
  }

  async #startTranscoder(l: Listening, listener: ChildProcess, first: Buffer): Promise<void> {
    let room: BroadcastRoom;
    let info: PlainIngestInfo;
    const video = { ssrc: randomInt(1, 2 ** 31), payloadType: VIDEO.payloadType };
    const audio = { ssrc: randomInt(1, 2 ** 31), payloadType: AUDIO.payloadType };
    try {
      room = await this.#deps.room(l.sessionId);
      info = await room.createPlainIngest({ video, audio, rtcpMux: false });
    } catch (err) {
      this.#log.warn({ err, sessionId: l.sessionId }, 'SRT: no room to send the hall into; dropping the encoder');
      listener.kill('SIGKILL');
      return;
    }
    if (l.closed || l.listener !== listener) {
      room.closeIngest(info.ingestId);
      return;
    }
    l.ingest = { room, info };
    const rtp = (e: NonNullable<PlainIngestInfo['video']>) =>
      `rtp://${e.ip.includes(':') ? `[${e.ip}]` : e.ip}:${e.port}?rtcpport=${e.rtcpPort}&pkt_size=1200`;
    const fps = 25;
    const args = [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'mpegts', '-i', 'pipe:0'],
      ...['-map', '0:v:0', '-r', String(fps), '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8'],
      ...['-b:v', `${VIDEO.kbps}k`, '-maxrate', `${VIDEO.kbps}k`, '-g', String(fps * VIDEO.gopSeconds)],
      ...['-error-resilient', '1', '-auto-alt-ref', '0', '-lag-in-frames', '0'],
      ...['-f', 'rtp', '-ssrc', String(video.ssrc), '-payload_type', String(video.payloadType), rtp(info.video!)],
      ...['-map', '0:a:0', '-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', `${AUDIO.kbps}k`],
      ...['-f', 'rtp', '-ssrc', String(audio.ssrc), '-payload_type', String(audio.payloadType), rtp(info.audio!)],
    ];
    const transcoder = spawn(this.#deps.ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    l.transcoder = transcoder;
    const errors = tail(transcoder);
    transcoder.stdin!.on('error', () => undefined);
    transcoder.stdin!.write(first);
    listener.stdout!.pipe(transcoder.stdin!);
    listener.stdout!.resume();
    this.#log.info({ sessionId: l.sessionId, ingestId: info.ingestId }, 'SRT encoder sending; hall ingest open');
    this.#changed(l);
    transcoder.on('close', (code) => {
      if (l.transcoder === transcoder) l.transcoder = undefined;
      this.#log.info({ sessionId: l.sessionId, code, stderr: errors() }, 'SRT transcoder ended');
      // Whatever ended first, the other goes too: the listener then waits for the encoder again.
      listener.kill('SIGKILL');
      this.#closeIngest(l);
      if (!l.closed) this.#changed(l);
    });
  }

  #closeIngest(l: Listening): void {
    const ingest = l.ingest;
    l.ingest = undefined;
    if (ingest && !ingest.room.closed) ingest.room.closeIngest(ingest.info.ingestId);
  }

  #changed(l: Listening): void {
    this.#deps.changed?.(l.sessionId, this.status(l.sessionId));
  }
}

/** The last lines a process wrote to stderr, for the log when it ends. */
function tail(p: ChildProcess): () => string {
  let text = '';
  p.stderr?.on('data', (d: Buffer) => {
    text = (text + d.toString()).slice(-2000);
  });
  return () => text.trim();
}
