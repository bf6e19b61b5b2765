// Recording onto a filling disk, for real: the recordings folder is a small tmpfs mounted
// by the test (needs root, as CI runs), filled by the test while a briefing records.
// Under the warning threshold the desk gets an alert (alerts API and webhook), resolved by
// itself when space comes back; under the floor recording stops cleanly (every listed
// segment whole, the manifest says why) and the broadcast goes on; the archive is made
// after the end.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import type { BroadcastView } from '../../server/contract/broadcast';
import { RecordingManifestSchema } from '../../server/contract/recording';
import { ask } from '../helpers/attendance';
import { ADMIN_ENV, connectSocket, prepareBriefing } from '../helpers/briefing';
import { feedHall } from '../helpers/hall-feed';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(900_000);

const MB = 1024 * 1024;
const ROOT = process.getuid?.() === 0;
const WHY_SKIPPED = 'skipped: mounting a tmpfs as the recordings folder needs root';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const freeBytes = (dir: string) => {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
};
/** Fills the filesystem until `left` bytes remain free. */
const fillTo = (dir: string, name: string, left: number) =>
  fs.writeFileSync(path.join(dir, name), Buffer.alloc(Math.max(0, freeBytes(dir) - left), 1));
const recorderPids = (dir: string): string[] =>
  spawnSync('pgrep', ['-f', `segment_list ${dir}/`], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .filter(Boolean);

(ROOT ? describe : describe.skip)(
  `recording on a filling disk (a real tmpfs)${ROOT ? '' : ` — ${WHY_SKIPPED}`}`,
  () => {
    let r: TestRedis;
    let o: TestOrchestrator;
    let dir: string;
    let receiver: http.Server;
    let publisher: ChildProcess | undefined;
    let host: Socket | undefined;
    const hooks: { event: string; alert: { kind: string; note: string; pointId: string } }[] = [];

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-rec-disk-'));
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', dir], { encoding: 'utf8' });
      if (mounted.status !== 0) throw new Error(`mount failed: ${mounted.stderr}`);
      receiver = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          hooks.push(JSON.parse(body) as (typeof hooks)[number]);
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
      r = await startTestRedis();
      o = await startTestOrchestrator(r.url, {
        ...ADMIN_ENV,
        RECORDING_DIR: dir,
        RECORDING_SEGMENT_SECONDS: '2',
        RECORDING_DISK_WARN_MB: '24',
        RECORDING_DISK_STOP_MB: '12',
        RECORDING_DISK_CHECK_SECONDS: '1',
        ARCHIVE_HEIGHT: '360',
        ALERT_WEBHOOK_URLS: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      });
    }, 60_000);
    afterAll(async () => {
      publisher?.kill('SIGKILL');
      host?.close();
      await o?.stop();
      await r?.cleanup();
      await new Promise((ok) => receiver?.close(ok));
      if (dir) {
        spawnSync('umount', ['-l', dir]);
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    test('an alert under the threshold; under the floor recording stops cleanly and the broadcast goes on', async () => {
      const b = await prepareBriefing(o.baseUrl, ['HT-CX']);
      host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
      await ask(host, 'host:attach', { sessionId: b.sessionId });
      publisher = await feedHall(host);
      await sleep(800);
      await ask(host, 'session:goLive');
      const sessionDir = path.join(dir, b.sessionId);
      const manifest = () => {
        const file = path.join(sessionDir, 'manifest.json');
        return fs.existsSync(file)
          ? RecordingManifestSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')))
          : undefined;
      };
      const segments = () => manifest()?.tracks.reduce((n, t) => n + t.segments.length, 0) ?? 0;
      const diskAlerts = async () => {
        const res = await request(o.baseUrl).get(`/api/v1/alerts/${b.sessionId}`).set('Cookie', b.cookie);
        expect(res.status).toBe(200);
        return (res.body as { kind: string; note: string; count: number; state: string; clearedBy?: string }[]).filter(
          (a) => a.kind === 'disk',
        );
      };
      const views: BroadcastView[] = [];
      host.on('view', (v: BroadcastView) => views.push(v));
      await waitFor(() => segments() >= 2, 'the first segments', 30_000);
      expect(await diskAlerts()).toEqual([]);

      // Under the warning threshold: the desk is told, recording goes on.
      fillTo(dir, 'filler-1', 18 * MB);
      const low = await waitFor(async () => (await diskAlerts())[0], 'the alert');
      expect(low.note).toMatch(/sắp đầy, còn 1\d MB/);
      await waitFor(() => hooks.find((h) => h.alert.kind === 'disk'), 'the webhook');
      expect(hooks.find((h) => h.alert.kind === 'disk')).toMatchObject({
        event: 'alert.raised',
        alert: { pointId: 'recorder' },
      });
      const before = segments();
      await waitFor(() => segments() >= before + 2, 'recording going on', 30_000);
      expect(manifest()!.state).toBe('recording');

      // Space back above the threshold: the alert resolves itself; filling again raises a new one.
      fs.rmSync(path.join(dir, 'filler-1'));
      const resolved = await waitFor(
        async () => (await diskAlerts()).find((a) => a.state === 'cleared'),
        'the alert resolved',
        30_000,
      );
      expect(resolved.clearedBy).toContain('system');
      fillTo(dir, 'filler-1', 18 * MB);
      await waitFor(async () => (await diskAlerts()).find((a) => a.state === 'open'), 'the alert raised again', 30_000);

      // Under the floor: every recorder stops, its last segment listed; the broadcast is untouched.
      fillTo(dir, 'filler-2', 6 * MB);
      const stopped = await waitFor(
        () => (manifest()?.state === 'stopped' ? manifest() : undefined),
        'the stop',
        30_000,
      );
      expect(stopped.stopReason).toBe('disk-full');
      expect(stopped.tracks.every((t) => t.endedAt !== null)).toBe(true);
      expect(recorderPids(sessionDir)).toEqual([]);
      for (const t of stopped.tracks) {
        for (const s of t.segments) {
          const bytes = fs.readFileSync(path.join(sessionDir, s.file));
          expect(createHash('sha256').update(bytes).digest('hex')).toBe(s.sha256);
        }
      }
      const full = await waitFor(
        async () => (await diskAlerts()).find((a) => a.note.includes('đã dừng ghi hình')),
        'the alert saying recording stopped',
      );
      expect(full.count).toBe(2);
      // The host console is told at once: its red badge goes off.
      await waitFor(
        () =>
          views.some((v) => v.state === 'live' && v.recording.since === null && v.recording.stopReason === 'disk-full'),
        'the view pushed',
      );
      const room = (await o.orchestrator.realtime.broadcasts.get(b.sessionId)).room!;
      expect(
        room
          .listProducers()
          .map((p) => p.source)
          .sort(),
      ).toEqual(['host-camera', 'host-mic']);
      const moved = await ask<BroadcastView>(host, 'agenda:go', { index: 1 });
      expect(moved.state).toBe('live');
      expect(moved.recording).toEqual({ on: true, since: null, stopReason: 'disk-full' });

      // Space again: not recorded again before the end (the manifest stays as it stopped).
      fs.rmSync(path.join(dir, 'filler-1'));
      fs.rmSync(path.join(dir, 'filler-2'));
      await sleep(3000);
      expect(manifest()!.state).toBe('stopped');
      expect(recorderPids(sessionDir)).toEqual([]);

      // After the end, the archive is made from what was recorded.
      await ask(host, 'session:end');
      await waitFor(() => fs.existsSync(path.join(sessionDir, 'archive.json')), 'the archive', 600_000, 500);
      expect(manifest()!.stopReason).toBe('disk-full');
    });
  },
);
