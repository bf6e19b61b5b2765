// Debian's Chromium driven by playwright-core; never a downloaded browser. Shared by the
// end-to-end tests and the benchmarks that drive pages (scripts/bench-monitor-page.ts).
// Flags: fake camera and microphone (else getUserMedia finds no device), no permission
// prompts, ICE over loopback (needed when loopback is the only interface, e.g. inside a
// network namespace), and no background networking on a closed network.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * A WAV the fake microphone plays in a loop: bursts of 440 and 660 Hz, so audio energy
 * at the receivers is measurable (the default fake device is near silence once the
 * noise suppressor has seen it).
 */
export function fakeMicrophoneWav(): string {
  const file = path.join(os.tmpdir(), 'briefing-fake-mic-v1.wav');
  if (fs.existsSync(file)) return file;
  const rate = 48_000;
  const seconds = 2;
  const n = rate * seconds;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const phase = t % 0.5;
    const freq = Math.floor(t / 0.5) % 2 === 0 ? 440 : 660;
    const amp = phase < 0.3 ? 0.4 : 0;
    data.writeInt16LE(Math.round(amp * 32767 * Math.sin(2 * Math.PI * freq * t)), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  fs.writeFileSync(`${file}.tmp`, Buffer.concat([header, data]));
  fs.renameSync(`${file}.tmp`, file);
  return file;
}

/** Fake camera and microphone, no prompts, autoplay, and no background networking. */
export function chromiumArgs(extra: string[] = []): string[] {
  return [
    '--use-fake-device-for-media-stream=fps=30',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-audio-capture=${fakeMicrophoneWav()}`,
    ...extra,
    '--autoplay-policy=no-user-gesture-required',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ];
}

/**
 * `handleSignals: false` leaves SIGINT, SIGTERM and SIGHUP to the caller: by default
 * Playwright closes the browser on them and then exits the process at once (130 on SIGINT),
 * which cuts short a caller's own orderly shutdown (scripts/bench-point-page.ts). A caller
 * that turns them off ends the browser itself; one without handlers of its own keeps the
 * default, or a signal would leave Chromium running.
 */
export async function launchChromium(opts: { handleSignals?: boolean } = {}): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (npm test does this as root)`);
  const handle = opts.handleSignals ?? true;
  return chromium.launch({
    executablePath: CHROMIUM,
    args: chromiumArgs(['--allow-loopback-in-peer-connection']),
    handleSIGINT: handle,
    handleSIGTERM: handle,
    handleSIGHUP: handle,
  });
}
