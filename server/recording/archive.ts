// Makes the archive of a stopped recording (plan in archive-plan.ts): ffmpeg re-encodes
// the program at the lowest CPU priority (nice 19), so a live briefing on the same
// machine keeps the cores it needs; its progress is read from `-progress` and passed on.
// The file is written in a work folder and moved beside the manifest once complete, then
// described (size, sha256, chapters) in archive.json. Running it again replaces both.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { ArchiveInfoSchema, type ArchiveInfo } from '../contract/recording';
import { tiedSpawn } from '../platform/tied-spawn';
import { archivePlan, programOf } from './archive-plan';
import { sha256File } from './ffmpeg-track';
import { readManifest } from './session-recording';

export const ARCHIVE_INFO = 'archive.json';

export interface MakeArchiveOptions {
  ffmpegPath: string;
  /** The encoder's niceness: 19, the lowest priority, takes only what live work leaves. */
  nice: number;
  /** The program's height (16:9). */
  height: number;
  log: Logger;
  /** From 0 to 100, as ffmpeg moves through the program. */
  onProgress?: (percent: number) => void;
  /** Ends the encoder (a server shutting down); the job runs again later. */
  signal?: AbortSignal;
}

export async function readArchiveInfo(dir: string): Promise<ArchiveInfo | undefined> {
  const raw = await fs.readFile(path.join(dir, ARCHIVE_INFO), 'utf8').catch(() => undefined);
  if (raw === undefined) return undefined;
  const parsed = ArchiveInfoSchema.safeParse(JSON.parse(raw));
  return parsed.success ? parsed.data : undefined;
}

/** Runs the encoder at `o.nice`; resolves with the niceness the system reports it ran at. */
function runNiced(ffmpegPath: string, args: string[], seconds: number, o: MakeArchiveOptions): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const proc = tiedSpawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: o.signal, log: o.log });
    let niceness = 0;
    if (proc.pid !== undefined) {
      try {
        os.setPriority(proc.pid, o.nice);
        niceness = os.getPriority(proc.pid);
      } catch (err) {
        o.log.warn({ err }, 'could not lower the archive encoder priority');
      }
    }
    let stderr = '';
    let last = -1;
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (d: string) => {
      stderr = (stderr + d).slice(-2000);
    });
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      for (const m of d.matchAll(/^out_time_us=(\d+)$/gm)) {
        const percent = Math.min(99, Math.floor(Number(m[1]) / 1e4 / Math.max(seconds, 0.001)));
        if (percent > last) {
          last = percent;
          o.onProgress?.(percent);
        }
      }
    });
    proc.once('error', (err) => {
      proc.kill('SIGKILL');
      reject(err);
    });
    proc.once('exit', (code, signal) => {
      if (code === 0) resolve(niceness);
      else reject(new Error(`the archive encoder failed (${signal ?? code}): ${stderr.slice(-500)}`));
    });
  });
}

/** Makes (or makes again) the archive of the stopped recording in `dir`. */
export async function makeArchive(dir: string, o: MakeArchiveOptions): Promise<ArchiveInfo> {
  const m = await readManifest(dir);
  if (!m) throw new Error(`no recording manifest in ${dir}`);
  if (m.state !== 'stopped') throw new Error('the recording is still going on');
  const plan = archivePlan(m, dir, programOf(o.height));
  const work = path.join(dir, '.archive');
  await fs.rm(work, { recursive: true, force: true });
  await fs.mkdir(work, { recursive: true });
  for (const input of plan.inputs) await fs.writeFile(input.file, input.text);
  const started = Date.now();
  o.log.info({ seconds: plan.seconds, tracks: m.tracks.length }, 'archive: encoding the program');
  const niceness = await runNiced(o.ffmpegPath, plan.args, plan.seconds, o);
  const target = path.join(dir, plan.file);
  await fs.rename(path.join(work, plan.file), target);
  await fs.rm(work, { recursive: true, force: true });
  const info: ArchiveInfo = {
    file: plan.file,
    bytes: (await fs.stat(target)).size,
    sha256: await sha256File(target),
    seconds: plan.seconds,
    chapters: plan.chapters,
    madeAt: new Date().toISOString(),
    encodeSeconds: Math.round((Date.now() - started) / 100) / 10,
    niceness,
  };
  await fs.writeFile(path.join(dir, `${ARCHIVE_INFO}.tmp`), JSON.stringify(info, null, 2));
  await fs.rename(path.join(dir, `${ARCHIVE_INFO}.tmp`), path.join(dir, ARCHIVE_INFO));
  o.onProgress?.(100);
  o.log.info({ file: target, bytes: info.bytes, encodeSeconds: info.encodeSeconds }, 'archive made');
  return info;
}
