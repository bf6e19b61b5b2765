// CPU and memory of the processes in a run, read from /proc (Linux): the server, its
// mediasoup workers and embedded Redis, the generator and its ffmpeg, and the whole machine.
import { readFileSync } from 'node:fs';
import { readProcTable } from '../lib/process-tree';
import { round } from './stats';

const HZ = 100; // USER_HZ on Linux

export interface ProcSample {
  pid: number;
  /** user + system CPU seconds since the process started. */
  cpuSeconds: number;
  rssBytes: number;
  /** The highest RSS the process has had (VmHWM). */
  peakRssBytes: number;
}

export function readProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) start at the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(f[11]);
    const stime = Number(f[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kB = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { pid, cpuSeconds: (utime + stime) / HZ, rssBytes: kB('VmRSS'), peakRssBytes: kB('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Children of `ppid` whose command name starts with `comm` (comm is cut at 15 characters). */
export function childrenNamed(ppid: number, comm: string): number[] {
  return readProcTable()
    .filter((e) => e.ppid === ppid && e.comm.startsWith(comm.slice(0, 15)))
    .map((e) => e.pid)
    .sort((a, b) => a - b);
}

/**
 * The processes for which `test` holds, given each one's parent and its arguments
 * (`/proc/<pid>/cmdline` split at its NULs), in pid order.
 */
export function processesWhere(test: (p: { ppid: number; args: string[] }) => boolean): number[] {
  const out: number[] = [];
  for (const { pid, ppid } of readProcTable()) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (test({ ppid, args })) out.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return out.sort((a, b) => a - b);
}

export interface MachineSample {
  /** CPU seconds busy (all cores) and total (all cores), since boot. */
  busy: number;
  total: number;
  cores: number;
}

export function readMachine(): MachineSample {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const f = lines[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  const cores = lines.filter((l) => /^cpu\d+ /.test(l)).length;
  return { busy: (total - idle) / HZ, total: total / HZ, cores };
}

/** The load average and the busiest other processes, to say whether a run was alone. */
export function loadAverage(): number[] {
  return readFileSync('/proc/loadavg', 'utf8').trim().split(/\s+/).slice(0, 3).map(Number);
}

export interface CpuWindow {
  /** Average CPU over the window in % of one core. */
  cpuPct: number;
  rssBytes: number;
}

export function cpuBetween(a: ProcSample | undefined, b: ProcSample | undefined, seconds: number): CpuWindow {
  if (!a || !b || seconds <= 0) return { cpuPct: NaN, rssBytes: b?.rssBytes ?? NaN };
  return { cpuPct: ((b.cpuSeconds - a.cpuSeconds) / seconds) * 100, rssBytes: b.rssBytes };
}

/**
 * CPU (% of one core, one decimal) and RSS (whole MiB) per process over a window, keyed as
 * the window's last samples are: a process missing from the first sample has NaN CPU.
 */
export function cpuAndRss(
  p0: Record<string, ProcSample | undefined>,
  p1: Record<string, ProcSample | undefined>,
  seconds: number,
): { cpuPct: Record<string, number>; rssMiB: Record<string, number> } {
  const cpuPct: Record<string, number> = {};
  const rssMiB: Record<string, number> = {};
  for (const k of Object.keys(p1)) {
    const c = cpuBetween(p0[k], p1[k], seconds);
    cpuPct[k] = round(c.cpuPct, 1);
    rssMiB[k] = round(c.rssBytes / 2 ** 20, 0);
  }
  return { cpuPct, rssMiB };
}

/** UDP datagrams this network namespace dropped because a receive buffer was full (/proc/net/snmp). */
export function udpRcvbufErrors(): number {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    return Number(values[names.indexOf('RcvbufErrors')] ?? NaN);
  } catch {
    return NaN;
  }
}
