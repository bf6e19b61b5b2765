// Plain RTP ingest: a sender without WebRTC (ffmpeg, GStreamer, a hardware encoder in the
// hall) feeds the origin through comedia PlainTransports, one per stream, no SRTP. Its
// producers are the room's `host-camera` and `host-mic`, consumed by the points like the
// host console's, or (`floorOf`) the `floor-camera` and `floor-mic` of the point holding
// the floor (a room system over SIP, whose media a transcoder sends here), owned by its
// peer so that taking the floor back closes them as it closes a browser's. An ingest whose
// transports close (by request, or with their worker) is announced once, so the operator
// restarts its sender.
import { randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import { SfuError } from './errors';
import type { Peer } from './peer';
import type { RoomContext } from './room-context';
import type { RoomProducers } from './room-producers';
import type { Origin } from './room-topology';
import type {
  MediaKind,
  MediaSource,
  PlainIngestEndpoint,
  PlainIngestInfo,
  PlainIngestOptions,
  PlainIngestStreamOptions,
} from './types';

interface PlainIngest {
  readonly id: string;
  readonly transports: ms.PlainTransport[];
  readonly producerIds: string[];
  readonly worker: ms.Worker;
  /** Its close was announced (or needs no announcement: it failed while being created). */
  reported: boolean;
}

export interface PlainIngestsDeps extends Pick<
  RoomContext,
  'roomId' | 'log' | 'isClosed' | 'emit' | 'peers' | 'floorHolder'
> {
  /** Where the PlainTransports listen unless the ingest says otherwise. */
  listenIp: string;
  /** Producer keyFrameRequestDelay for video (ms). */
  keyFrameDelayMs: number;
  originReady: () => Promise<Origin>;
  producers: Pick<RoomProducers, 'register' | 'markClosing'>;
}

export class PlainIngests {
  readonly #deps: PlainIngestsDeps;
  readonly #byId = new Map<string, PlainIngest>();

  constructor(deps: PlainIngestsDeps) {
    this.#deps = deps;
  }

  async create(opts: PlainIngestOptions): Promise<PlainIngestInfo> {
    if (!opts.video && !opts.audio) throw new SfuError('bad_request', 'an ingest needs video, audio or both');
    if (opts.video?.simulcastSsrcs?.length && (opts.video.mimeType ?? 'video/VP8') !== 'video/VP8')
      throw new SfuError('bad_request', 'simulcast is VP8 only');
    const rates = opts.video?.layerBitratesBps;
    if (
      rates &&
      (rates.length !== 1 + (opts.video?.simulcastSsrcs?.length ?? 0) ||
        rates.some((b) => !Number.isInteger(b) || b <= 0))
    )
      throw new SfuError('bad_request', 'one positive bitrate per layer');
    const floorOf = opts.floorOf;
    if (floorOf !== undefined) this.#requireFloor(floorOf);
    const origin = await this.#deps.originReady();
    const ingest: PlainIngest = {
      id: `ingest-${randomUUID()}`,
      transports: [],
      producerIds: [],
      worker: origin.worker,
      reported: false,
    };
    this.#byId.set(ingest.id, ingest);
    const info: PlainIngestInfo = { ingestId: ingest.id };
    const listen = { listenIp: opts.listenIp ?? this.#deps.listenIp, rtcpMux: opts.rtcpMux ?? false };
    try {
      if (opts.video) {
        const video = videoParameters(opts.video);
        info.video = await this.#open(ingest, origin, listen, 'video', video, floorOf);
      }
      if (opts.audio) {
        info.audio = await this.#open(ingest, origin, listen, 'audio', audioParameters(opts.audio), floorOf);
      }
    } catch (err) {
      ingest.reported = true;
      this.close(ingest.id);
      if (err instanceof SfuError) throw err;
      throw new SfuError('bad_request', `cannot create the ingest: ${(err as Error).message}`, { cause: err });
    }
    this.#deps.log.info({ ...info }, 'plain ingest ready');
    return info;
  }

  has(ingestId: string): boolean {
    return this.#byId.has(ingestId);
  }

  /** Idempotent. Its producers close with its transports, announced as closed. */
  close(ingestId: string): void {
    const ingest = this.#byId.get(ingestId);
    if (!ingest) return;
    this.#byId.delete(ingestId);
    this.#deps.producers.markClosing(ingest.producerIds, 'closed');
    for (const t of ingest.transports) t.close();
  }

  closeAll(): void {
    for (const id of [...this.#byId.keys()]) this.close(id);
  }

  /** One stream: a comedia PlainTransport on the origin (the sender's first packet fixes its address) and its producer. */
  async #open(
    ingest: PlainIngest,
    origin: Origin,
    listen: { listenIp: string; rtcpMux: boolean },
    kind: MediaKind,
    rtpParameters: ms.RtpParameters,
    floorOf: string | undefined,
  ): Promise<PlainIngestEndpoint> {
    const source: MediaSource = floorOf
      ? kind === 'video'
        ? 'floor-camera'
        : 'floor-mic'
      : kind === 'video'
        ? 'host-camera'
        : 'host-mic';
    const transport = await origin.router.createPlainTransport({
      listenIp: listen.listenIp,
      comedia: true,
      rtcpMux: listen.rtcpMux,
      appData: { roomId: this.#deps.roomId, ingestId: ingest.id },
    });
    ingest.transports.push(transport);
    transport.observer.once('close', () => this.#onTransportClosed(ingest));
    const producer = await transport.produce({
      kind,
      rtpParameters,
      ...(kind === 'video' ? { keyFrameRequestDelay: this.#deps.keyFrameDelayMs } : {}),
      appData: { ingestId: ingest.id, source },
    });
    ingest.producerIds.push(producer.id);
    if (floorOf !== undefined) {
      // The floor may have been taken back while the worker answered.
      try {
        this.#requireFloor(floorOf).addProducer({ producer, source, transportId: transport.id });
      } catch (err) {
        producer.close();
        throw err;
      }
    }
    await this.#deps.producers.register(producer, source, floorOf ?? ingest.id, origin.worker);
    return {
      producerId: producer.id,
      ip: transport.tuple.localIp,
      port: transport.tuple.localPort,
      rtcpPort: transport.rtcpTuple?.localPort,
    };
  }

  #requireFloor(peerId: string): Peer {
    const peer = this.#deps.peers.get(peerId);
    if (!peer || peer.closed || this.#deps.floorHolder() !== peerId)
      throw new SfuError('forbidden', `${peerId} does not hold the floor`);
    return peer;
  }

  /** The ingest is one sender: when one of its transports closes, the others close too, announced once. */
  #onTransportClosed(ingest: PlainIngest): void {
    this.#byId.delete(ingest.id);
    for (const t of ingest.transports) t.close();
    if (ingest.reported || this.#deps.isClosed()) return;
    ingest.reported = true;
    this.#deps.emit('ingestClosed', { ingestId: ingest.id, reason: ingest.worker.died ? 'worker-died' : 'closed' });
  }
}

/** VP8 unless the sender says H264 (constrained baseline, as the routers offer it); VP8 may be simulcast. */
function videoParameters(opts: NonNullable<PlainIngestOptions['video']>): ms.RtpParameters {
  const mimeType = opts.mimeType ?? 'video/VP8';
  return {
    codecs: [
      {
        mimeType,
        clockRate: 90000,
        payloadType: opts.payloadType,
        ...(mimeType === 'video/H264'
          ? { parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 } }
          : {}),
        rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
      },
    ],
    // Simulcast: one encoding per layer, lowest first, told apart by SSRC (no rid).
    encodings: [opts.ssrc, ...(opts.simulcastSsrcs ?? [])].map((ssrc, i) => {
      const maxBitrate = opts.layerBitratesBps?.[i];
      return maxBitrate ? { ssrc, maxBitrate } : { ssrc };
    }),
  };
}

/** Opus, 48 kHz stereo. */
function audioParameters(opts: PlainIngestStreamOptions): ms.RtpParameters {
  return {
    codecs: [
      {
        mimeType: 'audio/opus',
        clockRate: 48000,
        channels: 2,
        payloadType: opts.payloadType,
        parameters: { 'sprop-stereo': 1 },
      },
    ],
    encodings: [{ ssrc: opts.ssrc }],
  };
}
