// Recording taps: a producer of the room sent as plain RTP (no SRTP) to a local recorder
// process, exactly as the points receive it: one PlainTransport on the origin router per
// tap, connected to where the recorder listens, and one consumer of the producer (a new
// consumer prefers the top simulcast layer, and the room's layer policy never touches it). Nothing is re-encoded. A tap whose producer or transport closes (the
// floor taken back, a worker death) is announced once, so the recorder notes the end.
import { randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import { SfuError } from './errors';
import type { RoomContext } from './room-context';
import type { RoomProducers } from './room-producers';
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
  producers: Pick<RoomProducers, 'get'>;
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
    const origin = await this.#deps.originReady();
    const transport = await origin.router.createPlainTransport({
      listenIp: this.#deps.listenIp,
      rtcpMux: false,
      comedia: false,
      appData: { recording: true },
    });
    try {
      await transport.connect({ ip: target.ip, port: target.port, rtcpPort: target.port + 1 });
      // Only the media codecs: a recorder has no use for retransmissions it cannot ask for.
      const caps = origin.router.rtpCapabilities;
      const consumer = await transport.consume({
        producerId,
        rtpCapabilities: { ...caps, codecs: (caps.codecs ?? []).filter((c) => !/\/rtx$/i.test(c.mimeType)) },
        paused: true,
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
