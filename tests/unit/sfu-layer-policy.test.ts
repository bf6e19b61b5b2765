import {
  DEFAULT_LAYER_POLICY as cfg,
  decideLayer,
  initialLayerState,
  modeCap,
  type LayerPolicyInput,
  type LayerPolicyState,
} from '../../sfu/layer-policy';

const base = (over: Partial<LayerPolicyInput> = {}): LayerPolicyInput => ({
  mode: 'full',
  maxSpatialLayer: 2,
  score: 10,
  availableBitrateBps: 5_000_000,
  now: 100_000,
  ...over,
});
const at = (spatialLayer: number, changedAt = 0, upSince?: number): LayerPolicyState => ({
  spatialLayer,
  changedAt,
  upSince,
});

describe('layer policy: mode caps', () => {
  test('full caps at the top layer, low at the lowest, audio-only pauses video', () => {
    expect(modeCap('full', 2)).toBe(2);
    expect(modeCap('low', 2)).toBe(0);
    expect(modeCap('audio-only', 2)).toBeNull();
    expect(modeCap('full', 0)).toBe(0);
    expect(initialLayerState('full', 2, 5)).toEqual({ spatialLayer: 2, upSince: undefined, changedAt: 5 });
    expect(initialLayerState('low', 2, 5).spatialLayer).toBe(0);
  });

  test('low mode never climbs above layer 0, even on a perfect link held for long', () => {
    let s = initialLayerState('low', 2, 0);
    for (let t = 0; t <= 60_000; t += 2_000) {
      s = decideLayer(base({ mode: 'low', now: t }), s);
      expect(s.spatialLayer).toBe(0);
    }
  });

  test('audio-only pauses and keeps the layer untouched', () => {
    const d = decideLayer(base({ mode: 'audio-only' }), at(1));
    expect(d.paused).toBe(true);
    expect(d.spatialLayer).toBe(1);
  });

  test('a mode cap below the current layer applies at once', () => {
    const d = decideLayer(base({ mode: 'low' }), at(2, 99_000));
    expect(d).toMatchObject({ spatialLayer: 0, paused: false, changedAt: 100_000 });
  });
});

describe('layer policy: bandwidth', () => {
  test('drops at once to the highest layer that fits the available bitrate', () => {
    expect(decideLayer(base({ availableBitrateBps: 1_000_000 }), at(2, 99_999)).spatialLayer).toBe(1);
    expect(decideLayer(base({ availableBitrateBps: 300_000 }), at(2, 99_999)).spatialLayer).toBe(0);
    // Layer 0 is the floor: video is not switched off for bandwidth.
    expect(decideLayer(base({ availableBitrateBps: 10_000 }), at(2)).spatialLayer).toBe(0);
  });

  test('unknown bandwidth imposes no limit', () => {
    expect(decideLayer(base({ availableBitrateBps: undefined }), at(2)).spatialLayer).toBe(2);
  });

  test('uses the layer bitrates it is given', () => {
    const custom = { ...cfg, layerBitratesBps: [100_000, 200_000, 400_000] };
    expect(decideLayer(base({ availableBitrateBps: 450_000 }), at(2), custom).spatialLayer).toBe(2);
    expect(decideLayer(base({ availableBitrateBps: 450_000 }), at(2)).spatialLayer).toBe(0);
  });
});

describe('layer policy: score', () => {
  test('a poor score steps one layer down, then waits downHoldMs before the next step', () => {
    let s = decideLayer(base({ score: 3, now: 10_000 }), at(2, 0));
    expect(s.spatialLayer).toBe(1);
    s = decideLayer(base({ score: 3, now: 10_000 + cfg.downHoldMs - 1 }), s);
    expect(s.spatialLayer).toBe(1);
    s = decideLayer(base({ score: 3, now: 10_000 + cfg.downHoldMs }), s);
    expect(s.spatialLayer).toBe(0);
    s = decideLayer(base({ score: 0, now: 60_000 }), s);
    expect(s.spatialLayer).toBe(0);
  });

  test('a middling score neither drops nor climbs', () => {
    let s: LayerPolicyState = at(1, 0);
    for (let t = 10_000; t < 60_000; t += 2_000) {
      s = decideLayer(base({ score: 7, now: t }), s);
      expect(s.spatialLayer).toBe(1);
    }
  });
});

describe('layer policy: climbing back with hysteresis', () => {
  test('climbs one layer only after good conditions held for upHoldMs', () => {
    let s: LayerPolicyState = at(0, 0);
    s = decideLayer(base({ now: 20_000 }), s);
    expect(s.spatialLayer).toBe(0);
    expect(s.upSince).toBe(20_000);
    s = decideLayer(base({ now: 20_000 + cfg.upHoldMs - 1 }), s);
    expect(s.spatialLayer).toBe(0);
    s = decideLayer(base({ now: 20_000 + cfg.upHoldMs }), s);
    expect(s.spatialLayer).toBe(1);
    // The next layer needs its own full hold.
    const t1 = 20_000 + cfg.upHoldMs;
    s = decideLayer(base({ now: t1 + 1 }), s);
    expect(s.spatialLayer).toBe(1);
    s = decideLayer(base({ now: t1 + 1 + cfg.upHoldMs }), s);
    expect(s.spatialLayer).toBe(2);
  });

  test('a dip in the conditions resets the climb timer', () => {
    let s: LayerPolicyState = at(0, 0);
    s = decideLayer(base({ now: 20_000 }), s);
    s = decideLayer(base({ now: 24_000, score: 6 }), s);
    expect(s.upSince).toBeUndefined();
    s = decideLayer(base({ now: 28_000 + 1 }), s);
    expect(s.spatialLayer).toBe(0);
    s = decideLayer(base({ now: 28_001 + cfg.upHoldMs }), s);
    expect(s.spatialLayer).toBe(1);
  });

  test('needs more headroom to climb than to stay (no flapping at the edge)', () => {
    // 1.6 Mbps carries layer 2 (1.5 Mbps) but is short of 1.3 x 1.5 Mbps to climb to it.
    const edge = 1_600_000;
    expect(decideLayer(base({ availableBitrateBps: edge }), at(2)).spatialLayer).toBe(2);
    let s: LayerPolicyState = at(1, 0);
    for (let t = 10_000; t < 120_000; t += 2_000) s = decideLayer(base({ availableBitrateBps: edge, now: t }), s);
    expect(s.spatialLayer).toBe(1);
  });

  test('does not climb right after a drop', () => {
    let s = decideLayer(base({ availableBitrateBps: 300_000, now: 50_000 }), at(2, 0));
    expect(s.spatialLayer).toBe(0);
    s = decideLayer(base({ now: 50_001 }), s);
    s = decideLayer(base({ now: 50_000 + cfg.upHoldMs - 1 }), s);
    expect(s.spatialLayer).toBe(0);
    s = decideLayer(base({ now: 50_001 + cfg.upHoldMs }), s);
    expect(s.spatialLayer).toBe(1);
  });
});
