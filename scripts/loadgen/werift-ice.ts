// ICE from Node to a mediasoup WebRtcTransport with werift: controlling, against
// mediasoup's ICE-lite, loopback only (no other interface is gathered; the machines this
// runs on allow loopback traffic only). Shared by the load generator's receivers and the
// tests' RTP peers, which then run DTLS over the connection in their own ways.
import { Candidate, Connection } from 'werift';

export interface IceRemote {
  iceParameters: { usernameFragment: string; password: string };
  iceCandidates: {
    foundation: string;
    priority: number;
    ip?: string;
    address?: string;
    protocol: string;
    port: number;
  }[];
}

/** Rejects with "<what> timed out" after `ms`. */
export function withTimeout<T>(p: Promise<T>, what: string, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} timed out`)), ms).unref()),
  ]);
}

/**
 * Connects ICE to the transport's UDP candidates. `created` gets the connection before it
 * connects, so that its owner can close it while it is still connecting.
 */
export async function iceToMediasoup(
  remote: IceRemote,
  timeoutMs: number,
  created: (ice: Connection) => void = () => undefined,
): Promise<Connection> {
  const ice = new Connection(true, {
    useIpv4: false,
    useIpv6: false,
    additionalHostAddresses: ['127.0.0.1'],
    interfaceAddresses: { udp4: '127.0.0.1' },
  });
  created(ice);
  ice.setRemoteParams({
    iceLite: true,
    usernameFragment: remote.iceParameters.usernameFragment,
    password: remote.iceParameters.password,
  });
  await ice.gatherCandidates();
  for (const c of remote.iceCandidates) {
    if (c.protocol !== 'udp') continue;
    await ice.addRemoteCandidate(
      new Candidate(c.foundation, 1, 'udp', c.priority, c.ip ?? c.address ?? '', c.port, 'host'),
    );
  }
  await ice.addRemoteCandidate(undefined);
  await withTimeout(ice.connect(), 'ICE', timeoutMs);
  return ice;
}
