// The media path a point page reports (client/src/rtc/media-path.ts), read from its
// transport's statistics: relay, else the local candidate's protocol; `unknown` when the
// statistics do not name one, never taken for UDP.
import type { types as msc } from 'mediasoup-client';
import { PATH_TEXT, selectedPair } from '../../client/src/rtc/media-path';
import { MediaPathSchema } from '../../server/contract/attendance';

type Stat = Record<string, unknown>;

/** A transport whose getStats() answers `stats` (each with an `id`). */
const transport = (stats: Stat[]) =>
  ({
    closed: false,
    getStats: async () => new Map(stats.map((s) => [s.id as string, s])),
  }) as unknown as msc.Transport;

const pairTo = (local: Stat | undefined): Stat[] => [
  { id: 'T1', type: 'transport', selectedCandidatePairId: 'CP1' },
  { id: 'CP1', type: 'candidate-pair', localCandidateId: 'L1', currentRoundTripTime: 0.042 },
  ...(local ? [{ id: 'L1', type: 'local-candidate', ...local }] : []),
];

test('a host candidate over UDP or TCP is that protocol; a relayed one is relay, with its way to the relay', async () => {
  expect(await selectedPair(transport(pairTo({ candidateType: 'host', protocol: 'udp' })))).toEqual({
    path: 'udp',
    relayProtocol: null,
    rttMs: 42,
  });
  expect((await selectedPair(transport(pairTo({ candidateType: 'host', protocol: 'tcp' }))))?.path).toBe('tcp');
  expect(
    await selectedPair(transport(pairTo({ candidateType: 'relay', protocol: 'udp', relayProtocol: 'tls' }))),
  ).toMatchObject({ path: 'relay', relayProtocol: 'tls' });
});

test('a pair whose local candidate is missing, or has no protocol, is unknown, not UDP', async () => {
  expect(await selectedPair(transport(pairTo(undefined)))).toEqual({ path: 'unknown', relayProtocol: null, rttMs: 42 });
  expect((await selectedPair(transport(pairTo({ candidateType: 'host' }))))?.path).toBe('unknown');
});

test('no selected pair is no path at all', async () => {
  expect(await selectedPair(transport([{ id: 'T1', type: 'transport' }]))).toBeUndefined();
  expect(await selectedPair(undefined)).toBeUndefined();
});

test('every path the contract carries has words for the page', () => {
  for (const p of MediaPathSchema.options) expect(PATH_TEXT[p]).toHaveLength(2);
  expect(MediaPathSchema.safeParse('unknown').success).toBe(true);
});
