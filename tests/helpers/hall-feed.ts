// The hall fed as a hall encoder would: ffmpeg sending a test picture (VP8, a key frame
// every second) and a tone (Opus) over plain RTP into the ingest an attached host console
// opened (`ingest:plain`), or, as an SRT or RTMP encoder, to a session's listener.
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { Socket } from 'socket.io-client';
import { ask } from './attendance';
import { tiedSpawn } from '../../server/platform/tied-spawn';

export interface RtpEndpoint {
  producerId: string;
  ip: string;
  port: number;
  rtcpPort?: number;
}

/** `picture`: ffmpeg's lavfi source of the picture (by default the moving test pattern). */
export function publishTestPattern(
  video: RtpEndpoint,
  audio: RtpEndpoint,
  picture = 'testsrc2=size=320x180:rate=15',
): ChildProcess {
  return tiedSpawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-re'],
      ...['-f', 'lavfi', '-i', picture, '-f', 'lavfi', '-i', 'sine=frequency=440'],
      ...['-map', '0:v', '-c:v', 'libvpx', '-b:v', '300k', '-deadline', 'realtime', '-cpu-used', '8', '-g', '15'],
      ...['-ssrc', '1111', '-payload_type', '101', '-f', 'rtp'],
      `rtp://${video.ip}:${video.port}?rtcpport=${video.rtcpPort}&pkt_size=1200`,
      ...['-map', '1:a', '-c:a', 'libopus', '-b:a', '48k', '-ssrc', '2222', '-payload_type', '100', '-f', 'rtp'],
      `rtp://${audio.ip}:${audio.port}?rtcpport=${audio.rtcpPort}&pkt_size=1200`,
    ],
    { stdio: 'ignore', cwd: os.tmpdir() },
  );
}

/** Opens a plain RTP ingest from the host console and feeds it; the caller kills the publisher. */
export async function feedHall(host: Socket): Promise<ChildProcess> {
  const ingest = await ask<{ video: RtpEndpoint; audio: RtpEndpoint }>(host, 'ingest:plain', {
    video: { ssrc: 1111, payloadType: 101 },
    audio: { ssrc: 2222, payloadType: 100 },
  });
  return publishTestPattern(ingest.video, ingest.audio);
}

/** How a stream encoder reaches a session's listener (`ingest:srt`, `ingest:rtmp`). */
export type EncoderProtocol = 'srt' | 'rtmp';

/**
 * ffmpeg's output for an encoder sending to a session's listener: MPEG-TS over SRT (as the
 * caller) or FLV over RTMP. `url` is the listener's (null when none is open): anything but
 * a URL of that protocol throws, as ffmpeg would take it for an output file and write one.
 */
export function encoderOutput(protocol: EncoderProtocol, url: string | null): string[] {
  if (!url?.startsWith(`${protocol}://`)) throw new Error(`no ${protocol} listener URL to send to (got ${url})`);
  return protocol === 'srt' ? ['-f', 'mpegts', `${url}&mode=caller`] : ['-f', 'flv', url];
}
