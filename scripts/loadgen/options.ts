// What a load run is asked to do (scripts/loadgen.ts turns its flags into these) and the
// defaults: the reference event, 420 points for two minutes.
import os from 'node:os';
import type { ClusterSpec } from './cluster';
import type { HostActsSpec } from './host-acts';
import type { ImpairSpec } from './impair';

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
  /**
   * The light hall of earlier runs: ffmpeg alone, one 640x360 VP8 layer, key-frame requests
   * ignored. Default: the simulcast hall (three layers up to 1280x720, answering them).
   */
  lightHall?: boolean;
  /**
   * Points as the generator's first receivers were: no RTCP back, no header extensions.
   * Default: browser-like (transport-cc, receiver reports, NACK, PLI).
   */
  silentPoints?: boolean;
  /**
   * Browser-like points offer video/rtx as Chromium does, so NACKed packets come back on
   * each consumer's RTX stream (RFC 4588). False: no RTX, resends on the media SSRC.
   * Default true; silent points never offer it.
   */
  rtx?: boolean;
  /**
   * The share of the points (0-1) whose media goes over ICE-TCP to the WebRtcServer's TCP
   * port (./ice-tcp.ts), spread evenly among them; the others use UDP. Default 0.
   */
  tcpShare?: number;
  /**
   * Real Chromium pages joining inside the storm (./chromium-points.ts), on points of their
   * own after the virtual ones; each page's first decoded frame is timed. Default 0.
   */
  chromiumPoints?: number;
  /** Build the client from the working tree before Chromium points load it. Default true. */
  buildClient?: boolean;
  /**
   * Playwright's own SIGINT/SIGTERM/SIGHUP handlers in the Chromium points' browser (close
   * it, then exit at once). Default true; false for a caller that ends its process tree
   * itself on a signal (scripts/bench-point-page.ts), whose orderly shutdown they would cut.
   */
  chromiumHandleSignals?: boolean;
  /** A share of the points on a lossy, rate-capped link (./impair.ts). */
  impair?: ImpairSpec;
  decryptEvery: number;
  /** DTLS handshakes computed at once by the generator (0: all at once). */
  dtlsConcurrency: number;
  workers: number;
  /** Cut this many points' sockets once in the middle of the run (they must rejoin). */
  cut: number;
  /**
   * Churn: every `every` seconds of the steady state, the next `count` points (in turn)
   * leave and rejoin (their socket cut: a new transport and consumers on reconnect).
   */
  churn?: { count: number; every: number };
  /**
   * The watchdog drill: this many points (the last ones) stop counting their media at the
   * start of the steady state, socket and ICE untouched (a point whose screen went black
   * while everything looked connected); their watchdog must rebuild them. Listed as
   * drilled in the result; those that left and rejoined first (churn) as drillLeft.
   */
  stall?: number;
  monitor: boolean;
  /**
   * The host's actions during the steady state (./host-acts.ts): the agenda moved on
   * every few minutes, the floor handed to a point and back. None when unset.
   */
  hostActs?: HostActsSpec;
  /** Another observer of every health report's marker (e.g. the monitor page's probe). */
  onReportSent?: (pointId: string, marker: number, at: number) => void;
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
  /**
   * Runs beside the steady state (e.g. a browser on /monitor), which ends at `until`
   * (epoch ms) once it has settled; its answer lands in `extra`.
   */
  during?: (ctx: {
    baseUrl: string;
    sessionId: string;
    admin: LoadOptions['admin'];
    until: number;
  }) => Promise<unknown>;
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
  dtlsConcurrency: 8,
  workers: os.cpus().length,
  cut: 0,
  monitor: true,
  floor: true,
  maxSeconds: 3600,
};
