// The scale-out section of the environment (NODE_*, CLUSTER_*): its variables, the
// rule tying them to APP_SECRET, and the `ClusterConfig` made of them (server/cluster/).
import os from 'node:os';
import { z } from 'zod';
import { ipv4OrV6, wholeNumber } from './fields';

/** Scale-out: `all` is the single-process default; see server/cluster/. */
export const clusterEnv = {
  NODE_ROLE: z.enum(['all', 'control', 'origin', 'edge']).default('all'),
  NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, dot, dash or underscore')
    .optional(),
  NODE_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  NODE_INTERNAL_URL: z.url({ protocol: /^https?$/ }).optional(),
  NODE_REGION: z.string().min(1).max(100).optional(),
  CLUSTER_HEARTBEAT_MS: wholeNumber().min(200).max(60_000).default(2000),
  CLUSTER_NODE_TTL_MS: wholeNumber().min(600).max(300_000).default(6000),
  CLUSTER_PIPE_IP: ipv4OrV6.optional(),
  NODE_UPSTREAM: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be a NODE_ID')
    .optional(),
};

type ClusterEnv = z.output<z.ZodObject<typeof clusterEnv>>;

/** This process's place in a multi-node deployment (server/cluster/). */
export interface ClusterConfig {
  /** all: everything in one process (default); control: API, sockets, jobs, no points'
   * media; origin: receives the host; edge: serves points from the origin's stream. */
  role: 'all' | 'control' | 'origin' | 'edge';
  /** Unique within the cluster; default `<hostname>-<port>`. */
  nodeId: string;
  /** Where points and other nodes reach this node; default PUBLIC_URL, else the listening address. */
  publicUrl: string | undefined;
  /** Where other nodes call this one (the internal pipe API); default publicUrl. */
  internalUrl: string | undefined;
  /** Points of this district (or region) go to this edge first. */
  region: string | undefined;
  heartbeatMs: number;
  /** A node whose heartbeat is older than this is dead. */
  ttlMs: number;
  /** Where PipeTransports between SFU nodes listen and are reached (a private address);
   * undefined: RTC_LISTEN_IP, announced as RTC_ANNOUNCED_IP. */
  pipeIp: string | undefined;
  /** Edge: the node it takes the broadcast from (another edge, for a tree); default the origin. */
  upstream: string | undefined;
}

export function checkClusterEnv(env: ClusterEnv & { APP_SECRET?: string | undefined }, ctx: z.RefinementCtx): void {
  if (env.NODE_ROLE !== 'all' && env.APP_SECRET === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['APP_SECRET'],
      message: `required with NODE_ROLE=${env.NODE_ROLE}: every node of a cluster signs with the same secret (openssl rand -hex 32)`,
    });
  }
}

export function clusterConfig(e: ClusterEnv & { PORT: number; PUBLIC_URL?: string | undefined }): ClusterConfig {
  return {
    role: e.NODE_ROLE,
    nodeId:
      e.NODE_ID ??
      `${os
        .hostname()
        .replace(/[^A-Za-z0-9_.-]/g, '-')
        .slice(0, 50)}-${e.PORT}`,
    publicUrl: (e.NODE_PUBLIC_URL ?? e.PUBLIC_URL)?.replace(/\/+$/, ''),
    internalUrl: e.NODE_INTERNAL_URL?.replace(/\/+$/, ''),
    region: e.NODE_REGION,
    heartbeatMs: e.CLUSTER_HEARTBEAT_MS,
    ttlMs: Math.max(e.CLUSTER_NODE_TTL_MS, e.CLUSTER_HEARTBEAT_MS * 2),
    pipeIp: e.CLUSTER_PIPE_IP,
    upstream: e.NODE_UPSTREAM,
  };
}
