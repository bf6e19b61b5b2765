// The supervisor of an embedded service process, with a fake child and fake timers: an
// end of its own is logged with its last output once the output is drained, a start
// failing is tried again with doubling delays up to 10 s, a minute up starts the delays
// again, and stop() leaves nothing started and nothing counted.
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { DRAIN_MS, ProcessSupervisor } from '../../server/platform/supervisor';

interface Line {
  level: number;
  msg: string;
  delayMs?: number;
  output?: string;
  err?: string;
  restarts?: number;
}

/** A child process as far as the supervisor looks at it. */
function fakeChild(pid: number): ChildProcess & EventEmitter {
  return Object.assign(new EventEmitter(), { pid, exitCode: null, signalCode: null }) as never;
}

/** A supervisor whose starts are answered by the test: each call waits for ok() or fail(). */
function supervised() {
  const lines: Line[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Line) });
  const starts: { ok: () => void; fail: (msg: string) => void }[] = [];
  const start = jest.fn(
    () =>
      new Promise<void>((resolve, reject) => {
        starts.push({ ok: resolve, fail: (msg) => reject(new Error(msg)) });
      }),
  );
  const sup = new ProcessSupervisor('test service', log, start);
  const ended = () => lines.filter((l) => l.msg === 'test service ended; restarting it');
  const back = () => lines.filter((l) => l.msg === 'test service is back');
  /** A watched process that then ends on its own with exit code 1. */
  const crash = (pid: number) => {
    const child = fakeChild(pid);
    sup.watch(child, () => '');
    child.emit('close', 1, null);
  };
  return { sup, start, starts, lines, ended, back, crash };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('an end of its own is logged once its output is drained, and it is started again after 0.5 s', async () => {
  const s = supervised();
  const child = fakeChild(101);
  let output = 'Ready to accept connections\n';
  s.sup.watch(child, () => output);

  child.emit('exit', null, 'SIGKILL');
  output += 'the last words, read after the exit\n';
  child.emit('close', null, 'SIGKILL');
  expect(s.ended()).toEqual([
    expect.objectContaining({ level: 50, delayMs: 500, output: expect.stringContaining('the last words') }),
  ]);
  expect(s.sup.down).toBe(true);

  await jest.advanceTimersByTimeAsync(499);
  expect(s.start).not.toHaveBeenCalled();
  await jest.advanceTimersByTimeAsync(1);
  expect(s.start).toHaveBeenCalledTimes(1);
  s.starts[0]!.ok();
  await jest.advanceTimersByTimeAsync(0);
  expect(s.back()).toEqual([expect.objectContaining({ restarts: 1 })]);
  expect(s.sup.restarts).toBe(1);
  expect(s.sup.down).toBe(false);
});

test('an end whose output stays open (a fork of its own holds it) is restarted DRAIN_MS after the exit', async () => {
  const s = supervised();
  const child = fakeChild(103);
  s.sup.watch(child, () => 'Background append only file rewriting started\n');
  child.emit('exit', null, 'SIGKILL');
  expect(s.sup.down).toBe(true);
  await jest.advanceTimersByTimeAsync(DRAIN_MS - 1);
  expect(s.ended()).toEqual([]);
  await jest.advanceTimersByTimeAsync(1);
  expect(s.ended()).toEqual([expect.objectContaining({ delayMs: 500, output: expect.stringContaining('rewriting') })]);
  // The output closing later changes nothing: one end, one restart.
  child.emit('close', null, 'SIGKILL');
  await jest.advanceTimersByTimeAsync(500);
  expect(s.ended()).toHaveLength(1);
  expect(s.start).toHaveBeenCalledTimes(1);
});

test('stop() during the delay: it is not started again', async () => {
  const s = supervised();
  s.crash(102);
  await jest.advanceTimersByTimeAsync(200);
  await s.sup.stop();
  await jest.advanceTimersByTimeAsync(60_000);
  expect(s.start).not.toHaveBeenCalled();
  expect(s.sup.restarts).toBe(0);
});

test('stop() during a start under way waits for it; it is neither counted nor said to be back', async () => {
  const s = supervised();
  s.crash(103);
  await jest.advanceTimersByTimeAsync(500);
  expect(s.start).toHaveBeenCalledTimes(1);

  let stopped = false;
  const stopping = s.sup.stop().then(() => (stopped = true));
  await jest.advanceTimersByTimeAsync(0);
  expect(stopped).toBe(false);
  s.starts[0]!.ok();
  await stopping;
  expect(s.sup.restarts).toBe(0);
  expect(s.back()).toEqual([]);
  await jest.advanceTimersByTimeAsync(60_000);
  expect(s.start).toHaveBeenCalledTimes(1);
});

test('a start that fails is tried again, the delay doubling up to 10 s', async () => {
  const s = supervised();
  s.crash(104);
  const at: number[] = [];
  const t0 = Date.now();
  for (let i = 0; i < 7; i++) {
    await jest.advanceTimersByTimeAsync(s.ended().at(-1)!.delayMs!);
    expect(s.start).toHaveBeenCalledTimes(i + 1);
    at.push(Date.now() - t0);
    s.starts[i]!.fail(`port 6390 is in use (${i})`);
    await jest.advanceTimersByTimeAsync(0);
  }
  expect(s.ended().map((l) => l.delayMs)).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  expect(at).toEqual([500, 1500, 3500, 7500, 15_500, 25_500, 35_500]);
  expect(s.ended()[1]).toMatchObject({ level: 50, err: 'port 6390 is in use (0)' });
  expect(s.sup.down).toBe(true);
  await s.sup.stop();
});

test('after a minute up the delays start again at 0.5 s', async () => {
  const s = supervised();
  const children = [fakeChild(105), fakeChild(106), fakeChild(107)];
  // The owner watches each process it started once it is ready.
  s.start.mockImplementation(() => {
    s.sup.watch(children[s.start.mock.calls.length]!, () => '');
    return Promise.resolve();
  });
  s.sup.watch(children[0]!, () => '');
  children[0]!.emit('close', 1, null);
  await jest.advanceTimersByTimeAsync(500);
  // Ends again at once: the delay doubles.
  children[1]!.emit('close', 1, null);
  await jest.advanceTimersByTimeAsync(1000);
  expect(s.start).toHaveBeenCalledTimes(2);
  // Up for a minute: the next end counts as a first one.
  await jest.advanceTimersByTimeAsync(60_000);
  children[2]!.emit('close', 1, null);
  expect(s.ended().map((l) => l.delayMs)).toEqual([500, 1000, 500]);
  expect(s.sup.restarts).toBe(2);
  await s.sup.stop();
});
