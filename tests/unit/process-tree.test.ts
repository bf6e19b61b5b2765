// The processes a bench started, found by parentage (scripts/lib/process-tree.ts): its
// children and theirs, however deep (a server's mediasoup workers, Chromium's renderers),
// and nothing else; and, on this machine, a real child and grandchild found and ended by a
// process of their own, while a process outside that process's tree runs on.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { tiedSpawn } from '../../server/platform/tied-spawn';
import { descendantsOf, readProcTable, running, type ProcEntry } from '../../scripts/lib/process-tree';

const at = (pid: number, ppid: number): ProcEntry => ({ pid, ppid, start: pid * 10, state: 'S', comm: 'x' });

test('children, grandchildren and deeper, parents first; not the root, its parent or strangers', () => {
  const table = [at(1, 0), at(50, 1), at(100, 50), at(101, 100), at(102, 100), at(200, 101), at(300, 1), at(400, 300)];
  expect(descendantsOf(100, table).map((e) => e.pid)).toEqual([101, 102, 200]);
  expect(descendantsOf(200, table)).toEqual([]);
});

test('a loop in a table read while processes came and went ends', () => {
  expect(descendantsOf(100, [at(101, 100), at(102, 101), at(101, 102)]).map((e) => e.pid)).toEqual([101, 102]);
});

/** Resolves with the first line `child` writes that `match` accepts. */
function lineFrom(child: ChildProcess, match: (l: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find(match);
      if (line !== undefined) {
        child.stdout!.off('data', onData);
        resolve(line);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code} before the line awaited`)));
  });
}

// endDescendants ends every descendant of the process calling it: here a throw-away node
// process, never jest (whose other children, e.g. an embedded Redis, must live on). It
// starts `sh`, which starts a sleep of its own and waits; once asked, it ends its tree.
const ROOT_SCRIPT = `
const { spawn } = require('node:child_process');
const { endDescendants } = require('./scripts/lib/process-tree.ts');
const sh = spawn('sh', ['-c', 'sleep 60 & wait'], { stdio: 'ignore' });
process.stdout.write('sh ' + sh.pid + '\\n');
process.stdin.once('data', () =>
  endDescendants(2000).then(() => process.stdout.write('ended\\n')).finally(() => process.exit(0)),
);
`;

test("a real child and its own child, both ended; a process outside the caller's tree lives on", async () => {
  const sibling = tiedSpawn('sleep', ['60'], { stdio: 'ignore' });
  const root = tiedSpawn(process.execPath, ['--import', 'tsx', '-e', ROOT_SCRIPT], {
    cwd: path.resolve(__dirname, '..', '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let tree: ProcEntry[] = [];
  try {
    const sh = Number((await lineFrom(root, (l) => l.startsWith('sh '))).slice(3));
    // The root may have children of its own besides sh (tsx's esbuild service): the test
    // follows sh and its sleep, and ends whatever the root started.
    const shAndSleep = () => tree.filter((e) => e.pid === sh || e.ppid === sh);
    for (let i = 0; i < 100 && shAndSleep().length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      tree = descendantsOf(root.pid!, readProcTable());
    }
    expect(shAndSleep().map((e) => [e.pid === sh ? 'sh' : 'sleep', e.ppid])).toEqual([
      ['sh', root.pid],
      ['sleep', sh],
    ]);
    const [outside] = readProcTable().filter((e) => e.pid === sibling.pid);
    expect(outside && running(outside)).toBe(true);
    const exited = new Promise((r) => root.once('exit', r));
    const ended = lineFrom(root, (l) => l === 'ended');
    root.stdin!.write('go\n');
    await ended;
    expect(await exited).toBe(0);
    // SIGKILL is delivered, not waited for: a moment more for the orphaned sleep to end.
    for (let i = 0; i < 20 && tree.some(running); i++) await new Promise((r) => setTimeout(r, 50));
    for (const e of tree) expect({ pid: e.pid, running: running(e) }).toEqual({ pid: e.pid, running: false });
    expect(running(outside!)).toBe(true);
  } finally {
    root.kill('SIGKILL');
    sibling.kill('SIGKILL');
    // Not tied to this process: ended here when the test failed before they were.
    for (const e of tree) if (running(e)) process.kill(e.pid, 'SIGKILL');
  }
}, 20_000);
