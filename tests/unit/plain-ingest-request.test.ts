// The plain RTP ingest request as a hardware encoder's operator sends it on /host: each
// simulcast layer's bitrate may be declared, one per layer, rising from the lowest.
import { PlainIngestRequestSchema } from '../../server/contract/broadcast';

const video = (extra: Record<string, unknown>) => ({
  video: { ssrc: 1000, payloadType: 101, simulcastSsrcs: [1001, 1002], ...extra },
});
const parse = (v: unknown) => PlainIngestRequestSchema.safeParse(v);

test('three layers with their bitrates are accepted, as are none', () => {
  expect(parse(video({ layerBitratesBps: [150_000, 500_000, 1_200_000] })).success).toBe(true);
  expect(parse(video({})).success).toBe(true);
  expect(parse({ video: { ssrc: 7, payloadType: 101, layerBitratesBps: [2_000_000] } }).success).toBe(true);
});

test.each([
  ['a bitrate missing for a layer', [150_000, 500_000]],
  ['one bitrate too many', [150_000, 500_000, 1_200_000, 2_000_000]],
  ['falling from one layer to the next', [500_000, 150_000, 1_200_000]],
  ['two equal layers', [500_000, 500_000, 1_200_000]],
  ['a fraction', [150_000.5, 500_000, 1_200_000]],
  ['infinity', [150_000, 500_000, Infinity]],
  ['zero', [0, 500_000, 1_200_000]],
  ['below 10 kbps', [5_000, 500_000, 1_200_000]],
  ['above 50 Mbps', [150_000, 500_000, 60_000_000]],
  ['text', ['150k', '500k', '1.2M']],
])('refused: %s', (_what, layerBitratesBps) => {
  const r = parse(video({ layerBitratesBps }));
  expect(r.success).toBe(false);
});
