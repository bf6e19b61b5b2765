// Processes as Linux shows them in /proc: found by an argument or a parent, and their
// niceness and state read from /proc/<pid>/stat (proc(5)), not from what a server says.
import fs from 'node:fs';

interface Stat {
  comm: string;
  state: string;
  ppid: number;
  nice: number;
}

/** /proc/<pid>/stat; undefined once the process is gone. */
export function procStat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces: the fields follow its last ')'.
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3]: ppid 4, nice 19.
  return {
    comm: text.slice(text.indexOf('(') + 1, close),
    state: rest[0]!,
    ppid: Number(rest[1]),
    nice: Number(rest[16]),
  };
}

const pids = (): number[] =>
  fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);

/** The processes with an argument that contains `part`. */
export function processesWithArg(part: string): number[] {
  return pids().filter((pid) => {
    try {
      return fs
        .readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        .split('\0')
        .some((a) => a.includes(part));
    } catch {
      return false;
    }
  });
}

/**
 * The children of `parentPid` with an argument that contains `part`: what this test's own
 * server started, not what another test run on the machine did.
 */
export function childrenWithArg(parentPid: number, part: string): number[] {
  return processesWithArg(part).filter((pid) => procStat(pid)?.ppid === parentPid);
}

/** The children of `parentPid` whose command name starts with `comm`. */
export function childProcesses(parentPid: number, comm: string): number[] {
  return pids().filter((pid) => {
    const s = procStat(pid);
    return s !== undefined && s.ppid === parentPid && s.comm.startsWith(comm);
  });
}

/** The niceness the kernel schedules the process at. */
export function processNice(pid: number): number {
  const s = procStat(pid);
  if (!s) throw new Error(`process ${pid} is gone`);
  return s.nice;
}

/** Still running (not gone, not a zombie waiting to be reaped). */
export const running = (pid: number): boolean => {
  const s = procStat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
};
