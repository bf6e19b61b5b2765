// Recording taps: a producer of the room sent as plain RTP (no SRTP) to a local recorder
// process, exactly as the points receive it: one PlainTransport on the origin router per
// tap, connected to where the recorder listens, and one consumer of the producer. A
// simulcast producer is recorded at its top layer: the consumer asks for it by name, the
// tap negotiates no bandwidth estimation that could lower it (see recorderCapabilities),
// and the room's layer policy never touches a tap. Nothing is re-encoded. A tap whose producer or transport closes (the
// floor taken back, a worker death) is announced once, so the recorder notes the end.
import { randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import { SfuError } from './errors';
import type { RoomContext } from './room-context';
import type { RoomProducer } from './room-producers';
import type { Origin } from './room-topology';
import type { MediaKind, MediaSource } from './types';

export interface RecordingTapTarget {
  ip: string;
  /** RTP goes here, RTCP to port + 1 (as ffmpeg's SDP input listens). */
  port: number;
}

export interface RecordingTapInfo {
  tapId: string;
  producerId: string;
  source: MediaSource;
  kind: MediaKind;
  /** The one codec sent, with the payload type and SSRC the recorder will see. */
  codec: { mimeType: string; payloadType: number; clockRate: number; channels?: number };
  ssrc: number;
}

interface Tap {
  readonly info: RecordingTapInfo;
  readonly transport: ms.PlainTransport;
  readonly consumer: ms.Consumer;
  ended: boolean;
}

export interface RecordingTapsDeps extends Pick<RoomContext, 'log' | 'isClosed' | 'emit'> {
  listenIp: string;
  originReady: () => Promise<Origin>;
  /**
   * The room's producers, and what room systems send (sip-media.ts), which lives on its
   * leg's router (`router`); the room's own are on the origin router.
   */
  producers: {
    get(producerId: string): (Pick<RoomProducer, 'producer' | 'source'> & { router?: ms.Router }) | undefined;
  };
}

/** Bandwidth estimation's header extensions: a recorder sends back no feedback for them. */
const BWE_EXTENSIONS = /transport-wide-cc|abs-send-time/i;

/**
 * What a recorder (ffmpeg) receives: the media codecs only (it cannot ask for
 * retransmissions), and nothing of bandwidth estimation. With transport-cc or REMB on the
 * tap, mediasoup would manage the consumer's bitrate from feedback ffmpeg never sends,
 * stay at its initial estimate and drop a simulcast camera to a lower layer.
 */
export function recorderCapabilities(caps: ms.RtpCapabilities): ms.RtpCapabilities {
  return {
    codecs: (caps.codecs ?? [])
      .filter((c) => !/\/rtx$/i.test(c.mimeType))
      .map((c) => ({
        ...c,
        rtcpFeedback: (c.rtcpFeedback ?? []).filter((f) => f.type !== 'transport-cc' && f.type !== 'goog-remb'),
      })),
    headerExtensions: (caps.headerExtensions ?? []).filter((h) => !BWE_EXTENSIONS.test(h.uri)),
  };
}

/**
 * The top simulcast layer of a producer (its last encoding; mediasoup then takes the
 * highest temporal layer too); undefined for one without simulcast.
 */
function topLayers(producer: Pick<ms.Producer, 'kind' | 'rtpParameters'>): ms.ConsumerLayers | undefined {
  const encodings = producer.rtpParameters.encodings ?? [];
  return producer.kind === 'video' && encodings.length > 1 ? { spatialLayer: encodings.length - 1 } : undefined;
}

export class RecordingTaps {
  readonly #deps: RecordingTapsDeps;
  readonly #byId = new Map<string, Tap>();

  constructor(deps: RecordingTapsDeps) {
    this.#deps = deps;
  }

  /** Starts sending `producerId` to `target` (paused until `resume`, so the recorder is ready first). */
  async open(producerId: string, target: RecordingTapTarget): Promise<RecordingTapInfo> {
    const rp = this.#deps.producers.get(producerId);
    if (!rp) throw new SfuError('not_found', `producer ${producerId} not found`);
    const router = rp.router ?? (await this.#deps.originReady()).router;
    const transport = await router.createPlainTransport({
      listenIp: this.#deps.listenIp,
      rtcpMux: false,
      comedia: false,
      appData: { recording: true },
    });
    try {
      await transport.connect({ ip: target.ip, port: target.port, rtcpPort: target.port + 1 });
      const consumer = await transport.consume({
        producerId,
        rtpCapabilities: recorderCapabilities(router.rtpCapabilities),
        paused: true,
        preferredLayers: topLayers(rp.producer),
      });
      const codec = consumer.rtpParameters.codecs[0]!;
      const info: RecordingTapInfo = {
        tapId: `tap-${randomUUID()}`,
        producerId,
        source: rp.source,
        kind: consumer.kind,
        codec: {
          mimeType: codec.mimeType,
          payloadType: codec.payloadType,
          clockRate: codec.clockRate,
          ...(codec.channels ? { channels: codec.channels } : {}),
        },
        ssrc: consumer.rtpParameters.encodings?.[0]?.ssrc ?? 0,
      };
      const tap: Tap = { info, transport, consumer, ended: false };
      this.#byId.set(info.tapId, tap);
      const end = () => this.#ended(tap);
      consumer.observer.once('close', end);
      transport.observer.once('close', end);
      return info;
    } catch (err) {
      transport.close();
      if (err instanceof SfuError) throw err;
      throw new SfuError('bad_request', `cannot record ${producerId}: ${(err as Error).message}`, { cause: err });
    }
  }

  async resume(tapId: string): Promise<void> {
    await this.#byId.get(tapId)?.consumer.resume();
  }

  /** A key frame now: a new segment (or a restarted recorder) starts on one. */
  async requestKeyFrame(tapId: string): Promise<void> {
    const tap = this.#byId.get(tapId);
    if (tap && tap.info.kind === 'video' && !tap.consumer.closed) await tap.consumer.requestKeyFrame();
  }

  has(tapId: string): boolean {
    return this.#byId.has(tapId);
  }

  /** Idempotent; announced like any other end. */
  close(tapId: string): void {
    this.#byId.get(tapId)?.transport.close();
  }

  closeAll(): void {
    for (const id of [...this.#byId.keys()]) this.close(id);
  }

  #ended(tap: Tap): void {
    if (tap.ended) return;
    tap.ended = true;
    this.#byId.delete(tap.info.tapId);
    tap.transport.close();
    if (this.#deps.isClosed()) return;
    this.#deps.emit('recordingTapClosed', { tapId: tap.info.tapId, producerId: tap.info.producerId });
  }
}
