// The simulcast hall in its own Node process, so that its CPU is read apart from the
// generator's (/proc of its pid): the parent forks this file, sends it the hall's options,
// and asks for its per-layer counters over the IPC channel.
import { fork, type ChildProcess } from 'node:child_process';
import { SimulcastHall, type HallLayerStats } from './simulcast-hall';

export type HallOptions = ConstructorParameters<typeof SimulcastHall>[0];

type ToChild = { type: 'start'; options: HallOptions } | { type: 'stats'; id: number };
type ToParent =
  { type: 'started' } | { type: 'error'; message: string } | { type: 'stats'; id: number; stats: HallLayerStats[] };

export interface HallHandle {
  pid: number | undefined;
  process: ChildProcess;
  stats(): Promise<HallLayerStats[]>;
  stop(): void;
}

/** Forks the hall and resolves once it sends. */
export function startHallProcess(options: HallOptions): Promise<HallHandle> {
  const child = fork(__filename, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let next = 0;
  const waiting = new Map<number, (s: HallLayerStats[]) => void>();
  child.on('message', (raw) => {
    const m = raw as ToParent;
    if (m.type === 'stats') {
      waiting.get(m.id)?.(m.stats);
      waiting.delete(m.id);
    }
  });
  const handle: HallHandle = {
    pid: child.pid,
    process: child,
    stats: () =>
      new Promise((resolve, reject) => {
        if (!child.connected) return reject(new Error(`hall process gone: ${stderr}`));
        const id = ++next;
        waiting.set(id, resolve);
        child.send({ type: 'stats', id } satisfies ToChild);
        setTimeout(() => {
          if (waiting.delete(id)) reject(new Error('hall stats timed out'));
        }, 5000).unref();
      }),
    stop: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`hall process exited (${code}): ${stderr}`)));
    child.on('message', (raw) => {
      const m = raw as ToParent;
      if (m.type === 'started') resolve(handle);
      if (m.type === 'error') reject(new Error(m.message));
    });
    child.send({ type: 'start', options } satisfies ToChild);
  });
}

function childMain(): void {
  let hall: SimulcastHall | undefined;
  const send = (m: ToParent) => process.send?.(m);
  process.on('message', (raw) => {
    const m = raw as ToChild;
    if (m.type === 'start') {
      try {
        hall = new SimulcastHall(m.options);
        hall.start().then(
          () => send({ type: 'started' }),
          (e: Error) => send({ type: 'error', message: e.message }),
        );
      } catch (e) {
        send({ type: 'error', message: (e as Error).message });
      }
    } else if (m.type === 'stats') send({ type: 'stats', id: m.id, stats: hall?.stats ?? [] });
  });
  // The parent gone: stop sending.
  process.on('disconnect', () => {
    hall?.stop();
    process.exit(0);
  });
}

if (require.main === module && process.send) childMain();
