// `npm start`'s process as a user runs it: embedded Redis, workers, pages, signals.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from '../helpers/orchestrator';

const ROOT = path.resolve(__dirname, '..', '..');

function startMain(env: Record<string, string>): {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
} {
  const base = { ...process.env };
  delete base.REDIS_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...base, LOG_PRETTY: 'false', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (b) => (text += b));
  child.stderr!.on('data', (b) => (text += b));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, out: () => text, exited };
}

describe('the main process (npm start)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-main-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('starts an embedded Redis with data under DATA_DIR, prints the page URLs, is ready, and stops cleanly on SIGTERM', async () => {
    const m = startMain({
      DATA_DIR: dir,
      HOST: '127.0.0.1',
      PORT: '0',
      RTC_LISTEN_IP: '127.0.0.1',
      RTC_PORT: '0',
      MEDIASOUP_WORKERS: '1',
    });
    try {
      const url = await waitFor(
        () => /Host console:\s+(\S+)\/host/.exec(m.out())?.[1],
        'the URLs to be printed',
        30_000,
      );
      expect(m.out()).toMatch(/Connection monitor:\s+\S+\/monitor/);
      const res = await fetch(`${url}/readyz`);
      expect(res.status).toBe(200);
      expect(fs.readdirSync(path.join(dir, 'redis')).some((f) => f.startsWith('appendonly'))).toBe(true);
      // No APP_SECRET: a random one, kept beside the data, readable by this user only.
      expect(fs.statSync(path.join(dir, 'app-secret')).mode & 0o777).toBe(0o600);
      expect(m.out()).toMatch(/APP_SECRET is not set: generated a random one/);
      const redisPid = Number(/"redisPid":(\d+)/.exec(m.out())?.[1]);
      expect(redisPid).toBeGreaterThan(0);

      m.child.kill('SIGTERM');
      expect(await m.exited).toBe(0);
      expect(m.out()).toMatch(/shutdown complete/);
      expect(() => process.kill(redisPid, 0)).toThrow();
    } finally {
      m.child.kill('SIGKILL');
    }
  }, 60_000);

  test('bad configuration stops start-up with a message naming the variable', async () => {
    const m = startMain({ DATA_DIR: dir, PORT: 'eighty' });
    expect(await m.exited).toBe(2);
    expect(m.out()).toMatch(/PORT: must be a whole number/);
    const p = startMain({
      DATA_DIR: dir,
      NODE_ENV: 'production',
      RTC_ANNOUNCED_IP: '203.0.113.7',
      APP_SECRET: 'briefing-briefing-briefing-briefing',
    });
    expect(await p.exited).toBe(2);
    expect(p.out()).toMatch(/APP_SECRET: is too easy to guess for NODE_ENV=production/);
  }, 30_000);
});
