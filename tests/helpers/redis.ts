// Each test file starts its own redis-server on a free port in a temp dir, never the
// machine's shared one, so it can kill and restart it; the dir is removed afterwards.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddedRedis } from '../../server/redis/embedded-redis';

export interface TestRedis {
  redis: EmbeddedRedis;
  url: string;
  dir: string;
  cleanup: () => Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-test-redis-'));
  const redis = await EmbeddedRedis.start({ dir });
  return {
    redis,
    url: redis.url,
    dir,
    cleanup: async () => {
      await redis.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every append-only file under `dir`, concatenated (Redis 7 keeps them in appendonlydir/). */
export function aofText(dir: string): string {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.includes('appendonly') && fs.statSync(path.join(dir, f)).isFile())
    .map((f) => fs.readFileSync(path.join(dir, f), 'latin1'))
    .join('');
}
