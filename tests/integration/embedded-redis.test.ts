import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { EmbeddedRedis } from '../../server/redis/embedded-redis';
import { waitFor } from '../helpers/orchestrator';
import { aofText, startTestRedis, type TestRedis } from '../helpers/redis';

describe('embedded redis-server', () => {
  let r: TestRedis;
  beforeEach(async () => {
    r = await startTestRedis();
  });
  afterEach(async () => r.cleanup());

  test('starts on its own port, keeps data across a crash and a restart (AOF), and stops', async () => {
    expect(r.redis.port).not.toBe(6379);
    const client = new Redis(r.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    client.on('error', () => undefined);
    await client.set('briefing:test', 'kept');
    await client.hset('briefing:hash', { a: '1', b: 'hai' });

    // everysec may hold a write back for up to two seconds while the disk is busy with the
    // previous fsync; once a write is in the AOF, a SIGKILL loses nothing.
    await waitFor(() => aofText(r.dir).includes('briefing:hash') || undefined, 'the hash in the AOF', 10_000);
    await r.redis.kill(); // SIGKILL: no chance to flush anything but the AOF
    expect(r.redis.running).toBe(false);
    await r.redis.restart();
    expect(await client.get('briefing:test')).toBe('kept');
    expect(await client.hgetall('briefing:hash')).toEqual({ a: '1', b: 'hai' });

    await r.redis.restart(); // graceful stop + start
    expect(await client.get('briefing:test')).toBe('kept');
    expect(fs.readdirSync(r.dir).some((f) => f.startsWith('appendonly'))).toBe(true);
    client.disconnect();

    const pid = r.redis.pid!;
    await r.redis.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });

  test('a missing binary gives an install hint', async () => {
    await expect(
      EmbeddedRedis.start({ dir: path.join(r.dir, 'x'), binary: 'redis-server-that-does-not-exist' }),
    ).rejects.toThrow(/apt-get install -y redis-server/);
  });
});
