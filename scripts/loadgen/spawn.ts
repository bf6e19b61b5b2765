// One orchestrator process (`server/main.ts`) on loopback for a load run: the single
// server of a plain run, or one node (origin, edge, control) of a cluster run.
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tiedSpawn } from '../../server/platform/tied-spawn';
import { freePort, httpJson, sleep } from './http';

export interface ServerHandle {
  baseUrl: string;
  pid: number | undefined;
  stop: () => Promise<void>;
  /**
   * Where the process's JSON log lines (its stdout) go, from byte `from` on, and the level
   * it logs at; absent for a server this run did not start (./server-log.ts reads it).
   */
  log?: ServerLog;
}

export interface ServerLog {
  file: string;
  from: number;
  level: string;
}

export interface SpawnServerOptions {
  /** For log lines. */
  name: string;
  /** Extra environment (a cluster node's role, id and Redis). */
  env: Record<string, string>;
  dataDir: string;
  /** Remove dataDir when stopped. */
  removeDataDir: boolean;
  workers: number;
  admin: { username: string; password: string };
  appSecret: string;
}

/** One `server/main.ts` process on loopback, ready (/readyz) when this resolves. */
export async function spawnServer(s: SpawnServerOptions, log: (l: string) => void): Promise<ServerHandle> {
  const port = await freePort();
  const root = path.resolve(__dirname, '..', '..');
  const base = { ...process.env };
  // Each process's log lines (LOADGEN_LOG_LEVEL, default info: the SFU's video stops are
  // info) go to a file, written by the server without a pipe back into this process: kept in
  // LOADGEN_LOG_DIR/<name>.log when set (appended to), else in a temporary folder removed
  // on stop, when starting fails, and when the generator exits (Ctrl-C, an error). The run
  // reads it once at its end.
  const logDir = process.env.LOADGEN_LOG_DIR;
  if (logDir) mkdirSync(logDir, { recursive: true });
  const tmpLogDir = logDir ? undefined : mkdtempSync(path.join(os.tmpdir(), 'loadgen-log-'));
  // A data folder the run made (removeDataDir) goes the same ways: a run stopped by a
  // signal leaves neither behind.
  const dropTemp = () => {
    process.removeListener('exit', dropTemp);
    // Run in 'exit' too, where a throw would turn the exit code (130 after SIGINT) into 1:
    // a folder a just-killed process (Redis) still wrote into is retried, then left.
    for (const dir of [tmpLogDir, s.removeDataDir ? s.dataDir : undefined]) {
      if (!dir) continue;
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // left behind
      }
    }
  };
  if (tmpLogDir || s.removeDataDir) process.once('exit', dropTemp);
  const logFile = path.join(logDir ?? tmpLogDir!, `${s.name}.log`);
  try {
    return await startLogged(s, log, { port, root, base, logFile, dropTemp });
  } catch (err) {
    dropTemp();
    throw err;
  }
}

async function startLogged(
  s: SpawnServerOptions,
  log: (l: string) => void,
  c: { port: number; root: string; base: NodeJS.ProcessEnv; logFile: string; dropTemp: () => void },
): Promise<ServerHandle> {
  const { port, root, base, logFile, dropTemp } = c;
  // The level it will log at (s.env may set it, and comes last).
  const logLevel = s.env.LOG_LEVEL ?? process.env.LOADGEN_LOG_LEVEL ?? 'info';
  const logFrom = existsSync(logFile) ? statSync(logFile).size : 0;
  const stdout = openSync(logFile, 'a');
  // A node's identity comes from its env here only, never from the caller's shell.
  for (const k of Object.keys(base))
    if (/^(NODE_ROLE|NODE_ID|NODE_PUBLIC_URL|NODE_REGION|PUBLIC_URL)$/.test(k)) delete base[k];
  // Tied to the generator: a run stopped outright (SIGTERM, SIGKILL) takes its servers with
  // it, and each server its workers, Redis and recorders.
  const child: ChildProcess = tiedSpawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    deathSignal: 'SIGTERM',
    cwd: root,
    env: {
      ...base,
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: s.dataDir,
      RTC_LISTEN_IP: '127.0.0.1',
      RTC_ANNOUNCED_IP: '127.0.0.1',
      RTC_PORT: '0',
      MEDIASOUP_WORKERS: String(s.workers),
      LOG_LEVEL: logLevel,
      LOG_PRETTY: 'false',
      ADMIN_USERNAME: s.admin.username,
      ADMIN_PASSWORD: s.admin.password,
      APP_SECRET: s.appSecret,
      REDIS_URL: '',
      ...s.env,
    },
    stdio: ['ignore', stdout, 'pipe'],
  });
  closeSync(stdout);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  child.once('exit', (code, signal) => {
    if (!stopping) log(`${s.name} exited (${code ?? signal}): ${stderr.slice(-2000)}`);
  });
  let stopping = false;
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${s.name} exited (${child.exitCode}): ${stderr}`);
    const r = await httpJson(`${baseUrl}/readyz`, { timeoutMs: 2000 }).catch(() => undefined);
    if (r?.status === 200) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${s.name} not ready in 120 s: ${stderr}`);
    }
    await sleep(300);
  }
  log(`${s.name} ready at ${baseUrl} (pid ${child.pid})`);
  return {
    baseUrl,
    pid: child.pid,
    stop: async () => {
      stopping = true;
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const exited = await Promise.race([
          new Promise<boolean>((r) => child.once('exit', () => r(true))),
          new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 15_000))),
        ]);
        clearTimeout(timer);
        if (!exited) child.kill('SIGKILL');
      }
      dropTemp();
    },
    log: { file: logFile, from: logFrom, level: logLevel },
  };
}
