// Every process a script started, found by parentage in /proc (Linux): its children and
// theirs (a server's mediasoup workers and Redis, Chromium's renderers), so that a bench
// stopped by a signal takes all of them down, not only those it holds a handle on. Each is
// known by its pid and start time, so that a pid the kernel has given to another process
// since is never signalled.
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcEntry {
  pid: number;
  ppid: number;
  /** Start time after boot, in clock ticks (proc(5) field 22). */
  start: number;
  /** Z: ended, not yet reaped by its parent. */
  state: string;
  /** Command name (proc(5) field 2, cut at 15 characters by the kernel). */
  comm: string;
}

/** Every process /proc shows now. */
export function readProcTable(): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const e = readEntry(Number(d));
    if (e) out.push(e);
  }
  return out;
}

function readEntry(pid: number): ProcEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The fields after the command name (which may hold spaces) start at its last ')':
    // f[0] is field 3 (state), so field n is f[n - 3].
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    return { pid, ppid: Number(f[1]), start: Number(f[19]), state: f[0] ?? '', comm };
  } catch {
    return undefined;
  }
}

/** The descendants of `root` in `table`, parents before their children. */
export function descendantsOf(root: number, table: readonly ProcEntry[]): ProcEntry[] {
  const children = new Map<number, ProcEntry[]>();
  for (const e of table) children.set(e.ppid, [...(children.get(e.ppid) ?? []), e]);
  const out: ProcEntry[] = [];
  const seen = new Set<number>([root]);
  for (let queue = [root]; queue.length > 0;) {
    const next: number[] = [];
    for (const pid of queue)
      for (const c of children.get(pid) ?? []) {
        if (seen.has(c.pid)) continue;
        seen.add(c.pid);
        out.push(c);
        next.push(c.pid);
      }
    queue = next;
  }
  return out;
}

/** Whether the process found still runs (same pid, same start time, not ended). */
export function running(e: ProcEntry): boolean {
  const now = readEntry(e.pid);
  return now?.start === e.start && now.state !== 'Z' && now.state !== 'X';
}

function signal(e: ProcEntry, sig: NodeJS.Signals): void {
  if (!running(e)) return;
  try {
    process.kill(e.pid, sig);
  } catch {
    // gone meanwhile
  }
}

/** SIGKILL, now, to every descendant of this process (for an 'exit' handler: synchronous). */
export function killDescendantsNow(): void {
  for (const e of descendantsOf(process.pid, readProcTable())) signal(e, 'SIGKILL');
}

/**
 * Ends every descendant of this process: its children get SIGTERM (a server then stops
 * its own children in order), and whatever of the whole tree is still there after
 * `graceMs` gets SIGKILL; orphans too, whose parent died first.
 */
export async function endDescendants(graceMs: number): Promise<void> {
  const found = descendantsOf(process.pid, readProcTable());
  for (const e of found) if (e.ppid === process.pid) signal(e, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && found.some(running)) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const e of [...found, ...descendantsOf(process.pid, readProcTable())]) signal(e, 'SIGKILL');
}
