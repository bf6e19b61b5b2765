// The session store keeps the sessions it read and fetches a document again only when its
// rev changed: a national session lists 10,000 points (200 KB), read on every join.
import { Redis } from 'ioredis';
import type { Session } from '../../server/contract/api';
import { SESSION_KEYS, SessionStore } from '../../server/domain/sessions/store';
import { startTestRedis, type TestRedis } from '../helpers/redis';

let t: TestRedis;
let redis: Redis;

beforeAll(async () => {
  t = await startTestRedis();
  redis = new Redis(t.url);
});
afterAll(async () => {
  redis.disconnect();
  await t.cleanup();
});

let n = 0;
function session(id: string, rev: number, title: string): Session {
  return {
    id,
    rev,
    title,
    scheduledStart: '2026-11-30T08:00:00.000Z',
    invitedPointIds: Array.from({ length: 10_000 }, (_, i) => `P${i}`),
  } as unknown as Session;
}

const fresh = () => `s${++n}`;

test('an unchanged session is answered from what this process read, not fetched again', async () => {
  const id = fresh();
  const store = new SessionStore(redis);
  expect(await store.put(session(id, 1, 'Hội nghị'), 0)).toBe(true);
  expect((await store.get(id))?.title).toBe('Hội nghị');
  // The document changes under the same rev (no writer does this): a fetch would see it.
  await redis.set(SESSION_KEYS.doc(id), JSON.stringify(session(id, 1, 'changed without a rev')));
  expect((await store.get(id))?.title).toBe('Hội nghị');
});

test('a write by another process is read at once, a delete reads as missing', async () => {
  const id = fresh();
  const a = new SessionStore(redis);
  const b = new SessionStore(redis);
  await b.put(session(id, 1, 'first'), 0);
  expect((await a.get(id))?.title).toBe('first');
  expect(await b.put(session(id, 2, 'second'), 1)).toBe(true);
  expect(await a.get(id)).toMatchObject({ rev: 2, title: 'second' });
  expect(await b.delete(id, 2)).toBe(true);
  expect(await a.get(id)).toBeUndefined();
  expect(await redis.exists(SESSION_KEYS.rev(id))).toBe(0);
});

test('a document stored without its rev key is fetched on every read', async () => {
  const id = fresh();
  const store = new SessionStore(redis);
  await redis.set(SESSION_KEYS.doc(id), JSON.stringify(session(id, 3, 'older')));
  expect((await store.get(id))?.title).toBe('older');
  await redis.set(SESSION_KEYS.doc(id), JSON.stringify(session(id, 3, 'newer')));
  expect((await store.get(id))?.title).toBe('newer');
});
