import { DiskWatch, levelOf } from '../../server/recording/disk-watch';

const T = { warnBytes: 100, stopBytes: 10, everyMs: 1000 };

describe('free space of the recordings', () => {
  test('levels: under the floor full, under the threshold low', () => {
    expect(levelOf(9, T)).toBe('full');
    expect(levelOf(10, T)).toBe('low');
    expect(levelOf(99, T)).toBe('low');
    expect(levelOf(100, T)).toBe('ok');
  });

  test('only a change of level is announced; a failed read is reported and changes nothing', async () => {
    const readings: (number | Error)[] = [500, 400, 50, 40, new Error('EIO'), 5, 5, 200];
    const seen: string[] = [];
    const errors: unknown[] = [];
    const w = new DiskWatch(
      '/nowhere',
      T,
      (r) => seen.push(`${r.level}:${r.freeBytes}`),
      (e) => errors.push(e),
      async () => {
        const next = readings.shift()!;
        if (next instanceof Error) throw next;
        return next;
      },
    );
    for (let i = 0; i < 8; i++) await w.check();
    expect(seen).toEqual(['ok:500', 'low:50', 'full:5', 'ok:200']);
    expect(errors).toHaveLength(1);
    expect(w.last).toEqual({ level: 'ok', freeBytes: 200 });
  });

  test('reads asked for during a read share it', async () => {
    let reads = 0;
    const w = new DiskWatch(
      '/nowhere',
      T,
      () => undefined,
      () => undefined,
      async () => ++reads * 1000,
    );
    await Promise.all([w.check(), w.check(), w.check()]);
    expect(reads).toBe(1);
  });
});
