// The record of the hall's producers with a real Redis: a process that stops refreshing its
// liveness (as one SIGKILLed would) stops counting once its TTL runs out, and its fields are
// removed; a process that keeps refreshing still counts past that TTL, and its fields come
// back after an outage that outlasted the TTL (warned once in the log).
import { Redis } from 'ioredis';
import pino from 'pino';
import { HALL_MEDIA_KEY, HallMedia } from '../../server/domain/sessions/hall-media';
import { waitFor } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(30_000);

const TTL_MS = 300;
const silent = pino({ level: 'silent' });

describe('hall media record (real Redis)', () => {
  let r: TestRedis;
  let redis: Redis;
  const made: HallMedia[] = [];
  const processOf = () => {
    const h = new HallMedia(redis, { ttlMs: TTL_MS, logger: silent });
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

  test('after an outage longer than the TTL removed its fields, the next refresh writes them again', async () => {
    const h = processOf();
    const other = processOf();
    await h.added('s4', 'p-cam', 'host-camera');
    // What an outage leaves: the alive key lapsed, and a node reading meanwhile removed the fields.
    await redis.del(...(await redis.keys('hall-media:alive:*')));
    expect(await other.sources('s4')).toEqual([]);
    expect(await redis.hlen(HALL_MEDIA_KEY('s4'))).toBe(0);
    await waitFor(async () => (await other.sources('s4')).length > 0, 'the hall counting again', 10_000, 50);
    expect(await other.sources('s4')).toEqual(['host-camera']);
    await expect(other.requireToStart({ id: 's4', state: 'lobby' })).resolves.toBeUndefined();
  });

  test('a failing refresh is warned once per outage', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (l: string) => lines.push(JSON.parse(l) as (typeof lines)[number]) },
    );
    // Nothing listens there: every command fails at once, as during an outage.
    const away = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, retryStrategy: () => 100 });
    away.on('error', () => undefined);
    const h = new HallMedia(away, { ttlMs: TTL_MS, logger });
    made.push(h);
    await expect(h.added('s5', 'p-cam', 'host-camera')).rejects.toThrow();
    await waitFor(() => lines.length > 0, 'the warning', 10_000, 50);
    await new Promise((ok) => setTimeout(ok, 3 * TTL_MS));
    expect(lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual(['could not refresh the hall media record']);
    h.stop();
    away.disconnect();
  });
});
