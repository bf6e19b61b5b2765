// One virtual connection point: its join link's token, the real `/point` Socket.IO
// signalling, a real WebRTC receive transport consuming every producer of the hall,
// a health report every 2 s, a headcount, the rotating check-in QR code, and a rejoin
// whenever the socket or the transport is cut. Like the page, a media watchdog
// (client/src/point/media-watchdog.ts, the same decisions) rebuilds the transport and
// consumers when the hall's media stalls while everything looks connected, and counts it.
import { io as connect } from 'socket.io-client';
import type { AnswerOf, PayloadOf } from '../../client/src/net/request';
import type { PointSocket } from '../../client/src/net/sockets';
import type { PointClientEvents } from '../../server/contract/namespaces';
import { MediaWatchdog, type WatchedTrack } from '../../client/src/point/media-watchdog';
import type { FeedbackCounts } from './point-feedback';
import type { Gate } from './gate';
import { Receiver, lostOf, type ReceiverStep, type RemoteTransportParams, type StreamStats } from './receiver';
import { Reservoir } from './stats';
import { locatePoint } from './cluster';
import { ask } from './sockets';
import { receiveCapabilities, type Caps } from './werift-link';

export interface PointOptions {
  baseUrl: string;
  /**
   * Cluster mode: ask this control server where the point lives (GET
   * /cluster/v1/join/:token/node, as the page does) before connecting and again before
   * each reconnect; socket and media go to the node it names.
   */
  controlUrl?: string;
  pointId: string;
  token: string;
  /** Expected delegates: what the headcount reports. */
  headcount: number;
  media: boolean;
  decryptEvery: number;
  /** No RTCP back and no header extensions negotiated (the generator's first receivers). */
  silent?: boolean;
  /** Offer video/rtx as Chromium does (NACKed packets come back on an RTX stream); not when silent. */
  rtx?: boolean;
  /** ICE-TCP to the transport's TCP candidate instead of UDP (a network that blocks UDP). */
  tcp?: boolean;
  /** Called with each receive transport's local UDP port once connected (the impaired link). */
  onMediaPort?: (port: number) => void;
  /** The run's DTLS handshakes, a few at a time (shared by all points). */
  handshakes?: Gate;
  /** Health reports go here (ack latency), shared by all points. */
  healthAcks: Reservoir;
  /** Called with the marker (rttMs) of each report sent, for the monitor probe. */
  onReportSent?: (pointId: string, marker: number, at: number) => void;
  log: (msg: string) => void;
}

/** What this receiver reads of a consumer's RTP parameters. */
interface RtpParams {
  encodings?: { ssrc?: number; rtx?: { ssrc: number } }[];
  codecs: { clockRate: number; payloadType: number }[];
  headerExtensions?: { uri: string; id: number }[];
}

const TRANSPORT_CC = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

/** One watchdog rebuild: when, and what the stalled streams had seen (the root cause stays visible). */
export interface WatchdogRebuild {
  /** ms since the point's join started. */
  atMs: number;
  attempt: number;
  stalled: { kind: 'audio' | 'video'; received: number; decrypted: number; authFailures: number }[];
}

/**
 * The stages of a point's first join, in order: the socket connected, the server's answer
 * to rtc:createTransport, ICE connected, DTLS connected (the SRTP keys), the first RTP
 * packet decrypted, the first video key frame complete (its last packet read).
 */
export const JOIN_STAGES = ['socket', 'transport', 'ice', 'dtls', 'firstRtp', 'keyFrame'] as const;
export type JoinStage = (typeof JOIN_STAGES)[number];

export class VirtualPoint {
  readonly o: PointOptions;
  socket: PointSocket | undefined;
  /** The node the socket and media go to (baseUrl unless a cluster assigned another). */
  nodeUrl = '';
  /** Times the cluster moved this point to another node. */
  moves = 0;
  receiver: Receiver | undefined;
  /** Receivers replaced by a rejoin: their counters still count. */
  readonly retired: Receiver[] = [];
  joinStartedAt = 0;
  /** First video key frame after the first join started (ms), the join figure. */
  joinMs: number | undefined;
  signalledAt: number | undefined;
  connectedAt: number | undefined;
  /** When the first hall video consumer was resumed (epoch ms). */
  videoResumedAt: number | undefined;
  /** When the first join reached each stage (epoch ms; its retries count, rejoins do not). */
  readonly stages: Partial<Record<JoinStage, number>> = {};
  rejoins = 0;
  /** ICE-TCP links whose consent was lost (no check answered for 30 s): each one rejoined. */
  tcpConsentLost = 0;
  disconnects = 0;
  errors: string[] = [];
  headcountSent = 0;
  reportsSent = 0;
  reportsFailed = 0;
  /** The media watchdog's strikes (a stall noticed) and rebuilds, as the page counts them. */
  readonly watchdog = new MediaWatchdog();
  readonly watchdogRebuilds: WatchdogRebuild[] = [];
  /** The hall's streams of the current receiver (SSRC → kind): what the watchdog watches. */
  #hall = new Map<number, 'audio' | 'video'>();
  #receiverSeq = 0;
  #view: { state: string; paused: { video: boolean; audio: boolean } } | undefined;
  /**
   * When this point's view last turned to each agenda item (`agenda:<index>`) and floor
   * holder (`floor:<pointId>`, `floor:` for none), and last heard `floor:you`
   * (`you:true`, `you:false`), epoch ms: what the host's actions are timed against.
   */
  readonly viewChanges = new Map<string, number>();
  #viewKeys = { agenda: '', floor: '' };
  #joining: Promise<void> | undefined;
  #rejoinWanted = false;
  #healthTimer: NodeJS.Timeout | undefined;
  #lastAckMs: number | null = null;
  #reportSeq = 0;
  #prev = { received: 0, lost: 0, bytes: 0, frames: 0, at: 0 };
  #qr: { token: string; rotateAt: number } | undefined;
  #qrPending: Promise<string> | undefined;
  #stopped = false;
  #producers = new Set<string>();
  #transportId = '';

  constructor(o: PointOptions) {
    this.o = o;
  }

  /** A request of the contract's `/point` namespace; throws `<event>: <code> <message>`. */
  async #req<K extends keyof PointClientEvents & string>(
    event: K,
    payload: PayloadOf<PointClientEvents[K]>,
    timeoutMs = 15_000,
  ): Promise<AnswerOf<PointClientEvents[K]>> {
    if (!this.socket) throw new Error(`${event}: not connected`);
    return ask(this.socket, event, payload, timeoutMs);
  }

  /** Opens the socket; media and reports follow on their own. Resolves once signalled. */
  async start(): Promise<void> {
    this.joinStartedAt = Date.now();
    this.nodeUrl = this.o.controlUrl ? await locatePoint(this.o.controlUrl, this.o.token) : this.o.baseUrl;
    this.#healthTimer = setTimeout(() => this.#healthTick(), 2000 * Math.random());
    const socket = this.#open(this.nodeUrl);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (e) => {
        if (this.signalledAt === undefined) {
          this.errors.push(`connect_error: ${e.message}`);
          if (!socket.active) reject(e);
        }
      });
    });
  }

  #open(url: string): PointSocket {
    const socket: PointSocket = connect(`${url}/point`, {
      transports: ['websocket'],
      auth: { token: this.o.token },
      forceNew: true,
      reconnection: true,
      reconnectionAttempts: 30,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
      timeout: 20_000,
    });
    this.socket = socket;
    socket.on('disconnect', (reason) => {
      if (this.#stopped || socket !== this.socket) return;
      this.disconnects += 1;
      this.o.log(`point ${this.o.pointId} disconnected: ${reason}`);
    });
    socket.on('connect', () => {
      if (this.#stopped || socket !== this.socket) return;
      const first = this.signalledAt === undefined;
      if (first) {
        this.signalledAt = Date.now();
        this.#stage('socket', this.signalledAt);
      } else this.rejoins += 1;
      void this.#join('connect');
    });
    // In a cluster a reconnect asks again where to go: a dead edge's points move.
    if (this.o.controlUrl)
      socket.io.on('reconnect_attempt', () => {
        void this.#relocate(socket);
      });
    socket.on('rtc:reconnect', () => {
      this.rejoins += 1;
      void this.#join('rtc:reconnect');
    });
    socket.on('rtc:newProducer', (p) => {
      if (this.receiver && !this.#producers.has(p.producerId)) void this.#consume(p.producerId).catch(() => undefined);
    });
    socket.on('kicked', (k) => this.errors.push(`kicked: ${k.reason}`));
    socket.on('view', (v) => {
      this.#view = { state: v.state, paused: v.paused };
      this.#noteView(v);
    });
    socket.on('floor:you', (f) => this.viewChanges.set(`you:${f.granted}`, Date.now()));
    return socket;
  }

  async #relocate(socket: PointSocket): Promise<void> {
    const url = await locatePoint(this.o.controlUrl!, this.o.token).catch(() => undefined);
    if (!url || url === this.nodeUrl || this.#stopped || socket !== this.socket) return;
    this.o.log(`point ${this.o.pointId} moves from ${this.nodeUrl} to ${url}`);
    this.moves += 1;
    this.nodeUrl = url;
    socket.close();
    this.#open(url);
  }

  #join(why: string): Promise<void> {
    if (this.#joining) {
      this.#rejoinWanted = true;
      return this.#joining;
    }
    this.#joining = (async () => {
      do {
        this.#rejoinWanted = false;
        try {
          await this.#joinOnce();
        } catch (err) {
          this.errors.push(`${why}: ${(err as Error).message}`);
          if (this.errors.length > 50) this.errors.splice(0, 25);
          if (!this.#stopped && this.socket?.connected) {
            await new Promise((r) => setTimeout(r, 1000 + Math.random() * 1000));
            this.#rejoinWanted = true;
          }
        }
      } while (this.#rejoinWanted && !this.#stopped && this.socket?.connected);
    })().finally(() => {
      this.#joining = undefined;
    });
    return this.#joining;
  }

  async #joinOnce(): Promise<void> {
    if (this.#headcountPending()) {
      await this.#req('headcount:report', { count: this.o.headcount, by: 'loadgen' });
      this.headcountSent = this.o.headcount;
    }
    if (!this.o.media) return;
    if (this.receiver) {
      this.retired.push(this.receiver);
      void this.receiver.close();
      this.receiver = undefined;
    }
    this.#producers.clear();
    this.#hall = new Map();
    this.#receiverSeq += 1;
    const caps = await this.#req('rtc:capabilities', {});
    // mediasoup's own objects are opaque records in the contract, as on the page: read
    // here as the shapes this receiver uses.
    const rtpCapabilities = receiveCapabilities(caps.routerRtpCapabilities as Caps, this.o.silent, this.o.rtx ?? false);
    const params = await this.#req('rtc:createTransport', {
      direction: 'recv',
      rtpCapabilities,
    });
    this.#stage('transport', Date.now());
    const receiver = new Receiver({
      decryptEvery: this.o.decryptEvery,
      silent: this.o.silent ?? false,
      handshakes: this.o.handshakes,
      tcp: this.o.tcp ?? false,
    });
    this.receiver = receiver;
    receiver.onStep = (step: ReceiverStep, at: number) => this.#stage(step, at);
    // The SFU stopped answering over TCP: the link is closed; the media is rebuilt now
    // rather than when the watchdog sees it stop.
    receiver.onIceLost = () => {
      if (this.#stopped || receiver !== this.receiver) return;
      this.tcpConsentLost += 1;
      this.o.log(`point ${this.o.pointId} lost ICE-TCP consent: rejoining`);
      void this.#join('ICE-TCP consent lost');
    };
    this.#transportId = params.id;
    await this.#req('rtc:connectTransport', {
      transportId: params.id,
      dtlsParameters: await Receiver.dtlsParameters(),
    });
    const connecting = receiver.connect(params as RemoteTransportParams);
    // Awaited below; if a request in between fails first, its own failure must not end
    // the process as an unhandled rejection.
    connecting.catch(() => undefined);
    const view = await this.#req('view:get', {});
    this.#view = { state: view.state, paused: view.paused };
    this.#noteView(view);
    await Promise.all(view.producers.map((p) => this.#consume(p.producerId)));
    await connecting;
    if (receiver.localPort !== undefined) this.o.onMediaPort?.(receiver.localPort);
    this.connectedAt ??= Date.now();
  }

  #noteView(v: { caption: { index: number } | null; floor: { pointId: string } | null }): void {
    const keys = { agenda: `agenda:${v.caption?.index ?? ''}`, floor: `floor:${v.floor?.pointId ?? ''}` };
    const now = Date.now();
    if (keys.agenda !== this.#viewKeys.agenda) this.viewChanges.set(keys.agenda, now);
    if (keys.floor !== this.#viewKeys.floor) this.viewChanges.set(keys.floor, now);
    this.#viewKeys = keys;
  }

  /** A stage of the first join reached (kept only the first time, and never after a rejoin). */
  #stage(stage: JoinStage, at: number): void {
    if (this.rejoins || this.watchdogRebuilds.length || this.tcpConsentLost || this.moves) return;
    this.stages[stage] ??= at;
  }

  #headcountPending(): boolean {
    return this.headcountSent === 0 && this.o.headcount > 0;
  }

  async #consume(producerId: string): Promise<void> {
    const r = this.receiver;
    if (!r) return;
    this.#producers.add(producerId);
    const c = await this.#req('rtc:consume', { transportId: this.#transportId, producerId });
    const rtp = c.rtpParameters as unknown as RtpParams;
    const ssrc = rtp.encodings?.[0]?.ssrc;
    if (ssrc !== undefined) r.expect(ssrc, c.kind, rtp.codecs[0]?.clockRate ?? 90000, c.source);
    const rtxSsrc = rtp.encodings?.[0]?.rtx?.ssrc;
    if (ssrc !== undefined && rtxSsrc !== undefined) r.expectRtx(rtxSsrc, ssrc, rtp.codecs[0]!.payloadType);
    const tcc = rtp.headerExtensions?.find((h) => h.uri === TRANSPORT_CC);
    if (tcc) r.tccExtId = tcc.id;
    await this.#req('rtc:resumeConsumer', { consumerId: c.id });
    if (c.kind === 'video' && c.source === 'host-camera') this.videoResumedAt ??= Date.now();
    // Watched from the resume on, as the page does (the floor comes and goes: not watched).
    if (ssrc !== undefined && r === this.receiver && (c.source === 'host-camera' || c.source === 'host-mic'))
      this.#hall.set(ssrc, c.kind);
  }

  /** The RTCP this point sent and its recovery (NACK, freezes), over all its transports; undefined when silent. */
  feedback(): FeedbackCounts | undefined {
    let sum: FeedbackCounts | undefined;
    for (const r of [...this.retired, ...(this.receiver ? [this.receiver] : [])]) {
      const c = r.feedback?.counts;
      if (!c) continue;
      if (!sum) sum = { ...c };
      else for (const k of Object.keys(c) as (keyof FeedbackCounts)[]) sum[k] += c[k];
    }
    return sum;
  }

  /** All streams ever received by this point (current and replaced transports). */
  streams(): StreamStats[] {
    const out: StreamStats[] = [];
    for (const r of [...this.retired, ...(this.receiver ? [this.receiver] : [])]) out.push(...r.streams.values());
    return out;
  }

  /**
   * The page's watchdog, judged on what this generator can see: decrypted packets for
   * video (packets that arrive but never authenticate are as black as none), packets for
   * audio. werift's ICE restart is not wired, so the first strike only waits; the second
   * rebuilds the transport and consumers through the same join as a reconnect.
   */
  #watch(): void {
    if (!this.o.media || this.#joining) return;
    const v = this.#view;
    const r = this.receiver;
    const active = !!v && v.state === 'live' && !!this.socket?.connected && !!r;
    const tracks: WatchedTrack[] = [];
    if (active)
      for (const [ssrc, kind] of this.#hall) {
        if (kind === 'video' ? v.paused.video : v.paused.audio) continue;
        const s = r.streams.get(ssrc);
        tracks.push({
          key: `${this.#receiverSeq}:${ssrc}`,
          progress: !s ? 0 : kind === 'video' ? s.decrypted : s.received,
        });
      }
    const action = this.watchdog.observe(performance.now(), active, tracks);
    if (action.type !== 'rebuild' || !r) return;
    const stalled = action.stalled.map((key) => {
      const ssrc = Number(key.split(':')[1]);
      const s = r.streams.get(ssrc);
      return {
        kind: this.#hall.get(ssrc) ?? 'video',
        received: s?.received ?? 0,
        decrypted: s?.decrypted ?? 0,
        authFailures: s?.authFailures ?? 0,
      };
    });
    this.watchdogRebuilds.push({ atMs: Date.now() - this.joinStartedAt, attempt: action.attempt, stalled });
    this.o.log(
      `point ${this.o.pointId} watchdog rebuild #${action.attempt}: ${stalled
        .map((s) => `${s.kind} ${s.received} packets, ${s.decrypted} decrypted`)
        .join('; ')}`,
    );
    void this.#join('watchdog');
  }

  #healthTick(): void {
    if (this.#stopped) return;
    this.#healthTimer = setTimeout(() => this.#healthTick(), 2000);
    this.#watch();
    if (!this.socket?.connected) return;
    const now = Date.now();
    let received = 0;
    let lost = 0;
    let bytes = 0;
    let frames = 0;
    let jitterMs: number | null = null;
    for (const s of this.streams()) {
      received += s.received;
      lost += lostOf(s);
      bytes += s.bytes;
      frames += s.frames;
      if (s.kind === 'video' && s === this.#currentVideo()) jitterMs = (s.jitter / s.clockRate) * 1000;
    }
    const dt = this.#prev.at ? (now - this.#prev.at) / 1000 : 2;
    const fb = this.feedback();
    const dRecv = received - this.#prev.received;
    const dLost = Math.max(0, lost - this.#prev.lost);
    // The media path's RTT is not measured here; the report carries a marker instead
    // (5-104 ms, whole so that the monitor page's rounded RTT shows it as sent; unique
    // among a point's last 100 reports) so the monitor probes can find this report's tile.
    const marker = 5 + (++this.#reportSeq % 100);
    const report: PayloadOf<PointClientEvents['health:report']> = {
      transportState: !this.o.media ? null : this.receiver?.connectedAt ? 'connected' : 'connecting',
      protocol: this.o.media && this.receiver?.connectedAt ? (this.o.tcp ? 'tcp' : 'udp') : null,
      rttMs: marker,
      signalRttMs: this.#lastAckMs,
      lossPct: dRecv + dLost > 0 ? (100 * dLost) / (dRecv + dLost) : 0,
      jitterMs: jitterMs === null ? null : Math.min(60_000, jitterMs),
      bitrateKbps: Math.min(1_000_000, ((bytes - this.#prev.bytes) * 8) / 1000 / dt),
      consumers: this.o.media ? this.#producers.size : 0,
      framesDecoded: Math.min(10_000, frames - this.#prev.frames),
      framesDropped: null,
      freezeCount: fb ? Math.min(1000, fb.freezes) : null,
      freezeMs: fb ? Math.min(600_000, Math.round(fb.freezeMs)) : null,
      width: null,
      height: null,
      audioConcealedPct: null,
      mediaRebuilds: Math.min(10_000, this.watchdogRebuilds.length),
    };
    this.#prev = { received, lost, bytes, frames, at: now };
    const sentAt = performance.now();
    this.o.onReportSent?.(this.o.pointId, marker, Date.now());
    this.reportsSent += 1;
    this.#req('health:report', report, 10_000).then(
      () => {
        const ms = performance.now() - sentAt;
        this.#lastAckMs = Math.round(ms * 10) / 10;
        this.o.healthAcks.add(ms);
      },
      () => {
        this.reportsFailed += 1;
      },
    );
  }

  #currentVideo(): StreamStats | undefined {
    if (!this.receiver) return undefined;
    for (const s of this.receiver.streams.values()) if (s.kind === 'video') return s;
    return undefined;
  }

  /** The current check-in QR token, asked again shortly before it rotates. */
  async checkinToken(): Promise<string> {
    if (this.#qr && Date.now() < this.#qr.rotateAt - 3000) return this.#qr.token;
    this.#qrPending ??= this.#req('checkin:qr', {})
      .then((q) => {
        this.#qr = { token: q.token, rotateAt: Date.parse(q.rotateAt) };
        return q.token;
      })
      .finally(() => {
        this.#qrPending = undefined;
      });
    return this.#qrPending;
  }

  /** Time from the join's start to the first video key frame (ms), if one came. */
  firstKeyFrameMs(): number | undefined {
    let first: number | undefined;
    for (const s of this.streams()) {
      if (s.kind === 'video' && s.firstKeyFrameAt !== undefined) {
        first = first === undefined ? s.firstKeyFrameAt : Math.min(first, s.firstKeyFrameAt);
      }
    }
    return first === undefined ? undefined : first - this.joinStartedAt;
  }

  /** For the watchdog drill: the current receiver stops counting media (socket and ICE stay up). */
  stall(): void {
    if (this.receiver) this.receiver.blackhole = true;
  }

  /** For the fault drill: cut this point's socket (it reconnects by itself). */
  cut(): void {
    this.socket?.io.engine?.close();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#healthTimer);
    this.socket?.close();
    await Promise.all([...this.retired, ...(this.receiver ? [this.receiver] : [])].map((r) => r.close()));
  }
}
