// What the health history costs Redis: each point's stream of reports (one every 2 s,
// capped at HEALTH_HISTORY_MAXLEN), written in the stored form and, for comparison, in
// the keyed JSON form kept before. A fresh embedded Redis per repeat; samples made up
// like a browser's reports (fractional bit rates, jitter and loss; a seeded generator, so
// every run writes the same bytes). Reports Redis's MEMORY USAGE of the streams and the
// growth of used_memory, per sample and extrapolated to the cap. See
// docs/benchmarks/soak-and-history.md.
//
//   node --import tsx scripts/bench-health-history.ts --points 20 --samples 10800 --repeats 3
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import type { HealthSample } from '../server/contract/attendance';
import { encodeSample, SAMPLE_FIELD } from '../server/domain/health/sample-codec';
import { EmbeddedRedis } from '../server/redis/embedded-redis';

const { values: v } = parseArgs({
  options: {
    points: { type: 'string', default: '20' },
    samples: { type: 'string', default: '10800' },
    repeats: { type: 'string', default: '3' },
    scale: { type: 'string', default: '420' },
    out: { type: 'string' },
  },
});
const POINTS = Number(v.points);
const SAMPLES = Number(v.samples);
const REPEATS = Number(v.repeats);
const SCALE = Number(v.scale);
for (const [k, n] of Object.entries({ POINTS, SAMPLES, REPEATS, SCALE }))
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${k.toLowerCase()} must be a whole number ≥ 1`);

/** A small seeded generator (mulberry32), so each run writes the same samples. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeSample(r: () => number, at: number): HealthSample {
  const lossy = r() < 0.05;
  return {
    at: new Date(at).toISOString(),
    status: lossy ? 'degraded' : 'good',
    quality: lossy ? 60 + Math.round(r() * 20) : 95,
    rttMs: 10 + r() * 40,
    lossPct: lossy ? r() * 5 : 0,
    jitterMs: r() * 12,
    bitrateKbps: 1100 + r() * 300,
    freezeMs: 0,
    freezeCount: 0,
    framesDecoded: 60,
    width: 1280,
    height: 720,
    audioConcealedPct: lossy ? r() * 3 : 0,
    protocol: 'udp',
    sfuScore: lossy ? 7 : 10,
    sfuLayer: 2,
    mediaRebuilds: 0,
  };
}

type Form = 'keyed' | 'compact';
const encode: Record<Form, (s: HealthSample) => [string, string]> = {
  keyed: (s) => [SAMPLE_FIELD.keyed, JSON.stringify(s)],
  compact: (s) => [SAMPLE_FIELD.compact, encodeSample(s)],
};

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

async function measure(form: Form): Promise<{ bytesPerSample: number; usedPerSample: number; valueBytes: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-health-history-'));
  const server = await EmbeddedRedis.start({ dir });
  const redis = new Redis(server.url, { lazyConnect: false });
  try {
    const before = await usedMemory(redis);
    const r = rng(18_01_2022);
    const start = Date.parse('2022-01-18T01:00:00Z');
    let valueBytes = 0;
    for (let p = 0; p < POINTS; p++) {
      const key = `health:bench:P${p}`;
      for (let i = 0; i < SAMPLES; i += 1000) {
        const pipe = redis.pipeline();
        for (let j = i; j < Math.min(SAMPLES, i + 1000); j++) {
          const [field, value] = encode[form](makeSample(r, start + j * 2000));
          valueBytes += value.length;
          pipe.xadd(key, 'MAXLEN', '~', String(SAMPLES), '*', field, value);
        }
        await pipe.exec();
      }
      process.stderr.write(`\r[bench-health-history] ${form}: ${p + 1}/${POINTS} points`);
    }
    process.stderr.write('\n');
    let usage = 0;
    for (let p = 0; p < POINTS; p++)
      usage += Number(await redis.call('MEMORY', 'USAGE', `health:bench:P${p}`, 'SAMPLES', '0'));
    const used = (await usedMemory(redis)) - before;
    const n = POINTS * SAMPLES;
    return { bytesPerSample: usage / n, usedPerSample: used / n, valueBytes: valueBytes / n };
  } finally {
    redis.disconnect();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MiB = 1024 * 1024;

async function main(): Promise<void> {
  const result: Record<string, unknown> = {
    command: `node --import tsx scripts/bench-health-history.ts ${process.argv.slice(2).join(' ')}`.trim(),
    machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    at: new Date().toISOString(),
    points: POINTS,
    samplesPerPoint: SAMPLES,
    repeats: REPEATS,
    forms: {} as Record<string, unknown>,
  };
  for (const form of ['keyed', 'compact'] as const) {
    const runs = [];
    for (let i = 0; i < REPEATS; i++) runs.push(await measure(form));
    const per = median(runs.map((x) => x.bytesPerSample));
    (result.forms as Record<string, unknown>)[form] = {
      valueBytesPerSample: Math.round(median(runs.map((x) => x.valueBytes))),
      memoryUsageBytesPerSample: runs.map((x) => Math.round(x.bytesPerSample * 10) / 10),
      usedMemoryBytesPerSample: runs.map((x) => Math.round(x.usedPerSample * 10) / 10),
      [`atCapFor${SCALE}PointsMiB`]: Math.round((per * SAMPLES * SCALE) / MiB),
    };
  }
  const text = JSON.stringify(result, null, 2);
  if (v.out) fs.writeFileSync(v.out, text + '\n');
  console.log(text);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
