// Scale-out: the nodes of a multi-node deployment as the monitor and the point page see
// them. Imports only zod: the browser imports this file.
import { z } from 'zod';
import { defineRequests } from './socket';

export const NODE_ROLES = ['all', 'control', 'origin', 'edge'] as const;
export const NodeRoleSchema = z.enum(NODE_ROLES);
export type NodeRole = z.infer<typeof NodeRoleSchema>;

export const NodeInfoSchema = z.object({
  id: z.string(),
  role: NodeRoleSchema,
  /** Where browsers reach it (points' pages, the host's console). */
  url: z.string(),
  /** Where other nodes call it. */
  internalUrl: z.string(),
  region: z.string().nullable(),
  startedAt: z.string(),
  heartbeatAt: z.string(),
  load: z.object({
    /** Point sockets connected to this node, all sessions. */
    points: z.number().int(),
    /** mediasoup consumers on this node's routers. */
    consumers: z.number().int(),
    /** Live mediasoup workers. */
    workers: z.number().int(),
    /** Workers' CPU since the previous heartbeat, percent of one core, summed. */
    cpuPct: z.number(),
  }),
  /** The points connected here, by session. */
  sessions: z.record(z.string(), z.array(z.string())),
  /** The points receiving the hall's video here, by session (the host's numbers add them up). */
  receiving: z.record(z.string(), z.array(z.string())).optional(),
  /** Edge: the streams piped in, by session: from which node, how many, RTP bytes received so far. */
  feeds: z.record(
    z.string(),
    z.object({ upstream: z.string().nullable(), producers: z.number().int(), bytes: z.number() }),
  ),
});
export type NodeInfo = z.infer<typeof NodeInfoSchema>;

/** GET /cluster/v1/join/:token/node: where a point's page connects its socket and media. */
export const PointNodeSchema = z.object({ nodeId: z.string(), url: z.string(), role: NodeRoleSchema });
export type PointNode = z.infer<typeof PointNodeSchema>;

/**
 * GET /cluster/v1/node-urls (no login): the public URLs of the cluster's nodes and its
 * PUBLIC_URL, nothing else. A point page follows a `?home=` only to one of them.
 */
export const NodeUrlsSchema = z.object({ urls: z.array(z.string()) });
export type NodeUrls = z.infer<typeof NodeUrlsSchema>;

/** Extra requests on the `/monitor` namespace when the server runs as a cluster. */
export const clusterMonitorRequests = defineRequests({
  'cluster:nodes': { input: z.object({}).strict().optional(), output: z.array(NodeInfoSchema) },
});
export type ClusterMonitorRequests = typeof clusterMonitorRequests;
