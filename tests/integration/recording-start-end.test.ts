// A recording asked for and ended at once (a briefing ended, or the server shut down, while
// the recorder still looked at the disk): nothing is left recording, no folder is written.
// Real components: Recordings over a mediasoup room on a real worker, the real disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Session } from '../../server/contract/api';
import { Recordings } from '../../server/recording/recordings';
import { BroadcastRoom } from '../../sfu';
import type { WorkerPool } from '../../sfu/worker-pool';
import { createPool, silent } from '../helpers/sfu';

jest.setTimeout(60_000);

let pool: WorkerPool;
let room: BroadcastRoom;
let dir: string;

beforeAll(async () => {
  pool = await createPool(1);
  room = await BroadcastRoom.create({ pool, roomId: 'rec-start-end', logger: silent, layerPolicyIntervalMs: 0 });
});
afterAll(async () => {
  room?.close();
  await pool?.close();
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-rec-start-end-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const recordings = () =>
  new Recordings({
    config: {
      enabled: true,
      dir,
      segmentSeconds: 2,
      ffmpegPath: 'ffmpeg',
      archive: { jobs: true, nice: 19, height: 360 },
      disk: { warnBytes: 1, stopBytes: 0, everyMs: 60_000 },
    },
    ip: '127.0.0.1',
    timeline: async () => [],
    logger: silent,
  });
const session = (id: string, state: Session['state']) => ({ id, title: 'Giao ban', state }) as Session;

test('ended while starting: the recording never starts', async () => {
  const rec = recordings();
  const starting = rec.update(session('s-ended', 'live'), room, true);
  const ending = rec.update(session('s-ended', 'ended'), undefined, false);
  await Promise.all([starting, ending]);
  expect(rec.since('s-ended')).toBeNull();
  expect(fs.existsSync(path.join(dir, 's-ended'))).toBe(false);
  await rec.close();
});

test('closed while starting: the recording never starts', async () => {
  const rec = recordings();
  const starting = rec.update(session('s-closed', 'live'), room, true);
  const closing = rec.close();
  await Promise.all([starting, closing]);
  expect(rec.since('s-closed')).toBeNull();
  expect(fs.existsSync(path.join(dir, 's-closed'))).toBe(false);
});

test('not ended: it records', async () => {
  const rec = recordings();
  await rec.update(session('s-live', 'live'), room, true);
  expect(rec.since('s-live')).not.toBeNull();
  expect(fs.existsSync(path.join(dir, 's-live', 'manifest.json'))).toBe(true);
  await rec.update(session('s-live', 'ended'), undefined, false);
  expect(rec.since('s-live')).toBeNull();
  await rec.close();
});

test('could not start: the console is told it failed, until it records or the session ends', async () => {
  const rec = recordings();
  // The session's folder cannot be made (a file has its name).
  fs.writeFileSync(path.join(dir, 's-failed'), '');
  await rec.update(session('s-failed', 'live'), room, true);
  expect([rec.since('s-failed'), rec.stopReason('s-failed')]).toEqual([null, 'failed']);
  // The next change tries again and records.
  fs.rmSync(path.join(dir, 's-failed'));
  await rec.update(session('s-failed', 'live'), room, true);
  expect(rec.since('s-failed')).not.toBeNull();
  expect(rec.stopReason('s-failed')).toBeUndefined();
  await rec.update(session('s-failed', 'ended'), undefined, false);
  fs.rmSync(path.join(dir, 's-failed'), { recursive: true });
  fs.writeFileSync(path.join(dir, 's-failed'), '');
  await rec.update(session('s-failed', 'live'), room, true);
  expect(rec.stopReason('s-failed')).toBe('failed');
  await rec.update(session('s-failed', 'ended'), undefined, false);
  expect(rec.stopReason('s-failed')).toBeUndefined();
  await rec.close();
});
