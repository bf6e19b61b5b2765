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
import type { FeedbackCounts } from './point-feedback';
import { HealthReporter } from './point-health';
import { CheckinQr } from './point-checkin';
import { PointView } from './point-view';
import { PointWatch } from './point-watch';
import type { ConsumerRtp } from './rtp-reader';
import { Receiver, type ReceiverStep, type RemoteTransportParams, type StreamStats } from './receiver';
import type { JoinStage } from './join-stages';
import type { PointOptions } from './point-options';
import { locatePoint } from './cluster';
import { ask } from './sockets';
import { receiveCapabilities, type Caps } from './werift-link';

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
  /**
   * Stalled on purpose (the watchdog drill), then rejoined (churn, a cut, a move) before
   * its watchdog rebuilt it: the rejoin replaced the stalled transport with one that is not.
   */
  drillLeft = false;
  /** ICE-TCP links whose consent was lost (no check answered for 30 s): each one rejoined. */
  tcpConsentLost = 0;
  disconnects = 0;
  errors: string[] = [];
  headcountSent = 0;
  /** The media watchdog: its strikes and rebuilds. */
  readonly watch: PointWatch;
  /** The briefing as this point's page would show it. */
  readonly view = new PointView();
  /** The health reports every 2 s. */
  readonly health: HealthReporter;
  #joining: Promise<void> | undefined;
  #rejoinWanted = false;
  #healthTimer: NodeJS.Timeout | undefined;
  readonly #qr = new CheckinQr(() => this.#req('checkin:qr', {}));
  #stopped = false;
  #producers = new Set<string>();
  #transportId = '';

  constructor(o: PointOptions) {
    this.o = o;
    this.watch = new PointWatch({ pointId: o.pointId, log: o.log, fleet: o.fleet, watchdog: o.watchdog });
    this.health = new HealthReporter(
      {
        pointId: o.pointId,
        media: o.media,
        tcp: o.tcp ?? false,
        healthAcks: o.healthAcks,
        onReportSent: o.onReportSent,
      },
      {
        streams: () => this.streams(),
        currentVideo: () => this.#currentVideo(),
        feedback: () => this.feedback(),
        mediaConnected: () => this.receiver?.connectedAt !== undefined,
        consumers: () => this.#producers.size,
        rebuilds: () => this.watch.rebuilds.length,
        send: (report) => this.#req('health:report', report, 10_000),
      },
    );
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
    socket.on('view', (v) => this.view.shown(v));
    socket.on('floor:you', (f) => this.view.floorYou(f.granted));
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
      if (this.receiver.blackhole && !this.drillRebuilt()) this.drillLeft = true;
      this.retired.push(this.receiver);
      void this.receiver.close();
      this.receiver = undefined;
    }
    this.#producers.clear();
    this.watch.newReceiver();
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
    this.view.shown(view);
    await Promise.all(view.producers.map((p) => this.#consume(p.producerId)));
    await connecting;
    if (receiver.localPort !== undefined) this.o.onMediaPort?.(receiver.localPort);
    this.connectedAt ??= Date.now();
  }

  /** A stage of the first join reached (kept only the first time, and never after a rejoin). */
  #stage(stage: JoinStage, at: number): void {
    if (this.rejoins || this.watch.rebuilds.length || this.tcpConsentLost || this.moves) return;
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
    // mediasoup's RTP parameters are an opaque record in the contract: read as the receiver's shape.
    const ssrc = r.expectConsumer(c.rtpParameters as unknown as ConsumerRtp, c.kind, c.source);
    await this.#req('rtc:resumeConsumer', { consumerId: c.id });
    if (c.kind === 'video' && c.source === 'host-camera') this.videoResumedAt ??= Date.now();
    // Watched from the resume on, as the page does (the floor comes and goes: not watched).
    if (ssrc !== undefined && r === this.receiver && (c.source === 'host-camera' || c.source === 'host-mic'))
      this.watch.add(ssrc, c.kind);
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
  /** Whether its watchdog rebuilt it for the drill. */
  drillRebuilt(): boolean {
    return this.watch.rebuilds.some((b) => b.reason === 'drill');
  }

  /** Whether its current receiver got video that decrypted. */
  decryptsVideo(): boolean {
    return [...(this.receiver?.streams.values() ?? [])].some((s) => s.kind === 'video' && s.decrypted > 0);
  }

  streams(): StreamStats[] {
    const out: StreamStats[] = [];
    for (const r of [...this.retired, ...(this.receiver ? [this.receiver] : [])]) out.push(...r.streams.values());
    return out;
  }

  #watch(): void {
    if (!this.o.media || this.#joining) return;
    const v = this.view.current;
    const r = this.receiver;
    const rebuild = this.watch.look({
      active: !!v && v.state === 'live' && !!this.socket?.connected && !!r,
      paused: v?.paused,
      streams: r?.streams,
      sinceJoinMs: Date.now() - this.joinStartedAt,
      drilled: r?.blackhole ?? false,
    });
    if (rebuild) void this.#join('watchdog');
  }

  #healthTick(): void {
    if (this.#stopped) return;
    this.#healthTimer = setTimeout(() => this.#healthTick(), 2000);
    this.#watch();
    if (this.socket?.connected) this.health.report();
  }

  #currentVideo(): StreamStats | undefined {
    if (!this.receiver) return undefined;
    for (const s of this.receiver.streams.values()) if (s.kind === 'video') return s;
    return undefined;
  }

  /** The current check-in QR token, asked again shortly before it rotates. */
  checkinToken(): Promise<string> {
    return this.#qr.token();
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
