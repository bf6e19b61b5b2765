// Pieces the benchmark scripts share: running one (its error on stderr, exit 1), a
// process's CPU from /proc, and a hall made live from a host console socket (a plain RTP
// ingest fed by ffmpeg: VP8 test pattern at the given size and bitrate, 30 fps, and an
// Opus tone).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { Socket } from 'socket.io-client';

/** Clock ticks per second in /proc (USER_HZ, 100 on Linux). */
const TICK = 100;

/** utime + stime of a process, in seconds (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch {
    return 0;
  }
}

type Ack = { ok: boolean; data?: Record<string, { ip: string; port: number; rtcpPort: number }> };

/** A host console's request over its socket; throws on a refusal or no answer in 20 s. */
export function hostAsker(host: Socket) {
  return async (event: string, payload: unknown) => {
    const r = (await host
      .timeout(20_000)
      .emitWithAck(event, payload)
      .catch((err: Error) => {
        throw new Error(`${event}: ${err.message}`);
      })) as Ack;
    if (!r.ok) throw new Error(`${event} failed: ${JSON.stringify(r)}`);
    return r.data!;
  };
}

/** Opens a plain RTP ingest from the attached host console and feeds it; the caller kills the sender. */
export async function feedPlainHall(
  ask: ReturnType<typeof hostAsker>,
  hall: { size: string; bitrate: string },
): Promise<ChildProcess> {
  const ingest = await ask('ingest:plain', {
    video: { ssrc: 1111, payloadType: 101 },
    audio: { ssrc: 2222, payloadType: 100 },
  });
  const [vi, au] = [ingest.video!, ingest.audio!];
  return spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=${hall.size}:rate=30`],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440', '-map', '0:v', '-c:v', 'libvpx', '-b:v', hall.bitrate],
      ...['-deadline', 'realtime', '-cpu-used', '8', '-g', '60', '-ssrc', '1111', '-payload_type', '101'],
      ...['-f', 'rtp', `rtp://${vi.ip}:${vi.port}?rtcpport=${vi.rtcpPort}&pkt_size=1200`],
      ...['-map', '1:a', '-c:a', 'libopus', '-b:a', '64k', '-ssrc', '2222', '-payload_type', '100'],
      ...['-f', 'rtp', `rtp://${au.ip}:${au.port}?rtcpport=${au.rtcpPort}&pkt_size=1200`],
    ],
    { stdio: 'ignore' },
  );
}

/** Runs a benchmark's main: on an error, its stack on stderr and exit code 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  });
}
