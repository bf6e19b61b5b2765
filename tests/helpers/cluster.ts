// Several server processes (server/main.ts children) on loopback, one Redis: a cluster.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './orchestrator';

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
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
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
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (b) => (text = (text + b).slice(-200_000)));
  child.stderr!.on('data', (b) => (text = (text + b).slice(-200_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
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
