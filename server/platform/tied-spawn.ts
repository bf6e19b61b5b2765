// Child processes that die with the server, even when the server itself is killed
// outright (SIGKILL, the OOM killer, a crash) and has no chance to stop them. Without
// this, an ffmpeg recorder that waits for packets for ever would run on for hours after
// its server, holding its port and writing nothing.
//
// On Linux the child is started through util-linux's `setpriv --pdeathsig <signal>`,
// which sets the kernel's parent-death signal (prctl PR_SET_PDEATHSIG) and then execs the
// command: the process the server sees (its pid, /proc/<pid>, kill(), setpriority()) is
// the command itself, not a wrapper. The setting survives that exec because none of the
// commands started this way are set-user-ID or carry file capabilities (the kernel clears
// it for those).
//
// The kernel sends the signal when the *thread* that forked the child ends, not the
// process. Node forks from the thread that calls spawn(); the server calls it from its
// main thread, which lives as long as the process, so the signal comes when the server
// dies and not before. (A worker thread that spawned and then ended would take its
// children with it.) A server that dies in the few instants between the fork and setpriv's
// prctl leaves that one child untied.
//
// Elsewhere (not Linux, or no setpriv with --pdeathsig) children are started plainly, and
// one warning says that they may outlive a killed server. Whether setpriv can do it is
// probed once, synchronously (`setpriv --help`, up to 5 s): the server does it at start-up
// (checkChildTies), so that neither the wait nor the warning falls on a live briefing.
//
// One difference from a plain spawn(): once setpriv itself has started, a command that
// cannot be exec'd (found at spawn time but gone or not executable a moment later) is
// reported by setpriv's exit (127 when it is gone, 126 when it cannot run; 1 from older
// util-linux), not by spawn()'s 'error' event.
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

export interface TiedSpawnOptions extends Omit<SpawnOptions, 'shell'> {
  /**
   * What the child receives when the server dies: SIGKILL unless told. A child that must
   * write something out first (Redis its append-only file) asks for SIGTERM.
   */
  deathSignal?: NodeJS.Signals;
  /** Where the one warning goes if children cannot be tied to the server here. */
  log?: Pick<Logger, 'warn'>;
}

let setpriv: string | null | undefined;
let warned = false;

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Where spawn() would find `command`: as given if it names a path, else on the child's PATH. */
function locate(command: string, options: Omit<SpawnOptions, 'shell'>): string | undefined {
  if (command.includes('/')) {
    const file = path.resolve(String(options.cwd ?? '.'), command);
    return executable(file) ? file : undefined;
  }
  // Not configuration: the search path spawn() itself would use for the child.
  // eslint-disable-next-line no-restricted-properties
  const searchPath = (options.env ?? process.env).PATH ?? '';
  return searchPath
    .split(path.delimiter)
    .filter(Boolean)
    .map((dir) => path.join(dir, command))
    .find(executable);
}

/** setpriv's path if it can set the parent-death signal here; null otherwise (cached). */
export function parentDeathWrapper(): string | null {
  if (setpriv !== undefined) return setpriv;
  setpriv = null;
  if (process.platform !== 'linux') return setpriv;
  const file = locate('setpriv', {});
  if (!file) return setpriv;
  const help = spawnSync(file, ['--help'], { encoding: 'utf8', timeout: 5000 });
  if (help.status === 0 && help.stdout.includes('--pdeathsig')) setpriv = file;
  return setpriv;
}

function warnUntied(log: Pick<Logger, 'warn'>): void {
  if (warned) return;
  warned = true;
  log.warn(
    { platform: process.platform },
    'setpriv --pdeathsig is not available (util-linux, Linux only): child processes such as ffmpeg ' +
      'recorders may outlive a server that is killed',
  );
}

/**
 * Probes setpriv now (see the file's head), warning once if children cannot be tied to
 * the server here. The server calls it at start-up, before it spawns anything.
 */
export function checkChildTies(log: Pick<Logger, 'warn'>): boolean {
  const tied = parentDeathWrapper() !== null;
  if (!tied) warnUntied(log);
  return tied;
}

/**
 * spawn(), with the child killed by the kernel (`deathSignal`, SIGKILL by default) when
 * the server dies. A command that cannot be found is spawned as given, so the caller gets
 * spawn()'s own ENOENT 'error' event as before.
 */
export function tiedSpawn(command: string, args: readonly string[], options: TiedSpawnOptions = {}): ChildProcess {
  const { deathSignal = 'SIGKILL', log, ...spawnOptions } = options;
  const wrapper = parentDeathWrapper();
  const target = locate(command, spawnOptions);
  if (!wrapper || !target) {
    if (!wrapper && log) warnUntied(log);
    return spawn(command, args, spawnOptions);
  }
  return spawn(wrapper, ['--pdeathsig', deathSignal, '--', target, ...args], spawnOptions);
}
