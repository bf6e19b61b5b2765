// Publishes local media: the host's camera in three simulcast layers (about 180p, 360p,
// 720p), microphone, and optionally a screen for slides; or a point's camera and
// microphone while it holds the floor.
import type { Device, types as msc } from 'mediasoup-client';
import type { MediaSource, RtcSendRequests } from '../../../server/contract/broadcast';
import type { RequestEvents } from '../../../server/contract/socket';
import { requester, type Request, type RequestSocket } from '../net/request';

/** Three layers; Chromium drops the top ones itself when the uplink cannot carry them. */
export const CAMERA_ENCODINGS: msc.RtpEncodingParameters[] = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_200_000 },
];

export class MediaSender {
  readonly #request: Request<RequestEvents<RtcSendRequests>>;
  #transport: msc.Transport | undefined;
  readonly #producers = new Map<MediaSource, msc.Producer>();

  constructor(
    socket: RequestSocket<RtcSendRequests>,
    private readonly device: Device,
  ) {
    this.#request = requester(socket);
  }

  get transport(): msc.Transport | undefined {
    return this.#transport;
  }

  producer(source: MediaSource): msc.Producer | undefined {
    return this.#producers.get(source);
  }

  async #ensureTransport(): Promise<msc.Transport> {
    if (this.#transport && !this.#transport.closed) return this.#transport;
    const params = await this.#request('rtc:createTransport', {
      direction: 'send',
      rtpCapabilities: this.device.rtpCapabilities as Record<string, unknown>,
    });
    const transport = this.device.createSendTransport(params as unknown as msc.TransportOptions);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.#request('rtc:connectTransport', {
        transportId: transport.id,
        dtlsParameters: dtlsParameters as Record<string, unknown>,
      }).then(() => callback(), errback);
    });
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      this.#request('rtc:produce', {
        transportId: transport.id,
        kind,
        rtpParameters: rtpParameters as unknown as Record<string, unknown>,
        source: appData.source as MediaSource,
      }).then(({ id }) => callback({ id }), errback);
    });
    transport.on('connectionstatechange', (state) => {
      if (state === 'failed') {
        this.#request('rtc:restartIce', { transportId: transport.id })
          .then(({ iceParameters }) =>
            transport.restartIce({ iceParameters: iceParameters as unknown as msc.IceParameters }),
          )
          .catch(() => undefined);
      }
    });
    this.#transport = transport;
    return transport;
  }

  async publish(source: MediaSource, track: MediaStreamTrack): Promise<msc.Producer> {
    const existing = this.#producers.get(source);
    if (existing && !existing.closed) {
      await existing.replaceTrack({ track });
      return existing;
    }
    const transport = await this.#ensureTransport();
    const isCamera = source === 'host-camera' || source === 'floor-camera';
    const producer = await transport.produce({
      track,
      ...(isCamera ? { encodings: CAMERA_ENCODINGS, codecOptions: { videoGoogleStartBitrate: 1000 } } : {}),
      ...(source === 'host-screen' ? { encodings: [{ maxBitrate: 1_500_000 }] } : {}),
      stopTracks: false,
      appData: { source },
    });
    this.#producers.set(source, producer);
    return producer;
  }

  async unpublish(source: MediaSource): Promise<void> {
    const p = this.#producers.get(source);
    if (!p) return;
    this.#producers.delete(source);
    p.close();
    await this.#request('rtc:closeProducer', { producerId: p.id }).catch(() => undefined);
  }

  /** Drops everything (the server rebuilt the origin or took the floor back). */
  reset(): void {
    for (const p of this.#producers.values()) p.close();
    this.#producers.clear();
    this.#transport?.close();
    this.#transport = undefined;
  }
}
