// Recording with real components: two mediasoup workers, a hall fed by ffmpeg over plain
// RTP (VP8 + Opus), the host console as a socket.io client, Debian's ffmpeg recording the
// taps and ffprobe reading what it wrote. The media is never re-encoded: the files carry
// the codecs the points receive.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import type { BroadcastView } from '../../server/contract/broadcast';
import { RecordingManifestSchema, type RecordingManifest } from '../../server/contract/recording';
import { readArchiveInfo } from '../../server/recording/archive';
import { ask } from '../helpers/attendance';
import { ADMIN_ENV, connectSocket, prepareBriefing } from '../helpers/briefing';
import { feedHall } from '../helpers/hall-feed';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function probe(file: string): { streams: { codec_name: string; codec_type: string }[]; duration: number } {
  const r = spawnSync(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'stream=codec_name,codec_type:format=duration', '-of', 'json', file],
    {
      encoding: 'utf8',
    },
  );
  const j = JSON.parse(r.stdout) as {
    streams: { codec_name: string; codec_type: string }[];
    format: { duration?: string };
  };
  return { streams: j.streams, duration: Number(j.format.duration ?? 0) };
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The pids of the recorders writing under a folder. */
const recorderPids = (dir: string): number[] =>
  spawnSync('pgrep', ['-f', `segment_list ${dir}/`], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .sort();

describe('recording a live briefing (real workers, ffmpeg, ffprobe)', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let dir: string;
  const publishers: ChildProcess[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-recordings-'));
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, {
      ...ADMIN_ENV,
      MEDIASOUP_WORKERS: '2',
      RECORDING_DIR: dir,
      RECORDING_SEGMENT_SECONDS: '2',
      // The archives made after each end: small and not at the lowest priority, so a busy
      // machine finishes them (the niceness itself is proven in recording-archive.test.ts).
      ARCHIVE_HEIGHT: '360',
      ARCHIVE_NICE: '3',
    });
  }, 60_000);
  afterAll(async () => {
    for (const p of publishers) p.kill('SIGKILL');
    for (const s of sockets) s.close();
    await o?.stop();
    await r?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A briefing in its lobby, its host console attached, the hall fed by ffmpeg. */
  async function hallInLobby() {
    const b = await prepareBriefing(o.baseUrl, ['HT-CX']);
    const host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    sockets.push(host);
    const attached = await ask<{ view: BroadcastView }>(host, 'host:attach', { sessionId: b.sessionId });
    const feed = async () => {
      const p = await feedHall(host);
      publishers.push(p);
      return p;
    };
    return { sessionId: b.sessionId, host, view: attached.view, feed };
  }

  const manifestOf = (sessionId: string): RecordingManifest | undefined => {
    const file = path.join(dir, sessionId, 'manifest.json');
    return fs.existsSync(file) ? RecordingManifestSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8'))) : undefined;
  };

  test('on by default; the hall recorded in segments without re-encoding; the manifest checks out', async () => {
    const { sessionId, host, view, feed } = await hallInLobby();
    expect(view.recording).toEqual({ on: true, since: null });
    // Off and on again before going live.
    expect((await ask<BroadcastView>(host, 'recording:set', { on: false })).recording.on).toBe(false);
    expect((await ask<BroadcastView>(host, 'recording:set', { on: true })).recording.on).toBe(true);
    await feed();
    await sleep(1000);

    const views: { view: BroadcastView; at: number }[] = [];
    host.on('view', (view: BroadcastView) => views.push({ view, at: Date.now() }));
    const live = await ask<BroadcastView>(host, 'session:goLive');
    const liveAt = Date.now();
    // Going live does not wait on the recorder; the console is shown it recording, and
    // since when, once it started: after going live, before the view saying so.
    expect(live.recording.on).toBe(true);
    const shown = await waitFor(() => views.find((v) => v.view.recording.since !== null), 'since shown');
    const since = shown.view.recording.since!;
    expect(Date.parse(since)).toBeGreaterThanOrEqual(liveAt - 500);
    expect(Date.parse(since)).toBeLessThanOrEqual(shown.at);
    await expect(ask(host, 'recording:set', { on: false })).rejects.toMatchObject({ code: 'conflict' });
    await sleep(3500);
    await ask(host, 'agenda:go', { index: 1 });
    await sleep(3500);
    await ask(host, 'session:end');
    const endAt = Date.now();

    const m = await waitFor(
      () => (manifestOf(sessionId)?.state === 'stopped' ? manifestOf(sessionId) : undefined),
      'the final manifest',
    );
    expect(m.startedAt).toBe(since);
    expect(m.tracks.map((t) => [t.source, t.codec]).sort()).toEqual([
      ['host-camera', 'video/VP8'],
      ['host-mic', 'audio/opus'],
    ]);
    expect(m.gaps).toEqual([]);
    expect(m.timeline.filter((e) => e.type === 'agenda').map((e) => (e.type === 'agenda' ? e.index : -1))).toEqual([
      0, 1,
    ]);

    for (const t of m.tracks) {
      // 2-second segments over ~7 seconds (video cuts at key frames: at least two files).
      expect([t.source, t.segments.length >= (t.kind === 'audio' ? 3 : 2)]).toEqual([t.source, true]);
      let total = 0;
      for (const s of t.segments) {
        const file = path.join(dir, sessionId, s.file);
        expect(sha256(file)).toBe(s.sha256);
        expect(fs.statSync(file).size).toBe(s.bytes);
        const p = probe(file);
        expect(p.streams).toEqual([
          t.kind === 'video' ? { codec_name: 'vp8', codec_type: 'video' } : { codec_name: 'opus', codec_type: 'audio' },
        ]);
        total += p.duration;
      }
      // The track spans from when its recorder listened, just after going live, to the end;
      // what it holds is never more than that. (Not equal to it: the publishing ffmpeg, on
      // a loaded machine, may send less than real time.)
      const span = (Date.parse(t.endedAt!) - Date.parse(t.startedAt)) / 1000;
      expect([t.source, total > span / 2 && total < span + 1]).toEqual([t.source, true]);
      expect(Date.parse(t.startedAt)).toBeGreaterThanOrEqual(liveAt - 1000);
      expect(Date.parse(t.endedAt!)).toBeLessThanOrEqual(endAt + 1000);
    }
  });

  test('a recorder that dies is restarted; a worker death leaves a named gap, recording resumes, the archive plays', async () => {
    const { sessionId, host, feed } = await hallInLobby();
    let publisher = await feed();
    await sleep(800);
    await ask(host, 'session:goLive');
    const camera = () => manifestOf(sessionId)?.tracks.filter((t) => t.source === 'host-camera') ?? [];
    await waitFor(() => camera()[0]?.segments.length, 'a first camera segment', 15_000);

    // The camera's recorder dies: it is restarted, and the seconds in between are a gap.
    const pid = recorderPids(path.join(dir, sessionId, camera()[0]!.id))[0]!;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => camera()[0]!.restarts === 1, 'the recorder restarted', 10_000);
    await waitFor(() => camera()[0]!.segments.length >= 3, 'segments after the restart', 15_000);

    // The origin's worker dies: the hall's producers go, their tracks end with a gap.
    const room = (await o.orchestrator.realtime.broadcasts.get(sessionId)).room!;
    const originPid = o.orchestrator.pool.status()[room.origin!.slot]!.pid!;
    process.kill(originPid, 'SIGKILL');
    publisher.kill('SIGKILL');
    await waitFor(() => manifestOf(sessionId)?.gaps.some((g) => g.reason === 'worker-died'), 'the gap named', 10_000);
    // The hall feeds again (a new ingest on the rebuilt origin): recording resumes by itself.
    await sleep(500);
    publisher = await waitFor(() => feed().catch(() => undefined), 'a new ingest', 15_000);
    await waitFor(() => camera()[1]?.segments.length, 'the camera recorded again', 20_000);
    await ask(host, 'session:end');

    const m = await waitFor(
      () => (manifestOf(sessionId)?.state === 'stopped' ? manifestOf(sessionId) : undefined),
      'the final manifest',
    );
    const died = m.gaps.find((g) => g.source === 'host-camera' && g.reason === 'worker-died')!;
    expect(died.to).toBe(m.tracks.filter((t) => t.source === 'host-camera')[1]!.startedAt);
    // Closed by the restart a second or so later (bounded loosely: the machine may be busy).
    const restarted = m.gaps.filter((g) => g.reason === 'recorder-died');
    expect(restarted).toEqual([expect.objectContaining({ source: 'host-camera', to: expect.any(String) })]);
    expect(Date.parse(restarted[0]!.to!) - Date.parse(restarted[0]!.from)).toBeLessThan(10_000);
    // The segment the dead recorder was writing is kept and still plays.
    for (const t of m.tracks) {
      for (const s of t.segments) {
        const file = path.join(dir, sessionId, s.file);
        expect(sha256(file)).toBe(s.sha256);
        expect(probe(file).streams.length).toBe(1);
      }
    }

    // The archive made after the end plays across the gap: the program's picture and
    // sound first, as long as the recording to a second, its checksum as listed.
    const info = await waitFor(() => readArchiveInfo(path.join(dir, sessionId)), 'the archive', 600_000, 500);
    const archive = path.join(dir, sessionId, info.file);
    expect(sha256(archive)).toBe(info.sha256);
    const played = probe(archive);
    expect(played.streams.slice(0, 2)).toEqual([
      { codec_name: 'vp8', codec_type: 'video' },
      { codec_name: 'opus', codec_type: 'audio' },
    ]);
    const recordedSeconds = (Date.parse(m.stoppedAt!) - Date.parse(m.startedAt)) / 1000;
    expect(Math.abs(played.duration - recordedSeconds)).toBeLessThan(1);
  }, 720_000);

  test('a long pause keeps each recorder waiting; ending while paused still finishes every segment', async () => {
    const { sessionId, host, feed } = await hallInLobby();
    await feed();
    await sleep(800);
    await ask(host, 'session:goLive');
    const tracks = () => manifestOf(sessionId)?.tracks ?? [];
    await waitFor(
      () => {
        const now = tracks().map((t) => [t.source, t.segments.length]);
        if (now.length === 2 && now.every(([, n]) => Number(n) > 0)) return true;
        throw new Error(JSON.stringify(now));
      },
      'first segments',
      20_000,
    );
    const recorders = recorderPids(path.join(dir, sessionId));
    expect(recorders).toHaveLength(2);

    // Camera and microphone paused at the SFU: no media reaches the recorders (only the
    // SFU's RTCP; a real silence is tested in recording-track.test.ts). They wait; none
    // ends or is replaced.
    await ask(host, 'media:pause', { kind: 'video', paused: true });
    await ask(host, 'media:pause', { kind: 'audio', paused: true });
    await sleep(6000);
    expect(recorderPids(path.join(dir, sessionId))).toEqual(recorders);

    // Ended in the silence: each recorder is told the stream ended, lists its last segment
    // and exits by itself (a segment cut short by a kill would have no duration).
    await ask(host, 'session:end');
    const m = await waitFor(
      () => (manifestOf(sessionId)?.state === 'stopped' ? manifestOf(sessionId) : undefined),
      'the final manifest',
    );
    expect(recorderPids(path.join(dir, sessionId))).toEqual([]);
    expect(m.gaps).toEqual([]);
    expect(m.tracks.map((t) => [t.source, t.restarts]).sort()).toEqual([
      ['host-camera', 0],
      ['host-mic', 0],
    ]);
    for (const t of m.tracks) {
      expect(t.segments.length).toBeGreaterThan(0);
      expect(t.segments.filter((s) => s.seconds === null)).toEqual([]);
    }
  });

  test('turned off before going live: nothing is recorded', async () => {
    const { sessionId, host, feed } = await hallInLobby();
    await ask(host, 'recording:set', { on: false });
    await feed();
    const live = await ask<BroadcastView>(host, 'session:goLive');
    expect(live.recording).toEqual({ on: false, since: null });
    await sleep(1500);
    await ask(host, 'session:end');
    expect(fs.existsSync(path.join(dir, sessionId))).toBe(false);
  });
});
