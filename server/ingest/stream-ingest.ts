// The hall from an SRT or RTMP encoder (a vision mixer's or hardware encoder's output,
// OBS): per session, on a port of SRT_INGEST_PORTS (UDP) or RTMP_INGEST_PORTS (TCP), an
// ffmpeg listener (Debian's) waits for the encoder with the session's key. SRT: the key is
// the AES-128 passphrase; without it libsrt fails the handshake. RTMP: the key is the
// application in the URL; ffmpeg logs a wrong one and would take the stream anyway, so
// the listener is killed on that log line, before anything reaches the hall. Once the
// encoder sends, a second ffmpeg transcodes what arrives (H.264 and AAC usually) to three
// VP8 simulcast layers (through an RTP funnel, rtp-funnel.ts) and Opus into a plain RTP
// ingest on the origin, whose producers are the hall's `host-camera` and `host-mic` (the
// `ingest` source of hall-source.ts). The two processes
// are split so the ingest, and with it the hall's source, exists only while an encoder
// actually sends. When it stops, the ingest closes and the listener waits again.
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { BroadcastRoom, PlainIngestInfo } from '../../sfu';
import type { SrtStatus } from '../contract/broadcast';
import { AppError } from '../errors';
import { tiedSpawn } from '../platform/tied-spawn';
import { RtpFunnel } from './rtp-funnel';

export type StreamProtocol = 'srt' | 'rtmp';

export interface StreamIngestDeps {
  protocol: StreamProtocol;
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

/** Video the transcoder sends the points: the routers' VP8, 25 fps, a key frame every 2 s in each layer. */
const VIDEO = { payloadType: 101, fps: 25, gopSeconds: 2 };
/**
 * The simulcast layers, lowest first (the plain ingest's order), as the host console sends
 * them. The bitrates are declared to the ingest: the points' layer choice weighs its links
 * against them, as it does the console's.
 */
const LAYERS = [
  { height: 180, kbps: 150 },
  { height: 360, kbps: 500 },
  { height: 720, kbps: 1200 },
];
const AUDIO = { payloadType: 100, kbps: 96 };
const RESTART_MS = [500, 1000, 2000, 5000];
/** RTMP: the stream name under the session's key (OBS: Server = the URL up to the key, Stream Key = this). */
export const RTMP_STREAM = 'hall';
/** What ffmpeg's RTMP listener logs for an application or stream it was not told to expect. */
const RTMP_WRONG_KEY = /App field don't match up|Unexpected stream/;

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

export class StreamIngests {
  readonly #deps: StreamIngestDeps;
  readonly #log: Logger;
  readonly #bySession = new Map<string, Listening>();

  constructor(deps: StreamIngestDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: `${deps.protocol}-ingest` });
  }

  status(sessionId: string): SrtStatus {
    const l = this.#bySession.get(sessionId);
    if (!l) return { url: null, port: null, passphrase: null, state: 'off' };
    const host = this.#deps.publicHost();
    const base = `${this.#deps.protocol}://${host.includes(':') ? `[${host}]` : host}:${l.port}`;
    return {
      url:
        this.#deps.protocol === 'srt'
          ? `${base}?passphrase=${l.passphrase}&pbkeylen=16`
          : `${base}/${l.passphrase}/${RTMP_STREAM}`,
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
      const what = this.#deps.protocol.toUpperCase();
      throw new AppError('limit_exceeded', `every ${what} port (${first}-${last}) is in use; close another session's`);
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
    this.#log.info({ sessionId, port }, 'listener opened');
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
    this.#log.info({ sessionId, port: l.port }, 'listener closed');
    this.#deps.changed?.(sessionId, this.status(sessionId));
  }

  closeAll(): void {
    for (const id of [...this.#bySession.keys()]) this.close(id);
  }

  #listen(l: Listening): void {
    const ip = this.#deps.listenIp.includes(':') ? `[${this.#deps.listenIp}]` : this.#deps.listenIp;
    const input =
      this.#deps.protocol === 'srt'
        ? ['-i', `srt://${ip}:${l.port}?mode=listener&passphrase=${l.passphrase}&pbkeylen=16`]
        : ['-listen', '1', '-i', `rtmp://${ip}:${l.port}/${l.passphrase}/${RTMP_STREAM}`];
    // Remuxed as it comes (no decoding here): the transcoder starts on its first bytes.
    const args = ['-hide_banner', '-loglevel', 'warning', '-nostdin', ...input, '-map', '0', '-c', 'copy'];
    const listener = tiedSpawn(this.#deps.ffmpegPath, [...args, '-f', 'mpegts', 'pipe:1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      log: this.#log,
    });
    l.listener = listener;
    let refused = false;
    const errors = tail(listener, (text) => {
      if (this.#deps.protocol !== 'rtmp' || refused || !RTMP_WRONG_KEY.test(text)) return;
      refused = true;
      this.#log.warn({ sessionId: l.sessionId, port: l.port }, 'RTMP encoder with a wrong key refused');
      listener.kill('SIGKILL');
    });
    let started = false;
    listener.stdout!.on('data', (chunk: Buffer) => {
      if (started || refused) return;
      started = true;
      listener.stdout!.pause();
      void this.#startTranscoder(l, listener, chunk, () => refused);
    });
    listener.on('error', (err) => this.#log.error({ err, sessionId: l.sessionId }, 'cannot run ffmpeg'));
    listener.on('close', (code) => {
      if (l.listener === listener) l.listener = undefined;
      // The encoder has gone: what a transcoder behind real time still holds is stale, so it
      // goes now rather than after encoding it (its close closes the ingest).
      if (started) l.transcoder?.kill('SIGKILL');
      if (l.closed) return;
      l.idleRuns = started ? 0 : l.idleRuns + 1;
      this.#log.info({ sessionId: l.sessionId, code, stderr: errors() }, 'listener ended; listening again');
      const wait = RESTART_MS[Math.min(l.idleRuns, RESTART_MS.length - 1)]!;
      setTimeout(() => !l.closed && !l.listener && this.#listen(l), wait).unref();
    });
  }

  async #startTranscoder(l: Listening, listener: ChildProcess, first: Buffer, refused: () => boolean): Promise<void> {
    let room: BroadcastRoom;
    let info: PlainIngestInfo;
    const ssrcs = distinctSsrcs(LAYERS.length + 1);
    const video = {
      ssrc: ssrcs[0]!,
      payloadType: VIDEO.payloadType,
      simulcastSsrcs: ssrcs.slice(1, LAYERS.length),
      layerBitratesBps: LAYERS.map((x) => x.kbps * 1000),
    };
    const audio = { ssrc: ssrcs[LAYERS.length]!, payloadType: AUDIO.payloadType };
    try {
      room = await this.#deps.room(l.sessionId);
      info = await room.createPlainIngest({ video, audio, rtcpMux: false });
    } catch (err) {
      this.#log.warn({ err, sessionId: l.sessionId }, 'no room to send the hall into; dropping the encoder');
      listener.kill('SIGKILL');
      return;
    }
    if (l.closed || l.listener !== listener || refused()) {
      room.closeIngest(info.ingestId);
      return;
    }
    let funnel: RtpFunnel;
    try {
      funnel = await RtpFunnel.open(LAYERS.length, info.video!, this.#log);
    } catch (err) {
      this.#log.error({ err, sessionId: l.sessionId }, 'cannot open the RTP funnel; dropping the encoder');
      room.closeIngest(info.ingestId);
      listener.kill('SIGKILL');
      return;
    }
    if (l.closed || l.listener !== listener || refused()) {
      funnel.close();
      room.closeIngest(info.ingestId);
      return;
    }
    l.ingest = { room, info };
    const url = (ip: string, port: number, rtcpPort?: number) =>
      `rtp://${ip.includes(':') ? `[${ip}]` : ip}:${port}?${rtcpPort ? `rtcpport=${rtcpPort}&` : ''}pkt_size=1200`;
    const rtpOut = (ssrc: number, payloadType: number, to: string) => [
      '-f',
      'rtp',
      '-ssrc',
      String(ssrc),
      '-payload_type',
      String(payloadType),
      to,
    ];
    // One decode, the frame rate capped once, then one scale and one VP8 encoder per layer,
    // each to its own funnel port. A layer is never scaled up: a picture smaller than a
    // layer's height is sent at its own size.
    const scaled = LAYERS.map((x, i) => `[s${i}]scale=-2:'min(${x.height},ih)'[v${i}]`).join(';');
    const graph = `[0:v:0]fps=${VIDEO.fps},split=${LAYERS.length}${LAYERS.map((_, i) => `[s${i}]`).join('')};${scaled}`;
    const gop = VIDEO.fps * VIDEO.gopSeconds;
    const layers = LAYERS.flatMap((x, i) => [
      ...['-map', `[v${i}]`, '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8'],
      ...['-b:v', `${x.kbps}k`, '-maxrate', `${x.kbps}k`, '-g', String(gop)],
      ...['-force_key_frames', `expr:gte(t,n_forced*${VIDEO.gopSeconds})`],
      ...['-error-resilient', '1', '-auto-alt-ref', '0', '-lag-in-frames', '0'],
      ...rtpOut(ssrcs[i]!, VIDEO.payloadType, url('127.0.0.1', funnel.inputs[i]!.rtp, funnel.inputs[i]!.rtcp)),
    ]);
    const a = info.audio!;
    const args = [
      ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'mpegts', '-i', 'pipe:0'],
      ...['-filter_complex', graph, ...layers],
      ...['-map', '0:a:0', '-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', `${AUDIO.kbps}k`],
      ...rtpOut(audio.ssrc, audio.payloadType, url(a.ip, a.port, a.rtcpPort)),
    ];
    const transcoder = tiedSpawn(this.#deps.ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe'], log: this.#log });
    l.transcoder = transcoder;
    const errors = tail(transcoder);
    transcoder.stdin!.on('error', () => undefined);
    transcoder.stdin!.write(first);
    listener.stdout!.pipe(transcoder.stdin!);
    listener.stdout!.resume();
    this.#log.info({ sessionId: l.sessionId, ingestId: info.ingestId }, 'encoder sending; hall ingest open');
    this.#changed(l);
    transcoder.on('close', (code) => {
      if (l.transcoder === transcoder) l.transcoder = undefined;
      funnel.close();
      this.#log.info({ sessionId: l.sessionId, code, stderr: errors() }, 'transcoder ended');
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

/** The last lines a process wrote to stderr, for the log when it ends; `watch` sees them as they come. */
function tail(p: ChildProcess, watch?: (text: string) => void): () => string {
  let text = '';
  p.stderr?.on('data', (d: Buffer) => {
    text = (text + d.toString()).slice(-2000);
    watch?.(text);
  });
  return () => text.trim();
}

/** `n` random SSRCs, no two alike (the ingest refuses a repeated one). */
function distinctSsrcs(n: number): number[] {
  const out = new Set<number>();
  while (out.size < n) out.add(randomInt(1, 2 ** 31));
  return [...out];
}
