// Several server processes (server/main.ts children) on loopback, one Redis: a cluster.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import { connectSocket } from './briefing';
import { TEST_APP_SECRET, waitFor } from './orchestrator';
import { tiedSpawn } from '../../server/platform/tied-spawn';

const ROOT = path.resolve(__dirname, '..', '..');

export interface NodeProcess {
  name: string;
  child: ChildProcess;
  url: string;
  out: () => string;
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

export async function startNode(name: string, env: Record<string, string>): Promise<NodeProcess> {
  const base = { ...process.env };
  for (const k of Object.keys(base))
    if (/^(NODE_ROLE|NODE_ID|NODE_PUBLIC_URL|NODE_REGION|PUBLIC_URL)$/.test(k)) delete base[k];
  // Recordings (of the origin) go to a temp dir, never into the checkout.
  const recordings = fs.mkdtempSync(path.join(os.tmpdir(), `briefing-node-rec-${name}-`));
  const child = tiedSpawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      ...base,
      NODE_ENV: 'test',
      LOG_PRETTY: 'false',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: '0',
      RTC_LISTEN_IP: '127.0.0.1',
      RTC_PORT: '0',
      MEDIASOUP_WORKERS: '1',
      NODE_ID: name,
      CLUSTER_HEARTBEAT_MS: '500',
      CLUSTER_NODE_TTL_MS: '1500',
      SHUTDOWN_TIMEOUT_MS: '5000',
      // Every node of a cluster signs with the same secret.
      APP_SECRET: TEST_APP_SECRET,
      RECORDING_DIR: recordings,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (b) => (text = (text + b).slice(-200_000)));
  child.stderr!.on('data', (b) => (text = (text + b).slice(-200_000)));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      fs.rmSync(recordings, { recursive: true, force: true });
      resolve(code);
    }),
  );
  let url: string;
  try {
    url = await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`${name} exited: ${text.slice(-2000)}`);
        return /Host console:\s+(\S+)\/host/.exec(text)?.[1];
      },
      `${name} to listen`,
      60_000,
      100,
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    name,
    child,
    url,
    out: () => text,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

// Ack payloads are validated by the server's output schemas; here they are read loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
type Ack = { ok: true; data: Loose } | { ok: false; error: { code: string; message: string } };
export async function ok(s: Socket, event: string, payload: unknown = {}): Promise<Loose> {
  const res = (await s.timeout(10_000).emitWithAck(event, payload)) as Ack;
  if (!res.ok) throw new Error(`${event}: ${res.error.code} ${res.error.message}`);
  return res.data;
}

/** A point page as join.ts behaves in a cluster: ask where to connect, connect there, consume the hall. */
export class PointClient {
  socket: Socket | undefined;
  nodeUrl = '';
  consumers = 0;
  constructor(
    readonly pointId: string,
    readonly token: string,
    readonly controlUrl: string,
  ) {}

  async locate(): Promise<string> {
    const res = await fetch(`${this.controlUrl}/cluster/v1/join/${encodeURIComponent(this.token)}/node`);
    if (!res.ok) throw new Error(`locate: ${res.status}`);
    return ((await res.json()) as { url: string }).url;
  }

  /** Connects where the cluster says; retries while the answer points at a node that is gone. */
  async connect(): Promise<void> {
    this.socket?.close();
    this.socket = await waitFor(
      async () => {
        this.nodeUrl = await this.locate();
        return connectSocket(this.nodeUrl, '/point', { token: this.token });
      },
      `point ${this.pointId} to connect`,
      30_000,
      250,
    );
  }

  async receiveHall(): Promise<void> {
    const s = this.socket!;
    // A node that has just started answers a socket's first requests only once it has
    // loaded the session (point-namespace binds the handlers after an async lookup).
    await waitFor(() => s.timeout(1000).emitWithAck('view:get', {}), 'the node to answer', 15_000, 0);
    const { routerRtpCapabilities } = await ok(s, 'rtc:capabilities');
    const t = await ok(s, 'rtc:createTransport', { direction: 'recv', rtpCapabilities: routerRtpCapabilities });
    const producers = await waitFor(
      async () => {
        const v = (await ok(s, 'view:get')) as { producers: { producerId: string; source: string }[] };
        return v.producers.length >= 2 ? v.producers : undefined;
      },
      `the hall's producers on ${this.nodeUrl}`,
      15_000,
      200,
    );
    this.consumers = 0;
    for (const p of producers) {
      const c = await ok(s, 'rtc:consume', { transportId: t.id, producerId: p.producerId });
      await ok(s, 'rtc:resumeConsumer', { consumerId: c.id });
      this.consumers++;
    }
  }
}
