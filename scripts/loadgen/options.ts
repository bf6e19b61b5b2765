// What a load run is asked to do (scripts/loadgen.ts turns its flags into these) and the
// defaults: the reference event, 420 points for two minutes.
import os from 'node:os';
import type { ClusterSpec } from './cluster';

export interface LoadOptions {
  /** Base URL of a running orchestrator; when unset one is started (`server/main.ts`). */
  url?: string;
  /** Its process id, for CPU and memory (found from the workers when spawned). */
  serverPid?: number;
  admin: { username: string; password: string };
  points: number;
  /** Seconds of steady state after the join (the check-in window extends it). */
  duration: number;
  /** Join all at once, or `rate` points per second. */
  join: { mode: 'storm' } | { mode: 'ramp'; rate: number };
  checkins: number;
  checkinWindow: number;
  checkinBurst: boolean;
  media: boolean;
  decryptEvery: number;
  workers: number;
  /** Cut this many points' sockets once in the middle of the run (they must rejoin). */
  cut: number;
  /**
   * The watchdog drill: this many points (the last ones) stop counting their media at the
   * start of the steady state, socket and ICE untouched (a point whose screen went black
   * while everything looked connected); their watchdog must rebuild them. Listed as
   * drilled in the result.
   */
  stall?: number;
  monitor: boolean;
  floor: boolean;
  /** Progress lines (stderr); silent when undefined. */
  log?: (line: string) => void;
  /** Hard limit on the whole run (s). */
  maxSeconds: number;
  /** Where a spawned server keeps Redis' data (a temp dir by default, removed after). */
  dataDir?: string;
  /**
   * Cluster mode: spawn Redis, an origin, `edges` edges and a control server instead of
   * one server; the points find their edge through the control server.
   */
  cluster?: ClusterSpec;
  /** Extra environment for a spawned server. */
  serverEnv?: Record<string, string>;
  /** Runs beside the steady state (e.g. a browser on /monitor); its answer lands in `extra`. */
  during?: (ctx: { baseUrl: string; sessionId: string; admin: LoadOptions['admin'] }) => Promise<unknown>;
}

export const DEFAULTS: LoadOptions = {
  admin: { username: 'loadgen-admin', password: 'loadgen-password-1234' },
  points: 420,
  duration: 120,
  join: { mode: 'storm' },
  checkins: 0,
  checkinWindow: 600,
  checkinBurst: false,
  media: true,
  decryptEvery: 10,
  workers: os.cpus().length,
  cut: 0,
  monitor: true,
  floor: true,
  maxSeconds: 3600,
};
