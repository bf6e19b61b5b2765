// The record of the hall's producers with a real Redis: a process that stops refreshing its
// liveness (as one SIGKILLed would) stops counting once its TTL runs out, and its fields are
// removed; a process that keeps refreshing still counts past that TTL.
import { Redis } from 'ioredis';
import { HALL_MEDIA_KEY, HallMedia } from '../../server/domain/sessions/hall-media';
import { waitFor } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(30_000);

const TTL_MS = 300;

describe('hall media record (real Redis)', () => {
  let r: TestRedis;
  let redis: Redis;
  const made: HallMedia[] = [];
  const processOf = () => {
    const h = new HallMedia(redis, { ttlMs: TTL_MS });
    made.push(h);
    return h;
  };

  beforeAll(async () => {
    r = await startTestRedis();
    redis = new Redis(r.url);
  });
  afterAll(async () => {
    for (const h of made) h.stop();
    redis?.disconnect();
    await r?.cleanup();
  });

  test("a killed process's hall stops counting after its TTL; a live one's stays", async () => {
    const killed = processOf();
    const alive = processOf();
    await killed.added('s1', 'p-cam', 'host-camera');
    await alive.added('s2', 'p-mic', 'host-mic');
    const wrote = Date.now();
    expect(await killed.sources('s1')).toEqual(['host-camera']);

    killed.stop(); // no more refreshes: what a SIGKILL leaves behind
    await waitFor(async () => (await alive.sources('s1')).length === 0, 'the dead hall no longer counting', 10_000, 50);
    await expect(alive.requireToStart({ id: 's1', state: 'lobby' })).rejects.toMatchObject({ code: 'no_hall_media' });
    expect(await redis.hlen(HALL_MEDIA_KEY('s1'))).toBe(0);

    // Past two TTLs since `alive` wrote, only its refreshes keep it counting.
    await waitFor(() => Date.now() - wrote > 2 * TTL_MS, 'two TTLs', 10_000, 50);
    expect(await alive.sources('s2')).toEqual(['host-mic']);
    await expect(alive.requireToStart({ id: 's2', state: 'lobby' })).resolves.toBeUndefined();
  });

  test('a process that removed all its hall stops refreshing', async () => {
    const h = processOf();
    await h.added('s3', 'p-cam', 'host-camera');
    await h.roomClosed('s3');
    expect(await h.sources('s3')).toEqual([]);
    await h.added('s3', 'p-cam2', 'host-camera');
    expect(await h.sources('s3')).toEqual(['host-camera']);
  });
});
