// The load generator's CPU and memory per process over a window (scripts/loadgen/procstat.ts
// cpuAndRss): CPU seconds spent over the window's seconds in % of one core, RSS of the
// window's end in MiB, each process keyed as the last samples are.
import { cpuAndRss, type ProcSample } from '../../scripts/loadgen/procstat';

const sample = (cpuSeconds: number, rssMiB: number): ProcSample => ({
  pid: 1,
  cpuSeconds,
  rssBytes: rssMiB * 2 ** 20,
  peakRssBytes: rssMiB * 2 ** 20,
});

describe('cpuAndRss', () => {
  test('CPU in % of one core to 0.1, RSS at the end in whole MiB', () => {
    const { cpuPct, rssMiB } = cpuAndRss(
      { server: sample(10, 100), worker0: sample(2, 50) },
      { server: sample(13, 120.4), worker0: sample(2.333, 50.6) },
      10,
    );
    expect(cpuPct).toEqual({ server: 30, worker0: 3.3 });
    expect(rssMiB).toEqual({ server: 120, worker0: 51 });
  });

  test('a process missing from either sample, or an empty window, has NaN CPU', () => {
    const r = cpuAndRss({ redis: sample(1, 10) }, { redis: sample(2, 10), ffmpeg: sample(5, 30), gone: undefined }, 5);
    expect(r.cpuPct).toEqual({ redis: 20, ffmpeg: NaN, gone: NaN });
    expect(r.rssMiB).toEqual({ redis: 10, ffmpeg: 30, gone: NaN });
    expect(cpuAndRss({ redis: sample(1, 10) }, { redis: sample(2, 10) }, 0).cpuPct.redis).toBeNaN();
  });
});
