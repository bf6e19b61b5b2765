// The live broadcast never waits on the recorder: with the recordings disk hung (the
// manifest a named pipe nobody writes, so reading it blocks as a dead NFS mount would),
// the host still goes live, moves through the agenda and sees every change at once; the
// console is shown the recording once the disk answers. Real orchestrator, Redis, worker.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import type { BroadcastView } from '../../server/contract/broadcast';
import { ask } from '../helpers/attendance';
import { ADMIN_ENV, connectSocket, prepareBriefing, publishHall } from '../helpers/briefing';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(60_000);

describe('a hung recordings disk', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let dir: string;
  let host: Socket | undefined;
  let pipe: string | undefined;

  /**
   * Lets a reader blocked on the pipe go on (it reads `text`); false, without waiting, when
   * nobody has it open for reading (a non-blocking open for writing then fails with ENXIO).
   */
  const release = (text: string): boolean => {
    if (!pipe || !fs.statSync(pipe, { throwIfNoEntry: false })?.isFIFO()) return false;
    let fd: number;
    try {
      fd = fs.openSync(pipe, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENXIO') return false;
      throw err;
    }
    try {
      if (text) fs.writeSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
    return true;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-rec-stalled-'));
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, { ...ADMIN_ENV, RECORDING_DIR: dir });
  }, 60_000);
  afterAll(async () => {
    // Never waits: a reader still blocked is let go; then no one can block on the pipe again.
    release('');
    if (pipe) fs.rmSync(pipe, { force: true });
    host?.close();
    await o?.stop();
    await r?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('going live and the agenda answer while the recorder waits on the disk', async () => {
    const b = await prepareBriefing(o.baseUrl, ['HT-CX']);
    host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    await ask(host, 'host:attach', { sessionId: b.sessionId });
    await publishHall(host);
    fs.mkdirSync(path.join(dir, b.sessionId));
    pipe = path.join(dir, b.sessionId, 'manifest.json');
    expect(spawnSync('mkfifo', [pipe]).status).toBe(0);
    const views: BroadcastView[] = [];
    host.on('view', (v: BroadcastView) => views.push(v));

    const live = await ask<BroadcastView>(host, 'session:goLive');
    expect(live.state).toBe('live');
    expect(live.recording).toEqual({ on: true, since: null });
    const moved = await ask<BroadcastView>(host, 'agenda:go', { index: 1 });
    expect(moved.caption?.index).toBe(1);
    // The recorder is still held by the disk.
    expect(views.every((v) => v.recording.since === null)).toBe(true);

    // The disk answers (an unreadable manifest: a new one is started): the console is told.
    await waitFor(() => release('{}'), 'the recorder reading the manifest');
    const since = await waitFor(() => views.find((v) => v.recording.since !== null)?.recording.since, 'since shown');
    expect(Date.parse(since)).toBeGreaterThan(0);
    await ask(host, 'session:end');
  });
});
