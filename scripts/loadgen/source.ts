// The virtual host's stream: a test pattern and a tone encoded once by ffmpeg (VP8 + Opus,
// cached), replayed without re-encoding (`-re -stream_loop -1 -c copy`) as RTP into the
// room's plain ingest: one VP8 layer (the light hall, `--light-hall`); the realistic hall's
// video is ./simulcast-hall.ts, with ffmpeg replaying the audio alone.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tiedSpawn } from '../../server/platform/tied-spawn';

export const FFMPEG = process.env.FFMPEG ?? '/usr/bin/ffmpeg';

export interface SourceOptions {
  videoKbps: number;
  audioKbps: number;
  width: number;
  height: number;
  fps: number;
  /** Key frame every `gopFrames` frames (ffmpeg ignores key-frame requests). */
  gopFrames: number;
  seconds: number;
}

export const DEFAULT_SOURCE: SourceOptions = {
  videoKbps: 900,
  audioKbps: 64,
  width: 640,
  height: 360,
  fps: 30,
  gopFrames: 60,
  seconds: 30,
};

/** Encodes the test clip once; later runs reuse the cached file. */
export function preparedClip(o: SourceOptions = DEFAULT_SOURCE): string {
  const dir = path.join(os.homedir(), '.cache', 'briefing-orchestrator', 'loadgen');
  mkdirSync(dir, { recursive: true });
  const file = path.join(
    dir,
    `testsrc-${o.width}x${o.height}-${o.fps}-${o.videoKbps}k-g${o.gopFrames}-${o.seconds}s.webm`,
  );
  if (existsSync(file)) return file;
  const tmp = `${file}.tmp.webm`;
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${o.width}x${o.height}:rate=${o.fps}`,
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-t',
    String(o.seconds),
    '-c:v',
    'libvpx',
    '-b:v',
    `${o.videoKbps}k`,
    '-minrate',
    `${o.videoKbps}k`,
    '-maxrate',
    `${o.videoKbps}k`,
    '-g',
    String(o.gopFrames),
    '-keyint_min',
    String(o.gopFrames),
    '-deadline',
    'realtime',
    '-cpu-used',
    '8',
    '-c:a',
    'libopus',
    '-b:a',
    `${o.audioKbps}k`,
    '-ac',
    '2',
    tmp,
  ];
  const r = spawnSync(FFMPEG, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  if (r.status !== 0) throw new Error(`ffmpeg encode failed: ${r.stderr?.toString() ?? r.error?.message}`);
  renameSync(tmp, file);
  return file;
}

export interface RtpTarget {
  ip: string;
  port: number;
  /** ffmpeg sends RTCP from its RTP port + 1, so it needs its own port on the ingest too. */
  rtcpPort: number;
  ssrc: number;
  payloadType: number;
}

/** Replays the clip's audio alone in real time to an RTP target (the simulcast hall sends the video). */
export function startAudioReplay(clip: string, audio: RtpTarget): ChildProcess {
  const url = `rtp://${audio.ip}:${audio.port}?rtcpport=${audio.rtcpPort}&pkt_size=1200`;
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', clip],
    ...['-map', '0:a:0', '-c:a', 'copy', '-f', 'rtp', '-ssrc', String(audio.ssrc)],
    ...['-payload_type', String(audio.payloadType), url],
  ];
  return tiedSpawn(FFMPEG, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Replays the clip in real time to the two RTP targets. */
export function startReplay(clip: string, video: RtpTarget, audio: RtpTarget): ChildProcess {
  const url = (t: RtpTarget) => `rtp://${t.ip}:${t.port}?rtcpport=${t.rtcpPort}&pkt_size=1200`;
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-re',
    '-stream_loop',
    '-1',
    '-i',
    clip,
    '-map',
    '0:v:0',
    '-c:v',
    'copy',
    '-f',
    'rtp',
    '-ssrc',
    String(video.ssrc),
    '-payload_type',
    String(video.payloadType),
    url(video),
    '-map',
    '0:a:0',
    '-c:a',
    'copy',
    '-f',
    'rtp',
    '-ssrc',
    String(audio.ssrc),
    '-payload_type',
    String(audio.payloadType),
    url(audio),
  ];
  return tiedSpawn(FFMPEG, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
