// Room systems over SIP, on the SFU's side. Two things:
//   feeds: what one transcoder (ffmpeg) sends back into the origin after turning the hall
//     into the codecs room systems speak (H.264, G.711, G.722): comedia PlainTransports and
//     their producers. These producers are not the room's: never listed, announced,
//     recorded or offered to the points; only legs consume them. One feed serves every
//     room system of the room, so the hall is transcoded once, not once per call.
//   legs: one stream to one room system: a PlainTransport connected to the address its SDP
//     gave (the gateway accepts only the address that signals), SRTP with SDES keys when it
//     offered them, consuming a feed's producer (or the hall's own Opus, which needs no
//     transcoding) with the payload type it offered: on the origin router when that is the
//     router's number for the codec, else on a payload router (sip-payload-routers.ts). Its
//     RTCP (receiver reports) gives the call's loss, jitter and round trip.
//   inbound: while the room system holds the floor, what it sends on a leg (its camera or
//     microphone, told apart by the SSRC its SDP names): a producer on the leg's transport,
//     never the room's (points cannot decode H.264 or G.722); a recording tap on the leg's
//     router sends it to the transcoder that makes the floor's VP8 and Opus. It closes with
//     its leg.
import { randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import { SfuError } from './errors';
import type { RoomContext } from './room-context';
import { originRoute, SipPayloadRouters, type SipRoute } from './sip-payload-routers';
import type { RoomProducers } from './room-producers';
import type { Origin } from './room-topology';
import type {
  MediaKind,
  MediaSource,
  SipFeedInfo,
  SipFeedOptions,
  SipLegInfo,
  SipLegOptions,
  SipLegReservation,
  SipLegReservationOptions,
  SipLegStats,
  SipMediaCodec,
} from './types';

/** Codecs of the feeds and legs, as the routers offer them when built with `sipCodecs`. */
const CODECS: Record<
  SipMediaCodec,
  {
    kind: MediaKind;
    mimeType: string;
    clockRate: number;
    channels?: number;
    parameters?: Record<string, string | number>;
  }
> = {
  H264: {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
  PCMU: { kind: 'audio', mimeType: 'audio/PCMU', clockRate: 8000 },
  PCMA: { kind: 'audio', mimeType: 'audio/PCMA', clockRate: 8000 },
  G722: { kind: 'audio', mimeType: 'audio/G722', clockRate: 8000 },
  opus: { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
};

/** Picture loss and full intra requests: how a room system and the SFU ask each other for a key frame. */
const KEY_FRAME_FEEDBACK: ms.RtcpFeedback[] = [
  { type: 'nack', parameter: 'pli' },
  { type: 'ccm', parameter: 'fir' },
];

/** One codec of a leg, at the payload type the room system offered. */
function capability(codec: SipMediaCodec, payloadType: number): ms.RtpCodecCapability {
  const c = CODECS[codec];
  return {
    kind: c.kind,
    mimeType: c.mimeType,
    clockRate: c.clockRate,
    preferredPayloadType: payloadType,
    ...(c.channels ? { channels: c.channels } : {}),
    ...(c.parameters ? { parameters: c.parameters } : {}),
    rtcpFeedback: c.kind === 'video' ? KEY_FRAME_FEEDBACK : [],
  };
}

interface Feed {
  readonly id: string;
  readonly transports: ms.PlainTransport[];
  readonly producers: Map<string, ms.Producer>;
}

interface Leg {
  readonly id: string;
  readonly codec: SipMediaCodec;
  readonly transport: ms.PlainTransport;
  readonly consumer: ms.Consumer;
  readonly route: SipRoute;
}

/** What a room system sends, for the recording taps: they consume it on its own router. */
export interface SipInbound {
  readonly producer: ms.Producer;
  readonly source: MediaSource;
  readonly router: ms.Router;
}

export interface SipMediaDeps extends Pick<RoomContext, 'log' | 'isClosed' | 'emit'> {
  listenIp: string;
  originReady: () => Promise<Origin>;
  producers: Pick<RoomProducers, 'get'>;
}

export class SipMedia {
  readonly #deps: SipMediaDeps;
  readonly #feeds = new Map<string, Feed>();
  readonly #legs = new Map<string, Leg>();
  readonly #inbound = new Map<string, SipInbound>();
  readonly #routes = new SipPayloadRouters();
  /** Transports of legs whose room system's address is not known yet (reserveLeg). */
  readonly #reserved = new Map<string, ms.PlainTransport>();

  constructor(deps: SipMediaDeps) {
    this.#deps = deps;
  }

  async createFeed(opts: SipFeedOptions): Promise<SipFeedInfo> {
    if (opts.streams.length === 0) throw new SfuError('bad_request', 'a feed needs at least one stream');
    const origin = await this.#deps.originReady();
    const feed: Feed = { id: `sipfeed-${randomUUID()}`, transports: [], producers: new Map() };
    this.#feeds.set(feed.id, feed);
    const info: SipFeedInfo = { feedId: feed.id, streams: [] };
    try {
      for (const s of opts.streams) {
        const c = CODECS[s.codec];
        const transport = await origin.router.createPlainTransport({
          listenIp: this.#deps.listenIp,
          comedia: true,
          rtcpMux: false,
          appData: { sipFeed: feed.id },
        });
        feed.transports.push(transport);
        transport.observer.once('close', () => this.closeFeed(feed.id));
        const producer = await transport.produce({
          kind: c.kind,
          rtpParameters: {
            codecs: [
              {
                mimeType: c.mimeType,
                clockRate: c.clockRate,
                payloadType: s.payloadType,
                ...(c.channels ? { channels: c.channels } : {}),
                ...(c.parameters ? { parameters: c.parameters } : {}),
                rtcpFeedback: c.kind === 'video' ? [{ type: 'nack', parameter: 'pli' }] : [],
              },
            ],
            encodings: [{ ssrc: s.ssrc }],
          },
          appData: { sipFeed: feed.id },
        });
        feed.producers.set(producer.id, producer);
        info.streams.push({
          codec: s.codec,
          producerId: producer.id,
          ip: transport.tuple.localIp,
          port: transport.tuple.localPort,
          rtcpPort: transport.rtcpTuple?.localPort ?? transport.tuple.localPort,
        });
      }
    } catch (err) {
      this.closeFeed(feed.id);
      if (err instanceof SfuError) throw err;
      throw new SfuError('bad_request', `cannot create the SIP feed: ${(err as Error).message}`, { cause: err });
    }
    return info;
  }

  /** Idempotent; its legs' consumers close with its producers. */
  closeFeed(feedId: string): void {
    const feed = this.#feeds.get(feedId);
    if (!feed) return;
    this.#feeds.delete(feedId);
    for (const t of feed.transports) t.close();
  }

  /**
   * A leg's transport before the room system's address is known (a call the gateway
   * places): where it listens, its SDES key and the payload types the legs send each codec
   * with, for the gateway's offer. openLeg with `reserved` completes it; closeLeg drops it.
   */
  async reserveLeg(opts: SipLegReservationOptions): Promise<SipLegReservation> {
    const origin = await this.#deps.originReady();
    const transport = await origin.router.createPlainTransport({
      listenIp: opts.listen,
      comedia: false,
      rtcpMux: false,
      ...(opts.srtpSuite ? { enableSrtp: true, srtpCryptoSuite: opts.srtpSuite } : {}),
      appData: { sipLeg: true },
    });
    const id = `sipleg-${randomUUID()}`;
    this.#reserved.set(id, transport);
    transport.observer.once('close', () => this.#reserved.delete(id));
    const payloadTypes: Partial<Record<SipMediaCodec, number>> = {};
    for (const [codec, c] of Object.entries(CODECS) as [SipMediaCodec, (typeof CODECS)[SipMediaCodec]][]) {
      const cap = origin.router.rtpCapabilities.codecs?.find(
        (x) => x.mimeType.toLowerCase() === c.mimeType.toLowerCase() && x.clockRate === c.clockRate,
      );
      if (cap?.preferredPayloadType !== undefined) payloadTypes[codec] = cap.preferredPayloadType;
    }
    return {
      reservedId: id,
      ip: transport.tuple.localIp,
      port: transport.tuple.localPort,
      rtcpPort: transport.rtcpTuple?.localPort ?? transport.tuple.localPort,
      payloadTypes,
      ...(opts.srtpSuite && transport.srtpParameters
        ? { srtp: { suite: opts.srtpSuite, keyBase64: transport.srtpParameters.keyBase64 } }
        : {}),
    };
  }

  async openLeg(opts: SipLegOptions): Promise<SipLegInfo> {
    const producer = this.#producer(opts.producerId);
    const c = CODECS[opts.codec];
    if (producer.kind !== c.kind) throw new SfuError('bad_request', `producer ${opts.producerId} is not ${c.kind}`);
    const origin = await this.#deps.originReady();
    const reserved = opts.reserved === undefined ? undefined : this.#reserved.get(opts.reserved);
    if (opts.reserved !== undefined && !reserved) throw new SfuError('not_found', `leg ${opts.reserved} not found`);
    this.#reserved.delete(opts.reserved ?? '');
    // A reserved leg is on the origin router: the gateway offered its numbers (reserveLeg).
    const route = reserved
      ? originRoute(origin, producer.id)
      : await this.#routes.route(origin, producer, capability(opts.codec, opts.payloadType));
    let transport: ms.PlainTransport;
    try {
      transport =
        reserved ??
        (await route.router.createPlainTransport({
          listenIp: opts.listen,
          comedia: false,
          rtcpMux: opts.rtcpMux,
          ...(opts.srtp ? { enableSrtp: true, srtpCryptoSuite: opts.srtp.suite } : {}),
          appData: { sipLeg: true },
        }));
    } catch (err) {
      route.release();
      throw err;
    }
    try {
      await transport.connect({
        ip: opts.ip,
        port: opts.port,
        ...(opts.rtcpMux ? {} : { rtcpPort: opts.rtcpPort }),
        ...(opts.srtp ? { srtpParameters: { cryptoSuite: opts.srtp.suite, keyBase64: opts.srtp.keyBase64 } } : {}),
      });
      // Only this codec (its router sends it with the payload type the room system offered),
      // and no header extensions: a room system has no use for them.
      const consumer = await transport.consume({
        producerId: route.producerId,
        rtpCapabilities: { codecs: [capability(opts.codec, opts.payloadType)], headerExtensions: [] },
      });
      const leg: Leg = {
        id: opts.reserved ?? `sipleg-${randomUUID()}`,
        codec: opts.codec,
        transport,
        consumer,
        route,
      };
      this.#legs.set(leg.id, leg);
      const end = () => this.#ended(leg);
      consumer.observer.once('close', end);
      transport.observer.once('close', end);
      return {
        legId: leg.id,
        payloadType: consumer.rtpParameters.codecs[0]!.payloadType,
        ip: transport.tuple.localIp,
        port: transport.tuple.localPort,
        rtcpPort: transport.rtcpTuple?.localPort ?? transport.tuple.localPort,
        ...(transport.srtpParameters
          ? { srtp: { suite: transport.srtpParameters.cryptoSuite, keyBase64: transport.srtpParameters.keyBase64 } }
          : {}),
      };
    } catch (err) {
      transport.close();
      route.release();
      if (err instanceof SfuError) throw err;
      throw new SfuError('bad_request', `cannot send ${opts.codec} to the room system: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /**
   * What the room system sends on this leg, with `ssrc` (its SDP's) and `payloadType` (its
   * answer's): a producer only taps consume. Closes with the leg, or by closeInbound.
   */
  async receive(legId: string, ssrc: number, payloadType: number): Promise<string> {
    const leg = this.#legs.get(legId);
    if (!leg) throw new SfuError('not_found', `leg ${legId} not found`);
    const c = CODECS[leg.codec];
    let producer: ms.Producer;
    try {
      producer = await leg.transport.produce({
        kind: c.kind,
        rtpParameters: {
          codecs: [
            {
              mimeType: c.mimeType,
              clockRate: c.clockRate,
              payloadType,
              ...(c.channels ? { channels: c.channels } : {}),
              ...(c.parameters ? { parameters: c.parameters } : {}),
              rtcpFeedback: c.kind === 'video' ? KEY_FRAME_FEEDBACK : [],
            },
          ],
          encodings: [{ ssrc }],
        },
        appData: { sipInbound: leg.id },
      });
    } catch (err) {
      throw new SfuError('bad_request', `cannot receive ${leg.codec} from the room system: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.#inbound.set(producer.id, {
      producer,
      source: c.kind === 'video' ? 'floor-camera' : 'floor-mic',
      router: leg.route.router,
    });
    producer.observer.once('close', () => this.#inbound.delete(producer.id));
    return producer.id;
  }

  /** A producer of what a room system sends (receive), for the taps that consume it. */
  inbound(producerId: string): SipInbound | undefined {
    return this.#inbound.get(producerId);
  }

  /** Idempotent. */
  closeInbound(producerId: string): void {
    this.#inbound.get(producerId)?.producer.close();
  }

  /** A leg, or a reserved one not opened yet. */
  closeLeg(legId: string): void {
    (this.#legs.get(legId)?.transport ?? this.#reserved.get(legId))?.close();
  }

  hasLeg(legId: string): boolean {
    return this.#legs.has(legId);
  }

  async requestKeyFrame(legId: string): Promise<void> {
    const leg = this.#legs.get(legId);
    if (leg && leg.consumer.kind === 'video' && !leg.consumer.closed) await leg.consumer.requestKeyFrame();
  }

  /** What the room system's receiver reports say, and what was sent. */
  async legStats(legId: string): Promise<SipLegStats | undefined> {
    const leg = this.#legs.get(legId);
    if (!leg || leg.consumer.closed) return undefined;
    const [stats, tstats] = await Promise.all([leg.consumer.getStats(), leg.transport.getStats()]);
    const out = stats.find((s) => s.type === 'outbound-rtp');
    const t = tstats[0];
    return {
      packetsSent: out?.packetCount ?? 0,
      bytesSent: out?.byteCount ?? 0,
      // fractionLost is what the last receiver report said, out of 256.
      lossPercent: out ? Math.round((out.fractionLost / 256) * 1000) / 10 : 0,
      packetsLost: out?.packetsLost ?? 0,
      // Not every worker version reports the receiver's jitter for a send stream.
      jitter: (out as { jitter?: number } | undefined)?.jitter ?? null,
      roundTripTimeMs: out?.roundTripTime ?? null,
      score: out?.score ?? null,
      rtcpReceived: Boolean(t && (t.rtcpTuple || (t.bytesReceived ?? 0) > 0)),
      bytesReceived: t?.bytesReceived ?? 0,
    };
  }

  closeAll(): void {
    for (const id of [...this.#legs.keys(), ...this.#reserved.keys()]) this.closeLeg(id);
    for (const id of [...this.#feeds.keys()]) this.closeFeed(id);
    this.#routes.closeAll();
  }

  /** Payload routers open now (legs whose offered number is not the origin router's). */
  get payloadRouters(): number {
    return this.#routes.size;
  }

  #producer(producerId: string): ms.Producer {
    for (const feed of this.#feeds.values()) {
      const p = feed.producers.get(producerId);
      if (p) return p;
    }
    const rp = this.#deps.producers.get(producerId);
    if (!rp) throw new SfuError('not_found', `producer ${producerId} not found`);
    return rp.producer;
  }

  #ended(leg: Leg): void {
    if (!this.#legs.delete(leg.id)) return;
    leg.transport.close();
    leg.route.release();
    if (this.#deps.isClosed()) return;
    this.#deps.emit('sipLegClosed', { legId: leg.id });
  }
}
