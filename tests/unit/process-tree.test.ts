// The processes a bench started, found by parentage (scripts/lib/process-tree.ts): its
// children and theirs, however deep (a server's mediasoup workers, Chromium's renderers),
// and nothing else; and, on this machine, a real child and grandchild found and ended.
import { tiedSpawn } from '../../server/platform/tied-spawn';
import { descendantsOf, endDescendants, readProcTable, running, type ProcEntry } from '../../scripts/lib/process-tree';

const at = (pid: number, ppid: number): ProcEntry => ({ pid, ppid, start: pid * 10, state: 'S' });

test('children, grandchildren and deeper, parents first; not the root, its parent or strangers', () => {
  const table = [at(1, 0), at(50, 1), at(100, 50), at(101, 100), at(102, 100), at(200, 101), at(300, 1), at(400, 300)];
  expect(descendantsOf(100, table).map((e) => e.pid)).toEqual([101, 102, 200]);
  expect(descendantsOf(200, table)).toEqual([]);
});

test('a loop in a table read while processes came and went ends', () => {
  expect(descendantsOf(100, [at(101, 100), at(102, 101), at(101, 102)]).map((e) => e.pid)).toEqual([101, 102]);
});

test('a real child and its own child, both ended', async () => {
  // sh starts a sleep of its own and waits: the sleep is this process's grandchild.
  const child = tiedSpawn('sh', ['-c', 'sleep 60 & wait'], { stdio: 'ignore' });
  let tree: ProcEntry[] = [];
  for (let i = 0; i < 50 && tree.length < 2; i++) {
    await new Promise((r) => setTimeout(r, 50));
    tree = descendantsOf(process.pid, readProcTable()).filter((e) => e.pid === child.pid || e.ppid === child.pid);
  }
  expect(tree.map((e) => e.ppid)).toEqual([process.pid, child.pid]);
  const exited = new Promise((r) => child.once('exit', r));
  await endDescendants(2000);
  await exited;
  // SIGKILL is delivered, not waited for: a moment more for the orphaned sleep to end.
  for (let i = 0; i < 20 && tree.some(running); i++) await new Promise((r) => setTimeout(r, 50));
  for (const e of tree) expect({ pid: e.pid, running: running(e) }).toEqual({ pid: e.pid, running: false });
});
