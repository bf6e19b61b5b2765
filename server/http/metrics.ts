// Prometheus metrics: process and event loop (prom-client defaults), mediasoup workers
// and their resource usage, connected sockets.
import { Router } from 'express';
import client from 'prom-client';
import type { WorkerPool } from '../../sfu';

export interface MetricsSources {
  pool: WorkerPool;
  connectedSockets: () => number;
  /** Child processes the server keeps running (embedded Redis, coturn): times each was restarted. */
  processRestarts?: () => Record<string, number>;
}

export function createMetrics(sources: MetricsSources) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });

  new client.Gauge({
    name: 'mediasoup_workers_alive',
    help: 'mediasoup workers currently alive',
    registers: [registry],
    collect() {
      this.set(sources.pool.aliveSlots().length);
    },
  });
  new client.Gauge({
    name: 'mediasoup_workers_configured',
    help: 'mediasoup workers the pool is configured to run',
    registers: [registry],
    collect() {
      this.set(sources.pool.slots.length);
    },
  });
  new client.Gauge({
    name: 'mediasoup_worker_deaths',
    help: 'times each mediasoup worker slot has died since start',
    labelNames: ['worker'],
    registers: [registry],
    collect() {
      for (const s of sources.pool.status()) this.set({ worker: String(s.index) }, s.deaths);
    },
  });
  // prom-client collects metrics concurrently, so each gauge asks the workers itself.
  new client.Gauge({
    name: 'mediasoup_worker_cpu_seconds',
    help: 'CPU time used by each mediasoup worker process (user + system)',
    labelNames: ['worker', 'mode'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { index, usage } of await sources.pool.resourceUsage()) {
        this.set({ worker: String(index), mode: 'user' }, usage.ru_utime / 1000);
        this.set({ worker: String(index), mode: 'system' }, usage.ru_stime / 1000);
      }
    },
  });
  new client.Gauge({
    name: 'mediasoup_worker_max_rss_bytes',
    help: 'maximum resident set size of each mediasoup worker process',
    labelNames: ['worker'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { index, usage } of await sources.pool.resourceUsage()) {
        this.set({ worker: String(index) }, usage.ru_maxrss * 1024);
      }
    },
  });
  new client.Gauge({
    name: 'socketio_connected_sockets',
    help: 'Socket.IO connections open on this process',
    registers: [registry],
    collect() {
      this.set(sources.connectedSockets());
    },
  });

  // A count that only rises: a counter, read from the supervisors at each scrape.
  new client.Counter({
    name: 'embedded_process_restarts_total',
    help: 'times each embedded service process (redis-server, coturn) was restarted after ending on its own',
    labelNames: ['process'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [process, n] of Object.entries(sources.processRestarts?.() ?? {})) this.inc({ process }, n);
    },
  });

  const router = Router();
  router.get('/metrics', async (_req, res, next) => {
    try {
      res.type(registry.contentType).send(await registry.metrics());
    } catch (err) {
      next(err);
    }
  });
  return { registry, router };
}
