// Delegate check-ins as phones make them: open the point's current QR code
// (GET /api/v1/checkin/:token), send the form (POST /api/v1/checkin), spread over a window
// or all at once, with their latencies and errors counted.
import http from 'node:http';
import { httpJson, sleep } from './http';
import type { LoadOptions } from './options';
import type { VirtualPoint } from './point';
import type { LoadResult } from './result';
import { Reservoir, percentile, round, rounded, summarize } from './stats';

/** One retry when a kept-alive connection was closed by the server as it was reused. */
async function withRetry<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (!/ECONNRESET|socket hang up/.test((err as Error).message)) throw err;
    return f();
  }
}

/** Check-ins done so far, for the steady state's progress lines. */
export const checkinProgress = {
  done: 0,
  total: 0,
  post: new Reservoir(),
  reset() {
    this.done = 0;
    this.total = 0;
    this.post = new Reservoir();
  },
  line(): string {
    return this.total
      ? ` checkins=${this.done}/${this.total} postP95=${round(percentile(this.post.values, 95), 0)}ms`
      : '';
  },
};

export function emptyCheckins(o: LoadOptions): LoadResult['checkins'] {
  const e = { n: 0, p50: NaN, p95: NaN, p99: NaN, max: NaN };
  return {
    requested: 0,
    ok: 0,
    failed: 0,
    already: 0,
    errors: {},
    windowSeconds: o.checkinWindow,
    burst: o.checkinBurst,
    getMs: e,
    postMs: e,
    totalMs: e,
    tookSeconds: 0,
  };
}

/**
 * Spreads `o.checkins` over the points in proportion to their expected delegates; each
 * check-in is a phone opening the point's current QR code (GET /checkin/:token) and
 * sending the form (POST /checkin). A point's phones share its source address
 * (127.1.x.y, its room's NAT) and a keep-alive agent; `firstAddress` shifts those addresses
 * when several generator processes share the machine.
 */
export async function runCheckins(
  o: LoadOptions,
  base: string,
  points: VirtualPoint[],
  agents: http.Agent[],
  log: (l: string) => void,
  firstAddress = 0,
): Promise<LoadResult['checkins']> {
  const totalExpected = points.reduce((a, p) => a + p.o.headcount, 0) || points.length;
  const per = points.map((p) => Math.floor((o.checkins * (p.o.headcount || 1)) / totalExpected));
  let rest = o.checkins - per.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0; i = (i + 1) % points.length, rest--) per[i]! += 1;
  const jobs: { point: number; k: number }[] = [];
  per.forEach((n, i) => {
    for (let k = 0; k < n; k++) jobs.push({ point: i, k });
  });
  for (let i = jobs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!];
  }
  const pointAgents = points.map((_, k) => {
    const i = k + firstAddress;
    const a = new http.Agent({
      keepAlive: true,
      maxSockets: 4,
      // 127.1.x.y: 250 addresses per x, none ending in 0 or 255.
      localAddress: `127.1.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`,
    });
    agents.push(a);
    return a;
  });
  const getMs = new Reservoir();
  const postMs = new Reservoir();
  const totalMs = new Reservoir();
  const errs: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let already = 0;
  checkinProgress.total = jobs.length;
  checkinProgress.post = postMs;
  const t0 = Date.now();
  const windowMs = o.checkinBurst ? 0 : o.checkinWindow * 1000;
  const maxInFlight = o.checkinBurst ? 200 : 400;
  let inFlight = 0;
  let next = 0;
  log(`check-ins: ${jobs.length} over ${o.checkinBurst ? 'a burst' : `${o.checkinWindow} s`}`);
  const one = async (job: { point: number; k: number }) => {
    const p = points[job.point]!;
    const agent = pointAgents[job.point]!;
    const t = performance.now();
    try {
      const token = await p.checkinToken();
      const info = await withRetry(() => httpJson<{ ticket: string }>(`${base}/api/v1/checkin/${token}`, { agent }));
      getMs.add(info.ms);
      if (info.status !== 200) throw new Error(`GET ${info.status} ${(info.body as { code?: string })?.code ?? ''}`);
      // Each phone is its own device: the cookie the GET set goes with its form.
      const cookie = ([] as string[])
        .concat(info.headers['set-cookie'] ?? [])
        .map((c) => c.split(';')[0])
        .join('; ');
      // A phone sends the form again when the connection drops; check-in is idempotent.
      const res = await withRetry(() =>
        httpJson<{ already: boolean }>(`${base}/api/v1/checkin`, {
          method: 'POST',
          agent,
          cookie,
          body: {
            ticket: info.body.ticket,
            name: `Đại biểu ${job.k + 1} ${p.o.pointId}`,
            position: 'Đảng viên',
          },
        }),
      );
      postMs.add(res.ms);
      if (res.status !== 200) throw new Error(`POST ${res.status} ${(res.body as { code?: string })?.code ?? ''}`);
      if (res.body.already) already += 1;
      else ok += 1;
      totalMs.add(performance.now() - t);
    } catch (err) {
      failed += 1;
      const key = (err as Error).message.slice(0, 60);
      errs[key] = (errs[key] ?? 0) + 1;
    } finally {
      checkinProgress.done += 1;
    }
  };
  const running = new Set<Promise<void>>();
  while (next < jobs.length) {
    const elapsed = Date.now() - t0;
    const due =
      windowMs === 0 ? jobs.length : Math.min(jobs.length, Math.floor((elapsed / windowMs) * jobs.length) + 1);
    while (next < due && inFlight < maxInFlight) {
      const job = jobs[next++]!;
      inFlight += 1;
      const pr = one(job).finally(() => {
        inFlight -= 1;
        running.delete(pr);
      });
      running.add(pr);
    }
    await sleep(windowMs === 0 ? 5 : 20);
    if (Date.now() - t0 > (o.checkinWindow + 300) * 1000) break; // bounded
  }
  await Promise.all(running);
  const took = (Date.now() - t0) / 1000;
  log(`check-ins done: ${ok} ok, ${already} already, ${failed} failed in ${took.toFixed(1)} s`);
  return {
    requested: jobs.length,
    ok,
    failed,
    already,
    errors: errs,
    windowSeconds: o.checkinWindow,
    burst: o.checkinBurst,
    getMs: rounded(summarize(getMs.values)),
    postMs: rounded(summarize(postMs.values)),
    totalMs: rounded(summarize(totalMs.values)),
    tookSeconds: round(took, 1),
  };
}
