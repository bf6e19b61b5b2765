// A server restarted in the middle of a recorded briefing, with the same Redis and the
// same recordings folder, as a supervisor would: the session is still live, the hall
// feeds again, and recording goes on in the same manifest, the time the server was down
// named as a `server-restart` gap. Real workers, ffmpeg recorders, socket.io clients.
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import type { BroadcastView } from '../../server/contract/broadcast';
import { RecordingManifestSchema, type RecordingManifest } from '../../server/contract/recording';
import { ask } from '../helpers/attendance';
import { ADMIN_ENV, connectSocket, prepareBriefing } from '../helpers/briefing';
import { feedHall } from '../helpers/hall-feed';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(180_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('a server restarted mid-recording (real Redis, workers, ffmpeg)', () => {
  let r: TestRedis;
  let o: TestOrchestrator | undefined;
  let dir: string;
  const publishers: ChildProcess[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-rec-restart-'));
    r = await startTestRedis();
  }, 60_000);
  afterAll(async () => {
    for (const p of publishers) p.kill('SIGKILL');
    for (const s of sockets) s.close();
    await o?.stop();
    await r?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the manifest goes on with the downtime as a named gap; recording resumes on the new producers', async () => {
    const env = { ...ADMIN_ENV, RECORDING_DIR: dir, RECORDING_SEGMENT_SECONDS: '2', ARCHIVE_HEIGHT: '360' };
    o = await startTestOrchestrator(r.url, env);
    const b = await prepareBriefing(o.baseUrl, ['HT-CX']);
    const hostOf = async (server: TestOrchestrator) => {
      const host = await connectSocket(server.baseUrl, '/host', { cookie: b.cookie });
      sockets.push(host);
      const { view } = await ask<{ view: BroadcastView }>(host, 'host:attach', { sessionId: b.sessionId });
      publishers.push(await feedHall(host));
      return { host, view };
    };
    const manifest = (): RecordingManifest | undefined => {
      const file = path.join(dir, b.sessionId, 'manifest.json');
      return fs.existsSync(file) ? RecordingManifestSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8'))) : undefined;
    };
    const camera = () => manifest()?.tracks.filter((t) => t.source === 'host-camera') ?? [];

    const first = await hostOf(o);
    await sleep(800);
    await ask(first.host, 'session:goLive');
    await waitFor(() => camera()[0]?.segments.length, 'a first camera segment', 30_000);

    // The server goes down mid-briefing; its recorders finish the segments they wrote.
    await o.stop();
    o = undefined;
    for (const p of publishers.splice(0)) p.kill('SIGKILL');
    const down = manifest()!;
    expect(down.state).toBe('recording');

    // It comes back on the same Redis and folder; the host's console attaches again and
    // the hall feeds a new ingest: recording resumes by itself on the new producers.
    o = await startTestOrchestrator(r.url, env);
    const second = await hostOf(o);
    expect(second.view.state).toBe('live');
    expect(second.view.recording.on).toBe(true);
    await waitFor(() => camera()[1]?.segments.length, 'the camera recorded again', 60_000);
    await ask(second.host, 'session:end');

    const m = await waitFor(() => (manifest()?.state === 'stopped' ? manifest() : undefined), 'the final manifest');
    // The same recording, continued.
    expect(m.startedAt).toBe(down.startedAt);
    const restart = m.gaps.filter((g) => g.reason === 'server-restart');
    expect(restart.map((g) => g.source).sort()).toEqual(['host-camera', 'host-mic']);
    for (const g of restart) {
      expect(g.from).toBe(down.updatedAt);
      const resumed = m.tracks.filter((t) => t.source === g.source)[1]!;
      expect(g.to).toBe(resumed.startedAt);
    }
    // What was written before the restart is still listed and whole.
    for (const t of m.tracks) {
      for (const s of t.segments) expect(sha256(path.join(dir, b.sessionId, s.file))).toBe(s.sha256);
    }
    expect(m.tracks.filter((t) => t.source === 'host-camera').every((t) => t.segments.length > 0)).toBe(true);
  });
});
