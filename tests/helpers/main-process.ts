// The server process as `npm start` runs it (server/main.ts, or npm itself), with the
// environment given on top of the test's (its REDIS_URL, TURN, TLS and address variables
// removed), its output collected.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { tiedSpawn } from '../../server/platform/tied-spawn';

const ROOT = path.resolve(__dirname, '..', '..');

/** On loopback, any free port, one mediasoup worker, its data (the embedded Redis' too) in `dataDir`. */
export const onLoopback = (dataDir: string): Record<string, string> => ({
  DATA_DIR: dataDir,
  HOST: '127.0.0.1',
  PORT: '0',
  RTC_LISTEN_IP: '127.0.0.1',
  RTC_PORT: '0',
  MEDIASOUP_WORKERS: '1',
});

export function startMain(
  env: Record<string, string>,
  how: 'main' | 'npm start' | 'npm run demo' = 'main',
): {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
} {
  const base = { ...process.env };
  delete base.REDIS_URL;
  for (const k of Object.keys(base)) if (/^(TURN|TLS|PUBLIC_URL|RTC_ANNOUNCED_IP|TRUST_PROXY)/.test(k)) delete base[k];
  const [cmd, args] =
    how === 'npm start'
      ? ['npm', ['start', '--silent']]
      : how === 'npm run demo'
        ? ['npm', ['run', 'demo', '--silent']]
        : [process.execPath, ['--import', 'tsx', 'server/main.ts']];
  const child = tiedSpawn(cmd, args, {
    cwd: ROOT,
    env: { ...base, LOG_PRETTY: 'false', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, as a terminal would run it (Ctrl-C signals the group).
    detached: how !== 'main',
  });
  let text = '';
  child.stdout!.on('data', (b) => (text += b));
  child.stderr!.on('data', (b) => (text += b));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => text, exited };
}
