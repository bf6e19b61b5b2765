import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { EmbeddedRedis, ephemeralPorts, servicePort } from '../../server/redis/embedded-redis';
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

  test('its port is below the ephemeral range: no outgoing connection takes it while it is down', () => {
    expect(r.redis.port).toBeLessThan(ephemeralPorts()[0]);
  });

  test('a port in use: the failed start says so', async () => {
    const port = await servicePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      await expect(EmbeddedRedis.start({ dir: path.join(r.dir, 'busy'), port })).rejects.toThrow(
        new RegExp(`port ${port} is in use`),
      );
    } finally {
      holder.close();
    }
  });

  test('a start that does not become ready: the process is gone when the error comes', async () => {
    // Stands for a redis-server that never says it is ready: it writes its pid and waits.
    const pidFile = path.join(r.dir, 'stuck.pid');
    const binary = path.join(r.dir, 'stuck-redis-server');
    fs.writeFileSync(binary, `#!/bin/sh\necho $$ > '${pidFile}'\nexec sleep 60\n`, { mode: 0o755 });
    await expect(EmbeddedRedis.start({ dir: path.join(r.dir, 'stuck'), binary, startTimeoutMs: 3000 })).rejects.toThrow(
      /did not become ready in time/,
    );
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    // Not even a zombie: it was waited for before the start failed.
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  test('a missing binary gives an install hint', async () => {
    await expect(
      EmbeddedRedis.start({ dir: path.join(r.dir, 'x'), binary: 'redis-server-that-does-not-exist' }),
    ).rejects.toThrow(/apt-get install -y redis-server/);
  });
});
