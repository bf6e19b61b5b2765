// How much one peer may hold in a broadcast room. A point's page needs one receive
// transport with a consumer per source it receives (host camera, microphone and slides,
// the floor's camera and microphone) and, while it holds the floor, a send transport; the
// host console a send and a receive transport. A page that rebuilds its media makes the new
// transport before the old one is closed. Beyond these caps a request is refused with
// `limit_exceeded` (a leaked join link must not be able to fill a worker with transports
// and consumers); a transport or consumer that closes gives its place back.
export interface PeerLimits {
  /** Open transports per peer, counting those being created. */
  maxTransportsPerPeer: number;
  /** Consumers per receive transport. A peer has one consumer per producer in any case. */
  maxConsumersPerTransport: number;
}

export const DEFAULT_PEER_LIMITS: PeerLimits = {
  // A send and a receive transport, and a new one of each while a rebuild replaces the old.
  maxTransportsPerPeer: 4,
  // The five sources twice over: room for a second host console or a plain ingest beside the host.
  maxConsumersPerTransport: 10,
};
