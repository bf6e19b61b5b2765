// Cluster mode of the load generator (--cluster): one Redis, an origin (the
// host publishes into it), N edges (the points' media, piped from the origin) and a
// control server (join links, REST, the monitor), each a `server/main.ts` process on
// loopback with the environment tests/helpers/cluster.ts gives its nodes.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { EmbeddedRedis } from '../../server/redis/embedded-redis';
import { httpJson } from './http';
import { spawnServer, type ServerHandle } from './spawn';

export interface ClusterSpec {
  edges: number;
  /** mediasoup workers of each edge (the origin has one: it only feeds the pipes). */
  edgeWorkers: number;
}

export interface ClusterNode extends ServerHandle {
  name: string;
  role: 'origin' | 'edge' | 'control';
}

export interface ClusterHandle {
  redisPid: number | undefined;
  nodes: ClusterNode[];
  origin: ClusterNode;
  edges: ClusterNode[];
  control: ClusterNode;
  stop: () => Promise<void>;
}

/** `origin+2edges` (or `2`) → 2 edges. */
export function parseClusterSpec(raw: string, edgeWorkers: number): ClusterSpec {
  const m = /^(?:origin\+)?(\d+)(?:\s*edges?)?$/.exec(raw.trim());
  const edges = m ? Number(m[1]) : NaN;
  if (!Number.isInteger(edges) || edges < 1 || edges > 16)
    throw new Error(`--cluster wants origin+Nedges with 1 <= N <= 16, got ${raw}`);
  return { edges, edgeWorkers: Math.max(1, edgeWorkers) };
}

export interface NodeSpec {
  /** The run's folder: the node's data goes under `dir/name`, kept until the run removes it. */
  dir: string;
  name: string;
  redisUrl: string;
  role: ClusterNode['role'];
  workers: number;
  admin: { username: string; password: string };
  appSecret: string;
  /** More of the node's environment. */
  env?: Record<string, string>;
}

/** Starts one node of a cluster (server/main.ts) on the shared Redis, as NODE_ID `name`. */
export async function startNode(n: NodeSpec, log: (l: string) => void): Promise<ServerHandle> {
  const dataDir = path.join(n.dir, n.name);
  mkdirSync(dataDir, { recursive: true });
  return spawnServer(
    {
      name: n.name,
      env: {
        REDIS_URL: n.redisUrl,
        NODE_ROLE: n.role,
        NODE_ID: n.name,
        SHUTDOWN_TIMEOUT_MS: '8000',
        ...n.env,
      },
      dataDir,
      removeDataDir: false,
      workers: n.workers,
      admin: n.admin,
      appSecret: n.appSecret,
    },
    log,
  );
}

export async function startCluster(
  spec: ClusterSpec,
  admin: { username: string; password: string },
  log: (l: string) => void,
): Promise<ClusterHandle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'loadgen-cluster-'));
  const redis = await EmbeddedRedis.start({ dir: path.join(dir, 'redis') });
  log(`redis ready at ${redis.url} (pid ${redis.pid})`);
  const nodes: ClusterNode[] = [];
  const appSecret = randomBytes(32).toString('hex');
  const start = async (name: string, role: ClusterNode['role'], workers: number): Promise<ClusterNode> => {
    const h = await startNode(
      {
        dir,
        name,
        redisUrl: redis.url,
        role,
        workers,
        admin,
        appSecret,
        // Faster than the defaults (2 s / 6 s) so a dead edge's points move within seconds.
        env: { CLUSTER_HEARTBEAT_MS: '1000', CLUSTER_NODE_TTL_MS: '3000' },
      },
      log,
    );
    const node = { ...h, name, role };
    nodes.push(node);
    return node;
  };
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    await redis.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // The origin first: it seeds the admin and the registry; the others start together.
    const origin = await start('origin-1', 'origin', 1);
    const [control, ...edges] = await Promise.all([
      start('control-1', 'control', 1),
      ...Array.from({ length: spec.edges }, (_, i) => start(`edge-${i + 1}`, 'edge', spec.edgeWorkers)),
    ]);
    return { redisPid: redis.pid, nodes, origin, edges, control: control!, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Where a point's page would connect (client/src/point/cluster.ts): the node the cluster
 * assigns its token, or `controlUrl` itself when it answers 204 (one process, no cluster).
 */
export async function locatePoint(controlUrl: string, token: string): Promise<string> {
  const r = await httpJson<{ url?: string }>(`${controlUrl}/cluster/v1/join/${encodeURIComponent(token)}/node`, {
    timeoutMs: 10_000,
  });
  if (r.status === 204) return controlUrl;
  if (r.status !== 200 || typeof r.body?.url !== 'string') throw new Error(`locate: HTTP ${r.status}`);
  return new URL(r.body.url).origin;
}
