// Which way the media reaches this page: the selected ICE candidate pair of a transport.
// `relay` when the local candidate is a TURN allocation (whatever carries it to the
// relay: UDP, TCP or TLS), else the protocol straight to the SFU: `udp`, or `tcp` (ICE-TCP).
// `unknown` when the statistics name no such local candidate, or none with a protocol:
// the pair is up, but how it goes cannot be told, and it is not shown as UDP.
import type { types as msc } from 'mediasoup-client';
import type { MediaPath } from '../../../server/contract/attendance';
import type { Text } from '../ui/i18n';

export interface SelectedPair {
  path: MediaPath;
  /** How the page reaches the relay (udp, tcp, tls), for `relay` only. */
  relayProtocol: string | null;
  rttMs: number | null;
}

export async function selectedPair(transport: msc.Transport | undefined): Promise<SelectedPair | undefined> {
  if (!transport || transport.closed) return undefined;
  const stats = await transport.getStats();
  const all = [...stats.values()] as Record<string, unknown>[];
  const ts = all.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
  const pair =
    all.find((s) => s.id === ts?.selectedCandidatePairId) ??
    all.find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated);
  if (!pair) return undefined;
  const local = all.find((s) => s.id === pair.localCandidateId);
  const rtt = typeof pair.currentRoundTripTime === 'number' ? Math.round(pair.currentRoundTripTime * 1000) : null;
  const relayed = local?.candidateType === 'relay';
  return {
    path: relayed ? 'relay' : local?.protocol === 'tcp' ? 'tcp' : local?.protocol === 'udp' ? 'udp' : 'unknown',
    relayProtocol: relayed && typeof local?.relayProtocol === 'string' ? local.relayProtocol : null,
    rttMs: rtt,
  };
}

export const PATH_TEXT: Record<MediaPath, Text> = {
  udp: ['UDP trực tiếp', 'direct UDP'],
  tcp: ['TCP trực tiếp', 'direct TCP'],
  relay: ['qua máy chủ chuyển tiếp (relay)', 'through the relay'],
  unknown: ['không rõ', 'unknown'],
};
