// What each connection point receives of the video, applied to its consumers: the
// operator's mode for the point (full, low, audio-only), and the layer policy
// (layer-policy.ts) run over every ready video consumer on a timer. A consumer's ceiling is
// its preferred spatial layer; a consumer stays paused until its client is ready, and video
// stays paused in audio-only mode.
import type { types as ms } from 'mediasoup';
import { SfuError } from './errors';
import { decideLayer, initialLayerState, modeCap, type LayerPolicyConfig, type ViewerMode } from './layer-policy';
import { DEFAULT_LAYER_BITRATES_BPS } from './media-codecs';
import type { Peer, PeerConsumer } from './peer';
import type { RoomContext } from './room-context';

export interface ViewerLayersDeps extends Pick<RoomContext, 'log' | 'peers' | 'isClosed' | 'emit'> {
  policy: LayerPolicyConfig;
}

/** Where a new consumer of a producer starts, and what the policy needs to know of it. */
export type ConsumerLayers = Pick<PeerConsumer, 'maxSpatialLayer' | 'layerBitratesBps' | 'layerState'>;

export class ViewerLayers {
  readonly #deps: ViewerLayersDeps;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: ViewerLayersDeps) {
    this.#deps = deps;
  }

  /** Runs the policy every `intervalMs` until `stop`; 0 never. */
  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.#timer = setInterval(() => this.run(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * A new consumer of this producer for this peer: its top layer (0 without simulcast), the
   * bitrate of each layer (as the producer declares them, else the usual ones) and the mode's
   * ceiling to start at.
   */
  initial(peer: Peer, producer: ms.Producer, now = Date.now()): ConsumerLayers {
    const encodings = producer.rtpParameters.encodings ?? [];
    const maxSpatialLayer = producer.kind === 'video' ? Math.max(0, encodings.length - 1) : 0;
    const declared = encodings.map((e) => e.maxBitrate);
    const layerBitratesBps =
      declared.length > 1 && declared.every((b) => typeof b === 'number')
        ? (declared as number[])
        : DEFAULT_LAYER_BITRATES_BPS;
    return { maxSpatialLayer, layerBitratesBps, layerState: initialLayerState(peer.mode, maxSpatialLayer, now) };
  }

  /** The client has set up its side of the consumer: media may flow. */
  async clientReady(peer: Peer, pc: PeerConsumer): Promise<void> {
    pc.clientReady = true;
    await this.#applyPause(peer, pc);
  }

  async setMode(peer: Peer, mode: ViewerMode): Promise<void> {
    peer.mode = mode;
    const now = Date.now();
    await Promise.all(
      [...peer.consumers.values()]
        .filter((pc) => pc.consumer.kind === 'video')
        .map(async (pc) => {
          pc.layerState = initialLayerState(mode, pc.maxSpatialLayer, now);
          if (modeCap(mode, pc.maxSpatialLayer) !== null && pc.maxSpatialLayer > 0) {
            await this.#setPreferred(peer, pc, pc.layerState.spatialLayer);
          }
          await this.#applyPause(peer, pc);
        }),
    );
    this.#deps.log.info({ peerId: peer.id, mode }, 'viewer mode set');
    this.#deps.emit('viewerModeChanged', { peerId: peer.id, mode });
  }

  /**
   * One pass of the policy over every ready video consumer. In-memory inputs only (scores
   * and bandwidth come from mediasoup events), so it costs no worker round trips unless a
   * ceiling changes.
   */
  run(now = Date.now()): void {
    if (this.#deps.isClosed()) return;
    for (const peer of this.#deps.peers.values()) {
      for (const pc of peer.consumers.values()) {
        if (pc.consumer.kind !== 'video' || pc.maxSpatialLayer === 0 || !pc.clientReady || pc.consumer.closed) continue;
        const t = peer.transports.get(pc.transportId);
        const decision = decideLayer(
          {
            mode: peer.mode,
            maxSpatialLayer: pc.maxSpatialLayer,
            score: pc.consumer.score?.score,
            availableBitrateBps: t?.availableBitrate,
            now,
          },
          pc.layerState,
          { ...this.#deps.policy, layerBitratesBps: pc.layerBitratesBps },
        );
        const changed = decision.spatialLayer !== pc.layerState.spatialLayer;
        pc.layerState = {
          spatialLayer: decision.spatialLayer,
          upSince: decision.upSince,
          changedAt: decision.changedAt,
        };
        if (changed && !decision.paused) void this.#setPreferred(peer, pc, decision.spatialLayer);
      }
    }
  }

  async #setPreferred(peer: Peer, pc: PeerConsumer, spatialLayer: number): Promise<void> {
    try {
      await pc.consumer.setPreferredLayers({ spatialLayer });
      this.#deps.emit('consumerPreferredLayersChanged', { peerId: peer.id, consumerId: pc.consumer.id, spatialLayer });
    } catch (err) {
      if (!pc.consumer.closed) this.#deps.log.warn({ err, peerId: peer.id }, 'setPreferredLayers failed');
    }
  }

  async #applyPause(peer: Peer, pc: PeerConsumer): Promise<void> {
    const c = pc.consumer;
    const shouldPause = !pc.clientReady || (c.kind === 'video' && peer.mode === 'audio-only');
    try {
      if (shouldPause && !c.paused) await c.pause();
      else if (!shouldPause && c.paused) await c.resume();
    } catch (err) {
      if (!c.closed) throw new SfuError('unavailable', 'could not change the consumer state', { cause: err });
    }
  }
}
