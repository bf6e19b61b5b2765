// Redis keys and channels of the scale-out layer, in one place.
export const clusterKeys = {
  /** Sealed JSON NodeInfo (sealed.ts), expiring after CLUSTER_NODE_TTL_MS without a heartbeat. */
  node: (id: string) => `cluster:node:${id}`,
  /** Ids of the nodes that registered (expired ones are pruned when listed). */
  nodes: 'cluster:nodes',
  /** Hash pointId → nodeId: the node a point's page connects to. The three assign hashes
   * expire together, ASSIGN_KEEP_SECONDS (assignment.ts) after the session's last decision or
   * claim, and go when the session ends. */
  assign: (sessionId: string) => `cluster:assign:${sessionId}`,
  /** Hash district → nodeId: a district's points go together. */
  assignDistrict: (sessionId: string) => `cluster:assign:${sessionId}:district`,
  /** Hash nodeId → how many of the session's points `assign` sends there (kept with it). */
  assignCounts: (sessionId: string) => `cluster:assign:${sessionId}:count`,
  /** Hash nodeId → JSON { startedAt, hands }: each node's raised hands of a session. */
  hands: (sessionId: string) => `cluster:hands:${sessionId}`,
  /** Sealed FloorGrant (floor-grants.ts): the point holding a session's floor and its node. */
  floorGrant: (sessionId: string) => `cluster:floor:${sessionId}`,
};

export const clusterChannels = {
  /** SessionEvents relayed between processes. */
  sessionEvents: 'cluster:session-events',
  /** A feeding node's (origin, or edge in a tree) producers of a session appearing, closing, pausing, resuming. */
  producers: (nodeId: string, sessionId: string) => `cluster:producers:${nodeId}:${sessionId}`,
  producersPattern: 'cluster:producers:*',
  /** [nodeId, sessionId] of a producers channel (node ids hold no colon). */
  parseProducers: (channel: string): [string, string] | undefined => {
    const m = /^cluster:producers:([^:]+):(.+)$/.exec(channel);
    return m ? [m[1]!, m[2]!] : undefined;
  },
};
