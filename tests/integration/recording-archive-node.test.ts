// The archive kept off the node that carries live media (ARCHIVE_JOBS): a server recording
// a briefing with ARCHIVE_JOBS=off queues its archive, and a control node (its own
// process, no mediasoup worker, the same Redis and the same RECORDING_DIR, as a shared
// volume gives it) runs the job. Real Redis, mediasoup, ffmpeg and BullMQ; which node ran
// the job is BullMQ's own record of it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'socket.io-client';
import { ask } from '../helpers/attendance';
import { ADMIN_ENV, connectSocket, prepareBriefing } from '../helpers/briefing';
import { startNode, type NodeProcess } from '../helpers/cluster';
import { feedHall } from '../helpers/hall-feed';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { segmentsOf } from '../helpers/recording';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(300_000);

describe('ARCHIVE_JOBS: the archive made on a node without live media', () => {
  let r: TestRedis;
  let live: TestOrchestrator;
  let archiver: NodeProcess;
  let dir: string;
  const feeds: ChildProcess[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-archive-node-'));
    r = await startTestRedis();
    live = await startTestOrchestrator(r.url, {
      ...ADMIN_ENV,
      NODE_ID: 'live-node',
      ARCHIVE_JOBS: 'off',
      MEDIASOUP_WORKERS: '1',
      RECORDING_DIR: dir,
      RECORDING_SEGMENT_SECONDS: '2',
    });
    archiver = await startNode('archive-node', {
      ...ADMIN_ENV,
      REDIS_URL: r.url,
      NODE_ROLE: 'control',
      RECORDING_DIR: dir,
      ARCHIVE_HEIGHT: '360',
      ARCHIVE_NICE: '3',
    });
  }, 120_000);
  afterAll(async () => {
    for (const f of feeds) f.kill('SIGKILL');
    for (const s of sockets) s.close();
    await archiver?.stop();
    await live?.stop();
    await r?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the live node runs no archive worker; the control node makes the archive of its recording', async () => {
    const queue = live.orchestrator.recording.archives!.queue;
    // BullMQ lists the queue's workers by name: the control node's only.
    const workers = await waitFor(
      async () => {
        const w = (await queue.getWorkers()).map((x) => String(x.rawname));
        return w.length > 0 ? w : undefined;
      },
      'an archive worker',
      30_000,
      200,
    );
    expect(workers).toHaveLength(1);
    expect(workers[0]).toMatch(/:w:archive-node$/);

    const b = await prepareBriefing(live.baseUrl, ['HT-CX']);
    const host = await connectSocket(live.baseUrl, '/host', { cookie: b.cookie });
    sockets.push(host);
    await ask(host, 'host:attach', { sessionId: b.sessionId });
    feeds.push(await feedHall(host));
    await new Promise((res) => setTimeout(res, 800));
    await ask(host, 'session:goLive');
    await waitFor(() => segmentsOf(dir, b.sessionId, 'host-camera') >= 2, 'the hall recorded', 60_000, 250);
    await ask(host, 'session:end');

    // The live node's own route follows the job another node runs.
    const done = await waitFor(
      async () => {
        const d = (
          await request(live.baseUrl).get(`/api/v1/recordings/${b.sessionId}`).set('Cookie', b.cookie).expect(200)
        ).body as { job: { state: string } | null; archive: { file: string; niceness: number } | null };
        expect(d.job?.state).not.toBe('failed');
        return d.job?.state === 'done' && d.archive ? d : undefined;
      },
      'the archive job',
      180_000,
      500,
    );
    expect(done.archive!.niceness).toBe(3);
    expect(fs.existsSync(path.join(dir, b.sessionId, done.archive!.file))).toBe(true);
    const [job] = await queue.getJobs(['completed']);
    expect(job?.id).toBe(`archive__${b.sessionId}`);
    expect(job?.processedBy).toBe('archive-node');
  });
});
