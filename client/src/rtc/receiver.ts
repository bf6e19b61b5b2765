// Receives the broadcast on a point page (and the floor on the host console): one recv
// transport, one consumer per producer the room announces, resumed once ready so the
// first key frame is not lost. Rebuilt from scratch after a socket reconnect or when the
// server says the transport is gone; ICE restarted when the connection fails. The point
// page's media watchdog (point/watch-media.ts) uses the same two repairs when media stalls
// while everything looks connected.
import type { Device, types as msc } from 'mediasoup-client';
import type { HandlerFactory } from 'mediasoup-client/handlers/HandlerInterface';
import type { MediaSource, ProducerInfo, RtcReceiveRequests } from '../../../server/contract/broadcast';
import type { RequestEvents } from '../../../server/contract/socket';
import { RequestError, requester, type Request, type RequestSocket } from '../net/request';
import { earlyHandlerFactory } from './early-device';
import { loadMediasoup } from './lazy-mediasoup';

export interface ReceivedTrack {
  consumerId: string;
  producerId: string;
  source: MediaSource;
  track: MediaStreamTrack;
}

export interface ReceiverEvents {
  onTrack: (t: ReceivedTrack) => void;
  onTrackEnded: (producerId: string) => void;
  onState: (state: 'connecting' | 'connected' | 'reconnecting' | 'failed') => void;
  /** A step of a (re)build done: the device loaded, the transport created, a consumer created or resumed. */
  onStep?: (step: 'device' | 'transport' | 'consumer' | 'resumed', source?: MediaSource) => void;
}

const hallFirst = (p: ProducerInfo): number => (p.source === 'host-camera' ? 0 : 1);

export class BroadcastReceiver {
  readonly #request: Request<RequestEvents<RtcReceiveRequests>>;
  #device: Device | undefined;
  #loading: Promise<Device> | undefined;
  #transport: msc.Transport | undefined;
  readonly #consumers = new Map<string, msc.Consumer>(); // by producerId
  readonly #announced = new Map<string, ProducerInfo>(); // while there is no transport
  #generation = 0;
  #iceTimer: ReturnType<typeof setTimeout> | undefined;
  #building = 0;
  #handlers: HandlerFactory | undefined;
  #warming: Promise<void> | undefined;

  constructor(
    socket: RequestSocket<RtcReceiveRequests>,
    private readonly events: ReceiverEvents,
  ) {
    this.#request = requester(socket);
  }

  get device(): Device | undefined {
    return this.#device;
  }

  get transport(): msc.Transport | undefined {
    return this.#transport;
  }

  consumers(): msc.Consumer[] {
    return [...this.#consumers.values()];
  }

  /** A (re)build is running: its consumers are not there yet, nothing to judge. */
  get building(): boolean {
    return this.#building > 0;
  }

  /** Restarts ICE on the current transport now (the media watchdog's first strike). */
  restartIce(): void {
    const transport = this.#transport;
    if (!transport || transport.closed) return;
    clearTimeout(this.#iceTimer);
    void this.#restartIce(transport);
  }

  /**
   * (Re)builds the transport and consumes every producer given, and every producer
   * announced while there was no transport. A failed build is retried with a backoff
   * (a worker death answers requests with errors until the SFU has rebuilt its routers)
   * until it works, a newer start() replaces it, or about two minutes pass. A
   * mediasoup-client chunk that did not load (RequestError `chunk_unavailable`) is not
   * retried: no import in this page can bring it back.
   */
  async start(producers: ProducerInfo[]): Promise<void> {
    const generation = ++this.#generation;
    this.#building += 1;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.#build(generation, producers);
          return;
        } catch (err) {
          if (generation !== this.#generation) return;
          if (attempt >= 30 || (err instanceof RequestError && err.code === 'chunk_unavailable')) throw err;
          this.events.onState('reconnecting');
          await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 5000)));
          if (generation !== this.#generation) return;
        }
      }
    } finally {
      this.#building -= 1;
    }
  }

  /**
   * Asks the browser for its own capabilities as soon as mediasoup-client is there
   * (rtc/early-device.ts), while the page's socket connects: the device's load then waits
   * only for the router's. Call it once, before prepare().
   */
  warmUp(): void {
    // Settles either way: a failed import is prepare()'s to report, and a handler that
    // could not be built leaves the choice to the Device.
    this.#warming ??= loadMediasoup()
      .then((lib) => void (this.#handlers ??= earlyHandlerFactory(lib)))
      .catch(() => undefined);
  }

  /**
   * Loads the device with the router's capabilities, once: a page calls it as soon as its
   * socket connects, so that it loads while the page still waits for the session's view
   * (start() then finds it loaded). A failed load is tried again by the next call.
   */
  prepare(): Promise<Device> {
    this.#loading ??= (async () => {
      // mediasoup-client is a chunk of its own (rtc/mediasoup.ts), imported while the
      // router's capabilities are asked for.
      const [lib, { routerRtpCapabilities }] = await Promise.all([
        loadMediasoup(),
        this.#request('rtc:capabilities', {}),
        this.#warming,
      ]);
      const device = new lib.Device(this.#handlers ? { handlerFactory: this.#handlers } : undefined);
      await device.load({ routerRtpCapabilities: routerRtpCapabilities as msc.RtpCapabilities });
      this.#device = device;
      this.events.onStep?.('device');
      return device;
    })();
    this.#loading.catch(() => (this.#loading = undefined));
    return this.#loading;
  }

  async #build(generation: number, producers: ProducerInfo[]): Promise<void> {
    this.#teardown();
    this.events.onState('connecting');
    const device = await this.prepare();
    if (generation !== this.#generation) return;
    const params = await this.#request('rtc:createTransport', {
      direction: 'recv',
      rtpCapabilities: device.rtpCapabilities as Record<string, unknown>,
    });
    if (generation !== this.#generation) return;
    const transport = device.createRecvTransport(params as unknown as msc.TransportOptions);
    this.#transport = transport;
    this.events.onStep?.('transport');
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#request('rtc:connectTransport', {
        transportId: transport.id,
        dtlsParameters: dtlsParameters as Record<string, unknown>,
      }).then(() => callback(), errback);
    });
    transport.on('connectionstatechange', (state) => this.#onConnectionState(transport, state));
    const all = new Map([...producers, ...this.#announced.values()].map((p) => [p.producerId, p]));
    this.#announced.clear();
    // The hall's picture first: its consumer starts the transport's ICE and DTLS and asks
    // for its key frame while the others are set up.
    for (const p of [...all.values()].sort((a, b) => hallFirst(a) - hallFirst(b))) {
      // The list may be stale (a worker death rebuilds the origin and its producers): a
      // producer gone meanwhile must not stop the others.
      await this.consume(p).catch(() => undefined);
    }
  }

  async consume(p: ProducerInfo): Promise<void> {
    const transport = this.#transport;
    if (!transport || transport.closed) {
      // Announced while the transport is being (re)built: consumed once it exists.
      this.#announced.set(p.producerId, p);
      return;
    }
    if (this.#consumers.has(p.producerId)) return;
    const c = await this.#request('rtc:consume', { transportId: transport.id, producerId: p.producerId });
    if (transport.closed) return;
    const consumer = await transport.consume({
      id: c.id,
      producerId: c.producerId,
      kind: c.kind,
      rtpParameters: c.rtpParameters as unknown as msc.RtpParameters,
      appData: { source: c.source },
    });
    this.#consumers.set(p.producerId, consumer);
    consumer.on('transportclose', () => this.#consumers.delete(p.producerId));
    this.events.onTrack({ consumerId: consumer.id, producerId: p.producerId, source: c.source, track: consumer.track });
    this.events.onStep?.('consumer', c.source);
    await this.#request('rtc:resumeConsumer', { consumerId: consumer.id });
    this.events.onStep?.('resumed', c.source);
  }

  /** The producer or consumer was closed on the server. */
  drop(ids: { producerId?: string; consumerId?: string }): void {
    if (ids.producerId) this.#announced.delete(ids.producerId);
    for (const [producerId, consumer] of this.#consumers) {
      if (producerId === ids.producerId || consumer.id === ids.consumerId) {
        consumer.close();
        this.#consumers.delete(producerId);
        this.events.onTrackEnded(producerId);
      }
    }
  }

  #onConnectionState(transport: msc.Transport, state: string): void {
    if (transport !== this.#transport) return;
    clearTimeout(this.#iceTimer);
    if (state === 'connected') this.events.onState('connected');
    else if (state === 'disconnected' || state === 'failed') {
      this.events.onState('reconnecting');
      // 'disconnected' often heals by itself; give it 2 s before restarting ICE.
      this.#iceTimer = setTimeout(() => void this.#restartIce(transport), state === 'failed' ? 0 : 2000);
    }
  }

  async #restartIce(transport: msc.Transport): Promise<void> {
    if (transport.closed || transport !== this.#transport) return;
    try {
      const { iceParameters } = await this.#request('rtc:restartIce', { transportId: transport.id });
      await transport.restartIce({ iceParameters: iceParameters as unknown as msc.IceParameters });
    } catch {
      // The transport may be gone on the server (worker died, socket replaced); the
      // page rebuilds on the next reconnect or rtc:reconnect.
      this.#iceTimer = setTimeout(() => void this.#restartIce(transport), 3000);
    }
  }

  #teardown(): void {
    clearTimeout(this.#iceTimer);
    for (const [producerId, c] of this.#consumers) {
      c.close();
      this.events.onTrackEnded(producerId);
    }
    this.#consumers.clear();
    this.#transport?.close();
    this.#transport = undefined;
  }

  close(): void {
    this.#generation++;
    this.#teardown();
  }
}
