// What the archive job costs for a long briefing: the time and CPU of makeArchive (the
// program re-encoded at the job's niceness, the original tracks copied) over a recording
// of the given length. The recording is made up without a live server: one segment of
// each track is encoded once with ffmpeg (VP8 at the given size and bitrate, Opus, as the
// recorders write them) and hard-linked as every segment of the track; the manifest has
// the reference agenda's five items spread over it. See
// docs/benchmarks/recording-and-archive.md.
//
//   node --import tsx scripts/bench-archive.ts --minutes 10 --repeats 3
//
// Each tenth of the encode prints a progress line to stderr (wall time and load so far), so a
// run stopped before its end still tells how far it got.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { RecordingManifest, RecordingTrack } from '../server/contract/recording';
import type { TimelineEntry } from '../server/contract/timeline';
import { REFERENCE_AGENDA } from '../server/data/reference-briefing';
import { makeArchive } from '../server/recording/archive';

const { values: v } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    repeats: { type: 'string', default: '3' },
    size: { type: 'string', default: '1280x720' },
    bitrate: { type: 'string', default: '1200k' },
    segment: { type: 'string', default: '6' },
    height: { type: 'string', default: '720' },
    nice: { type: 'string', default: '19' },
    ffmpeg: { type: 'string', default: process.env.FFMPEG ?? 'ffmpeg' },
  },
});
const SECONDS = Number(v.minutes) * 60;
const SEGMENT = Number(v.segment);
const REPEATS = Number(v.repeats);
const TICK = 100;

/** CPU seconds of this process's waited-for children (cutime + cstime of /proc/self/stat). */
function childCpuSeconds(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / TICK;
}

function ffmpeg(args: string[]): void {
  const r = spawnSync(v.ffmpeg!, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
}

/** One segment of each track, as a recorder writes it (WebM, one stream, timestamps from 0). */
function sourceSegments(dir: string): { video: string; audio: string } {
  const video = path.join(dir, 'video.webm');
  const audio = path.join(dir, 'audio.webm');
  const t = ['-t', String(SEGMENT)];
  ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=${v.size}:rate=30`, ...t],
    ...['-c:v', 'libvpx', '-b:v', v.bitrate!, '-deadline', 'realtime', '-cpu-used', '8', '-g', '60', video],
  ]);
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440', ...t, '-c:a', 'libopus', '-b:a', '64k', audio]);
  return { video, audio };
}

function track(
  dir: string,
  id: string,
  source: 'host-camera' | 'host-mic',
  file: string,
  at: (s: number) => string,
): RecordingTrack {
  fs.mkdirSync(path.join(dir, id));
  const bytes = fs.statSync(file).size;
  const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const segments = [];
  for (let i = 0; i < SECONDS / SEGMENT; i++) {
    const name = `${id}/seg-${String(i).padStart(5, '0')}.webm`;
    fs.linkSync(file, path.join(dir, name));
    segments.push({ file: name, bytes, sha256, seconds: SEGMENT });
  }
  return {
    id,
    source,
    kind: source === 'host-camera' ? 'video' : 'audio',
    codec: source === 'host-camera' ? 'video/VP8' : 'audio/opus',
    producerId: id,
    pointId: null,
    startedAt: at(0),
    endedAt: at(SECONDS),
    restarts: 0,
    segments,
  };
}

function recording(dir: string, src: { video: string; audio: string }): void {
  const t0 = Date.parse('2022-01-18T01:00:00Z');
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();
  const timeline: TimelineEntry[] = [
    { type: 'state', at: at(0), from: 'lobby', to: 'live', by: 'bench' },
    ...REFERENCE_AGENDA.map((item, index) => ({
      type: 'agenda' as const,
      at: at((index * SECONDS) / REFERENCE_AGENDA.length),
      index,
      itemId: `item-${index}`,
      title: item.title,
      speaker: item.speaker,
    })),
    { type: 'state', at: at(SECONDS), from: 'live', to: 'ended', by: 'bench' },
  ];
  const m: RecordingManifest = {
    version: 1,
    sessionId: 'bench',
    title: 'Hội nghị trực tuyến quán triệt các nghị quyết của Tỉnh ủy',
    state: 'stopped',
    startedAt: at(0),
    stoppedAt: at(SECONDS),
    updatedAt: at(SECONDS),
    segmentSeconds: SEGMENT,
    tracks: [
      track(dir, '01-host-camera', 'host-camera', src.video, at),
      track(dir, '02-host-mic', 'host-mic', src.audio, at),
    ],
    gaps: [],
    timeline,
  };
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
};

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-archive-'));
  try {
    const src = sourceSegments(tmp);
    const dir = path.join(tmp, 'bench');
    fs.mkdirSync(dir);
    recording(dir, src);
    const log = pino({ level: 'warn' });
    const runs = [];
    for (let i = 0; i < REPEATS; i++) {
      const load = os.loadavg()[0]!;
      const cpu0 = childCpuSeconds();
      const t0 = Date.now();
      let next = 10;
      const info = await makeArchive(dir, {
        ffmpegPath: v.ffmpeg!,
        nice: Number(v.nice),
        height: Number(v.height),
        log,
        onProgress: (percent) => {
          if (percent < next) return;
          next = Math.floor(percent / 10) * 10 + 10;
          const wall = (Date.now() - t0) / 1000;
          console.error(JSON.stringify({ run: i + 1, percent, wallSeconds: wall, load: os.loadavg()[0] }));
        },
      });
      const run = {
        wallSeconds: (Date.now() - t0) / 1000,
        cpuSeconds: childCpuSeconds() - cpu0,
        loadBefore: load,
        loadAfter: os.loadavg()[0]!,
        bytes: info.bytes,
        chapters: info.chapters.length,
        niceness: info.niceness,
      };
      runs.push(run);
      console.log(JSON.stringify({ run: i + 1, ...run }));
    }
    const wall = stats(runs.map((r) => r.wallSeconds));
    const cpu = stats(runs.map((r) => r.cpuSeconds));
    console.log(
      JSON.stringify({
        machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) },
        briefingSeconds: SECONDS,
        source: { size: v.size, bitrate: v.bitrate, segmentSeconds: SEGMENT },
        program: { height: Number(v.height), nice: Number(v.nice) },
        repeats: REPEATS,
        wallSeconds: wall,
        cpuSeconds: cpu,
        realtimeFactor: Math.round((SECONDS / wall.median) * 100) / 100,
        cpuPerBriefingMinute: Math.round((cpu.median / (SECONDS / 60)) * 100) / 100,
      }),
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
