// baresip (Debian's) as a room system: dials the gateway from inside a test's network
// namespace with the point's digest credentials (or waits there for the gateway's call),
// receives G.711 or G.722 audio and H.264 video (its avcodec module decodes; fakevideo displays nowhere), and prints a status line
// with what it sends and receives. When the gateway lets it send (the floor: a re-INVITE
// `sendrecv`), it sends fakevideo's moving pattern in H.264 (avcodec's libx264) and a
// 440 Hz tone (ausine).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './orchestrator';
import { tiedSpawn } from '../../server/platform/tied-spawn';

export interface Baresip {
  /** Everything it printed so far. */
  output(): string;
  /** Sends a command line to its console. */
  command(line: string): void;
  stop(): Promise<void>;
}

export function startBaresip(opts: {
  netns: string;
  /** The point's address in the namespace, where baresip listens, and its SIP port there. */
  localIp: string;
  localPort: number;
  target: string;
  user: string;
  password: string;
  audioCodec: string;
  srtp?: boolean;
  /** Waits for the server's call instead of dialling: answers it at once (`auto`) or lets it ring (`manual`). */
  answer?: 'auto' | 'manual';
}): Baresip {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baresip-'));
  fs.writeFileSync(
    path.join(dir, 'config'),
    [
      'module_path /usr/lib/baresip/modules',
      `sip_listen ${opts.localIp}:${opts.localPort}`,
      // It sends only while it holds the floor (the gateway answers sendonly until then).
      // ALSA's null device: no sound card needed.
      'audio_player alsa,null',
      // ausine makes 48 kHz stereo only; baresip resamples it to the codec's rate.
      'audio_source ausine,440',
      'ausrc_srate 48000',
      'ausrc_channels 2',
      'video_source fakevideo,nil',
      'video_display fakevideo,nil',
      'video_size 320x180',
      'video_fps 5',
      'rtp_stats yes',
      ...['stdio', 'g711', 'g722', 'avcodec', 'fakevideo', 'alsa', 'ausine', 'rtcpsummary', 'srtp'].map(
        (m) => `module ${m}.so`,
      ),
      'module_app account.so',
      'module_app menu.so',
      '',
    ].join('\n'),
  );
  const params = [
    `auth_user=${opts.user}`,
    `auth_pass=${opts.password}`,
    'regint=0',
    `audio_codecs=${opts.audioCodec}`,
    'video_codecs=H264',
    ...(opts.srtp ? ['mediaenc=srtp-mand'] : []),
    ...(opts.answer ? [`answermode=${opts.answer}`] : []),
  ];
  fs.writeFileSync(path.join(dir, 'accounts'), `<sip:${opts.user}@${opts.target}>;${params.join(';')}\n`);
  const proc: ChildProcess = tiedSpawn(
    'ip',
    [
      'netns',
      'exec',
      opts.netns,
      'baresip',
      '-f',
      dir,
      ...(opts.answer ? [] : ['-e', `/dial sip:${opts.user}@${opts.target}`]),
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-200_000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  return {
    output: () => out,
    command: (line) => proc.stdin!.write(`${line}\n`),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.stdin!.write('/quit\n');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * What baresip's status line says it receives now: audio and video bit rates and the
 * frame rate it decodes and displays (`audio=<tx>/<rx> video=<tx>/<rx> (bit/s) efps=<tx>/<rx>`).
 */
export function receiving(output: string): { audioBps: number; videoBps: number; fps: number } {
  const all = [...output.matchAll(/audio=\d+\/(\d+) video=\d+\/(\d+) \(bit\/s\) efps=[\d.]+\/([\d.]+)/g)];
  const last = all[all.length - 1];
  return last
    ? { audioBps: Number(last[1]), videoBps: Number(last[2]), fps: Number(last[3]) }
    : { audioBps: 0, videoBps: 0, fps: 0 };
}

/** Waits until baresip's own status line says it receives the hall's sound and decodes and displays its picture. */
export function receivesHall(phone: Baresip, since = 0, timeoutMs = 30_000): Promise<unknown> {
  return waitFor(
    () => {
      const now = receiving(phone.output().slice(since));
      return now.fps >= 10 && now.videoBps > 100_000 && now.audioBps > 30_000;
    },
    'baresip to receive the sound and decode the picture',
    timeoutMs,
    1000,
  );
}

/** What baresip's status line says it sends now (bit/s): the floor's picture and sound. */
export function sending(output: string): { audioBps: number; videoBps: number } {
  const all = [...output.matchAll(/audio=(\d+)\/\d+ video=(\d+)\/\d+ \(bit\/s\)/g)];
  const last = all[all.length - 1];
  return last ? { audioBps: Number(last[1]), videoBps: Number(last[2]) } : { audioBps: 0, videoBps: 0 };
}

/**
 * Waits until the gateway has the call up (`up()`). baresip's own lines say how far the call
 * got: when they say it closed (refused, unanswered) this fails at once with them; else it
 * waits up to `timeoutMs`, long enough for a start that a loaded machine starves.
 */
export async function callUp(phone: Baresip, up: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (up()) return;
    const out = phone.output();
    const closed = /session closed: .*/.exec(out)?.[0];
    if (closed || Date.now() > deadline) {
      const last = out.split('\n').slice(-15).join('\n');
      throw new Error(`${what}: ${closed ?? `not up after ${timeoutMs} ms`}; baresip said:\n${last}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
