// Which simulcast layer a point should receive. Pure logic, no mediasoup.
//
// mediasoup already picks the layer it actually sends from its own bandwidth estimate,
// up to the consumer's *preferred* layers. This policy sets that ceiling: the operator's
// mode caps it (full: top layer, low: the lowest, audio-only: no video at all); it drops
// a layer when the transport's available bitrate cannot carry the current one, or when
// the consumer's score says the link loses packets; it climbs back one layer at a time,
// only after the better conditions have held for a while (hysteresis), so that a link at
// the edge does not flap between two layers and cost a key frame at every switch.

export type ViewerMode = 'full' | 'low' | 'audio-only';

export interface LayerPolicyConfig {
  /** Expected bitrate of each spatial layer, lowest first (bps). */
  layerBitratesBps: readonly number[];
  /** Drop a layer when the available bitrate is below its bitrate times this. */
  downHeadroom: number;
  /** Climb to a layer only when the available bitrate is at least its bitrate times this. */
  upHeadroom: number;
  /** A consumer score (0-10) at or below this steps one layer down. */
  poorScore: number;
  /** Climbing needs a score at or above this. */
  goodScore: number;
  /** The better conditions must hold this long before climbing one layer (ms). */
  upHoldMs: number;
  /** After a score-driven step down, wait this long before another (ms): scores lag. */
  downHoldMs: number;
}

export const DEFAULT_LAYER_POLICY: LayerPolicyConfig = {
  layerBitratesBps: [150_000, 500_000, 1_500_000],
  downHeadroom: 1.0,
  upHeadroom: 1.3,
  poorScore: 5,
  goodScore: 8,
  upHoldMs: 8_000,
  downHoldMs: 4_000,
};

export interface LayerPolicyInput {
  mode: ViewerMode;
  /** Highest spatial layer the producer sends (0 when it does not use simulcast). */
  maxSpatialLayer: number;
  /** mediasoup consumer score 0-10; undefined before the first report. */
  score: number | undefined;
  /** The receive transport's available outgoing bitrate (bps); undefined when unknown. */
  availableBitrateBps: number | undefined;
  now: number;
}

export interface LayerPolicyState {
  /** The preferred spatial layer currently set on the consumer. */
  spatialLayer: number;
  /** Since when the conditions for climbing have held; undefined when they do not. */
  upSince: number | undefined;
  /** When the layer last changed (ms), for the down hold. */
  changedAt: number;
}

export interface LayerDecision extends LayerPolicyState {
  /** Video must not flow at all (audio-only mode). */
  paused: boolean;
}

/** The mode's ceiling; null for audio-only. */
export function modeCap(mode: ViewerMode, maxSpatialLayer: number): number | null {
  if (mode === 'audio-only') return null;
  return mode === 'low' ? 0 : Math.max(0, maxSpatialLayer);
}

/** Where a new consumer (or one whose mode just changed) starts: the mode's ceiling. */
export function initialLayerState(mode: ViewerMode, maxSpatialLayer: number, now: number): LayerPolicyState {
  return { spatialLayer: modeCap(mode, maxSpatialLayer) ?? 0, upSince: undefined, changedAt: now };
}

function bitrateOf(layer: number, cfg: LayerPolicyConfig): number {
  const rates = cfg.layerBitratesBps;
  return rates[Math.min(layer, rates.length - 1)] ?? 0;
}

/** The highest layer up to `cap` whose bitrate times `headroom` fits in `available`. */
function highestFitting(cap: number, available: number | undefined, headroom: number, cfg: LayerPolicyConfig): number {
  if (available === undefined) return cap;
  let layer = cap;
  while (layer > 0 && bitrateOf(layer, cfg) * headroom > available) layer -= 1;
  return layer;
}

export function decideLayer(
  input: LayerPolicyInput,
  state: LayerPolicyState,
  cfg: LayerPolicyConfig = DEFAULT_LAYER_POLICY,
): LayerDecision {
  const cap = modeCap(input.mode, input.maxSpatialLayer);
  if (cap === null) return { ...state, upSince: undefined, paused: true };

  const { now, score } = input;
  let layer = Math.min(state.spatialLayer, cap);
  let changedAt = layer !== state.spatialLayer ? now : state.changedAt;

  // Down: bandwidth first (immediate), then loss (one step per hold period).
  const fitsDown = highestFitting(cap, input.availableBitrateBps, cfg.downHeadroom, cfg);
  if (fitsDown < layer) {
    layer = fitsDown;
    changedAt = now;
  } else if (score !== undefined && score <= cfg.poorScore && layer > 0 && now - changedAt >= cfg.downHoldMs) {
    layer -= 1;
    changedAt = now;
  }
  if (layer !== state.spatialLayer) return { spatialLayer: layer, upSince: undefined, changedAt, paused: false };

  // Up: one layer, once the room for it and a good score have held for upHoldMs.
  const fitsUp = highestFitting(cap, input.availableBitrateBps, cfg.upHeadroom, cfg);
  const canClimb = layer < cap && fitsUp > layer && (score === undefined || score >= cfg.goodScore);
  if (!canClimb) return { spatialLayer: layer, upSince: undefined, changedAt, paused: false };
  const upSince = state.upSince ?? now;
  if (now - upSince >= cfg.upHoldMs && now - changedAt >= cfg.upHoldMs) {
    return { spatialLayer: layer + 1, upSince: undefined, changedAt: now, paused: false };
  }
  return { spatialLayer: layer, upSince, changedAt, paused: false };
}
