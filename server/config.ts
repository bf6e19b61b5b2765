// The one place that reads the environment. Everything else receives a parsed,
// validated `Config`. A bad value stops start-up with a message naming the variable.
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseAddressList } from './security/client-address';
import { secretWeakness } from './security/secret-strength';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const wholeNumber = () => z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number');
const port = (fallback: number) =>
  wholeNumber().min(0, 'must be 0-65535').max(65535, 'must be 0-65535').default(fallback);
const boolFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** "degraded,poor": two numbers, worse upwards (or downwards for scores). */
const thresholdPair = (degraded: number, poor: number, worse: 'up' | 'down' = 'up') =>
  z
    .string()
    .regex(/^\s*\d+(\.\d+)?\s*,\s*\d+(\.\d+)?\s*$/, 'must be two numbers "degraded,poor", e.g. "250,600"')
    .transform((v) => v.split(',').map(Number) as [number, number])
    .refine(
      ([d, p]) => (worse === 'up' ? p >= d : p <= d),
      `the poor threshold must be ${worse === 'up' ? 'at or above' : 'at or below'} the degraded one`,
    )
    .default([degraded, poor]);

const ipv4OrV6 = z.string().refine((s) => z.ipv4().safeParse(s).success || z.ipv6().safeParse(s).success, {
  message: 'must be an IPv4 or IPv6 address',
});

const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().min(1).default('0.0.0.0'),
    PORT: port(3000),
    PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    DATA_DIR: z.string().min(1).default('data'),
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
    LOG_PRETTY: boolFlag.optional(),
    RTC_LISTEN_IP: ipv4OrV6.default('0.0.0.0'),
    RTC_ANNOUNCED_IP: z.string().min(1).optional(),
    RTC_PORT: port(40000).refine((p) => p >= 1024 || p === 0, 'must be 1024 or above (or 0 for any free port)'),
    MEDIASOUP_WORKERS: wholeNumber().min(1, 'must be 1-64').max(64, 'must be 1-64').optional(),
    MEDIASOUP_LOG_LEVEL: z.enum(['debug', 'warn', 'error', 'none']).default('warn'),
    // Unset: generated on the first start and kept in DATA_DIR (server/security/app-secret.ts).
    APP_SECRET: z.string().optional(),
    ADMIN_USERNAME: z.string().min(3).max(64).optional(),
    ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').max(256).optional(),
    SHUTDOWN_TIMEOUT_MS: wholeNumber().min(100).max(120_000).default(10_000),
    SESSION_OVERRUN_MINUTES: z.coerce
      .number({ error: 'must be a number' })
      .min(0, 'must be 0-1440')
      .max(1440, 'must be 0-1440')
      .default(15),
    // Connection health and attendance (issue 5); pairs are "degraded,poor" thresholds.
    HEALTH_RTT_MS: thresholdPair(250, 600),
    HEALTH_LOSS_PCT: thresholdPair(2, 8),
    HEALTH_JITTER_MS: thresholdPair(30, 100),
    HEALTH_FREEZE_MS: thresholdPair(200, 1000),
    HEALTH_SFU_SCORE: thresholdPair(7, 4, 'down'),
    HEALTH_STALE_MS: wholeNumber().min(2000).max(120_000).default(8000),
    HEALTH_WORSEN_SAMPLES: wholeNumber().min(1).max(30).default(2),
    HEALTH_RECOVER_SAMPLES: wholeNumber().min(1).max(60).default(3),
    HEALTH_HISTORY_MAXLEN: wholeNumber().min(100).max(1_000_000).default(10_800),
    ALERT_AFTER_MS: wholeNumber().min(1000).max(3_600_000).default(30_000),
    CHECKIN_ROTATE_SECONDS: wholeNumber().min(5).max(3600).default(30),
    CHECKIN_GRACE_SECONDS: wholeNumber().min(0).max(600).default(10),
    // Scale-out (issue 8): `all` is the single-process default; see server/cluster/.
    NODE_ROLE: z.enum(['all', 'control', 'origin', 'edge']).default('all'),
    NODE_ID: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, dot, dash or underscore')
      .optional(),
    NODE_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
    NODE_INTERNAL_URL: z.url({ protocol: /^https?$/ }).optional(),
    NODE_REGION: z.string().min(1).max(100).optional(),
    CLUSTER_HEARTBEAT_MS: wholeNumber().min(200).max(60_000).default(2000),
    CLUSTER_NODE_TTL_MS: wholeNumber().min(600).max(300_000).default(6000),
    CLUSTER_PIPE_IP: ipv4OrV6.optional(),
    NODE_UPSTREAM: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be a NODE_ID')
      .optional(),
    // Who may read /metrics: a bearer token, and/or addresses (server/http/metrics.ts).
    METRICS_TOKEN: z.string().optional(),
    METRICS_ALLOW: z
      .string()
      .transform((v, ctx) => {
        try {
          return parseAddressList(v);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      })
      .optional(),
    // Socket.IO connections open at once from one client address (a NAT, a proxy).
    SOCKET_MAX_PER_ADDRESS: wholeNumber().min(1, 'must be 1 or more').max(1_000_000).default(1000),
  })
  .superRefine((env, ctx) => {
    const production = env.NODE_ENV === 'production';
    for (const name of ['APP_SECRET', 'METRICS_TOKEN'] as const) {
      const weak = env[name] === undefined ? undefined : secretWeakness(env[name], production);
      if (weak) ctx.addIssue({ code: 'custom', path: [name], message: weak });
    }
    if (env.NODE_ROLE !== 'all' && env.APP_SECRET === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['APP_SECRET'],
        message: `required with NODE_ROLE=${env.NODE_ROLE}: every node of a cluster signs with the same secret (openssl rand -hex 32)`,
      });
    }
    if (env.NODE_ENV === 'production' && !env.RTC_ANNOUNCED_IP && ['0.0.0.0', '::'].includes(env.RTC_LISTEN_IP)) {
      ctx.addIssue({
        code: 'custom',
        path: ['RTC_ANNOUNCED_IP'],
        message: 'required in production when RTC_LISTEN_IP is a wildcard address: the public IP points reach',
      });
    }
    if ((env.ADMIN_USERNAME === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.ADMIN_USERNAME === undefined ? 'ADMIN_USERNAME' : 'ADMIN_PASSWORD'],
        message: 'ADMIN_USERNAME and ADMIN_PASSWORD go together',
      });
    }
  });

export type Env = z.input<typeof EnvSchema>;

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  host: string;
  port: number;
  /** Base URL that links (join, check-in) are built on. */
  publicUrl: string | undefined;
  /** Undefined: the launcher starts an embedded redis-server under dataDir. */
  redisUrl: string | undefined;
  dataDir: string;
  log: { level: (typeof LOG_LEVELS)[number]; pretty: boolean };
  rtc: {
    listenIp: string;
    /** Address put in ICE candidates; defaults to 127.0.0.1 when listening on all interfaces. */
    announcedIp: string | undefined;
    /** Worker i listens on basePort + i (UDP and TCP); 0 lets the OS choose. */
    basePort: number;
  };
  /** numWorkers is 0 on a control node (NODE_ROLE=control). */
  mediasoup: { numWorkers: number; logLevel: 'debug' | 'warn' | 'error' | 'none' };
  /** Undefined: the one kept in dataDir is used, or made (server/security/app-secret.ts). */
  appSecret: string | undefined;
  metrics: MetricsAccess;
  /** Socket.IO connections open at once per client address. */
  sockets: { maxPerAddress: number };
  initialAdmin: { username: string; password: string } | undefined;
  shutdownTimeoutMs: number;
  /** A session still open this long past its planned end is flagged as overrunning. */
  sessions: { overrunAfterMs: number };
  health: HealthConfig;
  checkin: { rotateSeconds: number; graceSeconds: number };
  cluster: ClusterConfig;
}

/** Who may read /metrics: a bearer token, or a client address in `allow` (IPs and CIDRs). */
export interface MetricsAccess {
  token: string | undefined;
  /** Default: loopback only. Empty: no address is enough (the token is needed). */
  allow: string[];
}

/** This process's place in a multi-node deployment (server/cluster/). */
export interface ClusterConfig {
  /** all: everything in one process (default); control: API, sockets, jobs, no points'
   * media; origin: receives the host; edge: serves points from the origin's stream. */
  role: 'all' | 'control' | 'origin' | 'edge';
  /** Unique within the cluster; default `<hostname>-<port>`. */
  nodeId: string;
  /** Where points and other nodes reach this node; default PUBLIC_URL, else the listening address. */
  publicUrl: string | undefined;
  /** Where other nodes call this one (the internal pipe API); default publicUrl. */
  internalUrl: string | undefined;
  /** Points of this district (or region) go to this edge first. */
  region: string | undefined;
  heartbeatMs: number;
  /** A node whose heartbeat is older than this is dead. */
  ttlMs: number;
  /** Where PipeTransports between SFU nodes listen and are reached (a private address);
   * undefined: RTC_LISTEN_IP, announced as RTC_ANNOUNCED_IP. */
  pipeIp: string | undefined;
  /** Edge: the node it takes the broadcast from (another edge, for a tree); default the origin. */
  upstream: string | undefined;
}

/** Thresholds of the point health status (see server/domain/health/status.ts). */
export interface HealthConfig {
  rttMs: [degraded: number, poor: number];
  lossPct: [degraded: number, poor: number];
  jitterMs: [degraded: number, poor: number];
  /** Freeze time within one 2-second report. */
  freezeMs: [degraded: number, poor: number];
  /** mediasoup consumer score (0-10): at or below these. */
  sfuScore: [degraded: number, poor: number];
  staleMs: number;
  worsenSamples: number;
  recoverSamples: number;
  historyMaxLen: number;
  alertAfterMs: number;
}

export class ConfigError extends Error {
  constructor(public readonly issues: { variable: string; message: string }[]) {
    super('Invalid configuration:\n' + issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), message: i.message })));
  }
  const e = parsed.data;
  const wildcard = e.RTC_LISTEN_IP === '0.0.0.0' || e.RTC_LISTEN_IP === '::';
  return {
    nodeEnv: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    redisUrl: e.REDIS_URL,
    dataDir: path.resolve(e.DATA_DIR),
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY ?? Boolean(process.stdout.isTTY) },
    rtc: {
      listenIp: e.RTC_LISTEN_IP,
      announcedIp: e.RTC_ANNOUNCED_IP ?? (wildcard ? '127.0.0.1' : undefined),
      basePort: e.RTC_PORT,
    },
    mediasoup: {
      // A control node serves no media (points and the host are sent to origin and edge
      // nodes): no worker at all, whatever MEDIASOUP_WORKERS says, so none sits idle.
      numWorkers: e.NODE_ROLE === 'control' ? 0 : (e.MEDIASOUP_WORKERS ?? os.cpus().length),
      logLevel: e.MEDIASOUP_LOG_LEVEL,
    },
    appSecret: e.APP_SECRET,
    metrics: { token: e.METRICS_TOKEN, allow: e.METRICS_ALLOW ?? ['loopback'] },
    sockets: { maxPerAddress: e.SOCKET_MAX_PER_ADDRESS },
    initialAdmin:
      e.ADMIN_USERNAME && e.ADMIN_PASSWORD ? { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD } : undefined,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    sessions: { overrunAfterMs: Math.round(e.SESSION_OVERRUN_MINUTES * 60_000) },
    health: {
      rttMs: e.HEALTH_RTT_MS,
      lossPct: e.HEALTH_LOSS_PCT,
      jitterMs: e.HEALTH_JITTER_MS,
      freezeMs: e.HEALTH_FREEZE_MS,
      sfuScore: e.HEALTH_SFU_SCORE,
      staleMs: e.HEALTH_STALE_MS,
      worsenSamples: e.HEALTH_WORSEN_SAMPLES,
      recoverSamples: e.HEALTH_RECOVER_SAMPLES,
      historyMaxLen: e.HEALTH_HISTORY_MAXLEN,
      alertAfterMs: e.ALERT_AFTER_MS,
    },
    checkin: { rotateSeconds: e.CHECKIN_ROTATE_SECONDS, graceSeconds: e.CHECKIN_GRACE_SECONDS },
    cluster: {
      role: e.NODE_ROLE,
      nodeId:
        e.NODE_ID ??
        `${os
          .hostname()
          .replace(/[^A-Za-z0-9_.-]/g, '-')
          .slice(0, 50)}-${e.PORT}`,
      publicUrl: (e.NODE_PUBLIC_URL ?? e.PUBLIC_URL)?.replace(/\/+$/, ''),
      internalUrl: e.NODE_INTERNAL_URL?.replace(/\/+$/, ''),
      region: e.NODE_REGION,
      heartbeatMs: e.CLUSTER_HEARTBEAT_MS,
      ttlMs: Math.max(e.CLUSTER_NODE_TTL_MS, e.CLUSTER_HEARTBEAT_MS * 2),
      pipeIp: e.CLUSTER_PIPE_IP,
      upstream: e.NODE_UPSTREAM,
    },
  };
}
