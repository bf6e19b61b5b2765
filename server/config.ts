// The one place that reads the environment. Everything else receives a parsed,
// validated `Config`. A bad value stops start-up with a message naming the variable.
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { parseAddressList } from './security/client-address';
import { secretWeakness } from './security/secret-strength';
import { DEFAULT_TIME_ZONE, isTimeZone } from './contract/time-zone';
import { boolFlag, ipv4OrV6, port, portRange, thresholdPair, wholeNumber } from './config/fields';
import { checkClusterEnv, clusterConfig, clusterEnv, type ClusterConfig } from './config/cluster';
import { checkNetEnv, netConfig, netEnv, ROOT_PRIVILEGE, type NetConfig, type PortPrivilege } from './config/net';
import { sipConfig, sipEnv } from './config/sip';
import type { SipConfig } from './sip/gateway';

export type { ClusterConfig } from './config/cluster';
export type { NetConfig, PortPrivilege, TurnConfig } from './config/net';

const MB = 1024 * 1024;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

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
    // A receive transport's bandwidth estimator tick (sfu/worker-pool.ts libwebrtcFieldTrials).
    MEDIASOUP_BWE_TICK_MS: wholeNumber().min(5, 'must be 5-25').max(25, 'must be 5-25').default(5),
    // SO_RCVBUF of each worker's WebRtcServer UDP socket (sfu/worker-pool.ts); 0: the system's default.
    MEDIASOUP_UDP_RECV_BUFFER: wholeNumber()
      .refine(
        (n) => n === 0 || (n >= 65_536 && n <= 268_435_456),
        'must be 0 (the system default) or 65536-268435456 bytes',
      )
      .default(0),
    // Video producers' keyFrameRequestDelay (sfu/media-codecs.ts KEY_FRAME_REQUEST_DELAY_MS).
    KEY_FRAME_REQUEST_DELAY_MS: wholeNumber().min(100, 'must be 100-5000').max(5000, 'must be 100-5000').default(1000),
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
    // Connection health and attendance; pairs are "degraded,poor" thresholds.
    HEALTH_RTT_MS: thresholdPair(250, 600),
    HEALTH_LOSS_PCT: thresholdPair(2, 8),
    HEALTH_JITTER_MS: thresholdPair(30, 100),
    HEALTH_FREEZE_MS: thresholdPair(200, 1000),
    HEALTH_SFU_SCORE: thresholdPair(7, 4, 'down'),
    HEALTH_STALE_MS: wholeNumber().min(2000).max(120_000).default(8000),
    HEALTH_MEDIA_SILENT_MS: wholeNumber().min(3000).max(120_000).default(6000),
    HEALTH_WORSEN_SAMPLES: wholeNumber().min(1).max(30).default(2),
    HEALTH_RECOVER_SAMPLES: wholeNumber().min(1).max(60).default(3),
    HEALTH_HISTORY_MAXLEN: wholeNumber().min(100).max(1_000_000).default(10_800),
    ALERT_AFTER_MS: wholeNumber().min(1000).max(3_600_000).default(30_000),
    ALERT_WEBHOOK_URLS: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((u) => u.trim())
          .filter(Boolean),
      )
      .pipe(
        z
          .array(
            z
              .string()
              .url()
              .regex(/^https?:\/\//, 'must be an http(s) URL'),
          )
          .max(10),
      )
      .default([]),
    BRIEFING_TZ: z
      .string()
      .refine(isTimeZone, { message: 'must be an IANA time zone, e.g. Asia/Ho_Chi_Minh' })
      .default(DEFAULT_TIME_ZONE),
    CHECKIN_ROTATE_SECONDS: wholeNumber().min(5).max(3600).default(30),
    CHECKIN_GRACE_SECONDS: wholeNumber().min(0).max(600).default(10),
    CHECKIN_TICKET_SECONDS: wholeNumber().min(30).max(3600).default(300),
    CHECKIN_MARGIN_PERCENT: wholeNumber().min(0).max(1000).default(10),
    // Recording of live sessions (server/recording/).
    RECORDING: boolFlag.default(true),
    RECORDING_DIR: z.string().min(1).optional(),
    RECORDING_SEGMENT_SECONDS: wholeNumber().min(2).max(60).default(6),
    FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
    // Free space under RECORDING_DIR: an alert below WARN, recording stops below STOP.
    RECORDING_DISK_WARN_MB: wholeNumber().min(0).max(10_000_000).default(2048),
    RECORDING_DISK_STOP_MB: wholeNumber().min(0).max(10_000_000).default(256),
    RECORDING_DISK_CHECK_SECONDS: wholeNumber().min(1).max(600).default(5),
    // The hall from an SRT or RTMP encoder (server/ingest/stream-ingest.ts): a port per session.
    SRT_INGEST_PORTS: portRange(9000, 9009),
    RTMP_INGEST_PORTS: portRange(1935, 1944),
    INGEST_LISTEN_IP: ipv4OrV6.optional(),
    // The archive after the end: whether this node runs its jobs (default: on, except on an
    // edge), its encoder's niceness (19: the lowest priority) and height.
    ARCHIVE_JOBS: z.enum(['on', 'off'], { error: 'must be on or off' }).optional(),
    ARCHIVE_NICE: wholeNumber().min(0).max(19).default(19),
    ARCHIVE_HEIGHT: z.coerce
      .number()
      .pipe(z.union([z.literal(360), z.literal(540), z.literal(720), z.literal(1080)]))
      .default(720),
    ...clusterEnv,
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
    ...netEnv,
    ...sipEnv,
  })
  .superRefine((env, ctx) => {
    const production = env.NODE_ENV === 'production';
    if (env.RECORDING_DISK_STOP_MB > env.RECORDING_DISK_WARN_MB) {
      ctx.addIssue({
        code: 'custom',
        path: ['RECORDING_DISK_STOP_MB'],
        message: 'must be at or below RECORDING_DISK_WARN_MB: the desk is warned before recording stops',
      });
    }
    if (env.ARCHIVE_JOBS === 'on' && env.NODE_ROLE === 'edge') {
      ctx.addIssue({
        code: 'custom',
        path: ['ARCHIVE_JOBS'],
        message:
          'must be off on an edge: it carries live media and keeps no recordings (run archives on the origin or a control node)',
      });
    }
    if (env.ARCHIVE_JOBS === 'on' && !env.RECORDING) {
      ctx.addIssue({
        code: 'custom',
        path: ['ARCHIVE_JOBS'],
        message: 'needs RECORDING=true: archives are made from the recordings under RECORDING_DIR',
      });
    }
    for (const name of ['APP_SECRET', 'METRICS_TOKEN', 'TURN_SECRET'] as const) {
      const weak = env[name] === undefined ? undefined : secretWeakness(env[name], production);
      if (weak) ctx.addIssue({ code: 'custom', path: [name], message: weak });
    }
    checkClusterEnv(env, ctx);
    if (env.NODE_ENV === 'production' && !env.RTC_ANNOUNCED_IP && ['0.0.0.0', '::'].includes(env.RTC_LISTEN_IP)) {
      ctx.addIssue({
        code: 'custom',
        path: ['RTC_ANNOUNCED_IP'],
        message: 'required in production when RTC_LISTEN_IP is a wildcard address: the public IP points reach',
      });
    }
    checkNetEnv(env, ctx);
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
  /** Base URL that links (join, check-in) are built on; filled from the machine's
   * address at start (server/net/addresses.ts) when PUBLIC_URL is unset. */
  publicUrl: string | undefined;
  /** Undefined: the launcher starts an embedded redis-server under dataDir. */
  redisUrl: string | undefined;
  dataDir: string;
  log: { level: (typeof LOG_LEVELS)[number]; pretty: boolean };
  rtc: {
    listenIp: string;
    /** Address put in ICE candidates; defaults to 127.0.0.1 when listening on all interfaces
     * (the process start puts the machine's address there instead: server/net/addresses.ts). */
    announcedIp: string | undefined;
    /** Neither RTC_ANNOUNCED_IP nor a specific RTC_LISTEN_IP was given: the start may detect it. */
    announcedIpDefaulted: boolean;
    /** Worker i listens on basePort + i (UDP and TCP); 0 lets the OS choose. */
    basePort: number;
  };
  /** numWorkers is 0 on a control node (NODE_ROLE=control). */
  mediasoup: {
    numWorkers: number;
    logLevel: 'debug' | 'warn' | 'error' | 'none';
    /** How often a receive transport's bandwidth estimator wakes when not probing (ms; mediasoup's own: 5). */
    bweTickMs: number;
    /** SO_RCVBUF asked for each worker's WebRtcServer UDP socket (bytes); 0: the system's default. */
    udpRecvBufferBytes: number;
    /** Key-frame requests to a video producer within this window (ms) are sent as one, at its end. */
    keyFrameRequestDelayMs: number;
  };
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
  checkin: CheckinConfig;
  /** The zone every page and file gives times in (IANA name). */
  timeZone: string;
  recording: RecordingConfig;
  /** SRT and RTMP listeners for the hall from an encoder (server/ingest/stream-ingest.ts). */
  streamIngest: { srtPorts: [number, number]; rtmpPorts: [number, number]; listenIp: string };
  cluster: ClusterConfig;
  net: NetConfig;
  /** Room systems dialling in over SIP (server/sip/); undefined: off (SIP_PORT unset). */
  sip: SipConfig | undefined;
}

/** Delegates' check-in (server/domain/attendance/checkins.ts). */
export interface CheckinConfig {
  /** The QR code on a point's screen changes this often. */
  rotateSeconds: number;
  /** A QR code is still accepted this long after its window. */
  graceSeconds: number;
  /** How long the form a phone opened may be sent. */
  ticketSeconds: number;
  /** A point's check-ins stop at its expected delegates plus this percentage (at least 2 more). */
  marginPercent: number;
}

/** Recording of live sessions (server/recording/). */
export interface RecordingConfig {
  /** False: no session is recorded, whatever the host chooses. */
  enabled: boolean;
  /** Each session's recording goes in a folder of its own under this (default dataDir/recordings). */
  dir: string;
  /** Length of a segment file: what a crash can lose at most. */
  segmentSeconds: number;
  ffmpegPath: string;
  /**
   * The archive: whether this node's process runs its jobs (a cluster may keep them off the
   * nodes that carry live media), its encoder's niceness (19 yields to everything) and the
   * program's height (16:9).
   */
  archive: { jobs: boolean; nice: number; height: number };
  /** Free space under `dir`: the desk is alerted below warnBytes, recording stops below stopBytes. */
  disk: { warnBytes: number; stopBytes: number; everyMs: number };
}

/** Who may read /metrics: a bearer token, or a client address in `allow` (IPs and CIDRs). */
export interface MetricsAccess {
  token: string | undefined;
  /** Default: loopback only. Empty: no address is enough (the token is needed). */
  allow: string[];
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
  /** Nothing received from a point's media transports this long, socket up or not: lost. */
  mediaSilentMs: number;
  worsenSamples: number;
  recoverSamples: number;
  historyMaxLen: number;
  alertAfterMs: number;
  /** Where alerts are POSTed, signed (ALERT_WEBHOOK_URLS). */
  webhookUrls: string[];
}

export class ConfigError extends Error {
  constructor(public readonly issues: { variable: string; message: string }[]) {
    super('Invalid configuration:\n' + issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** `privilege`: whether the process may bind port 443 (the relay's default TLS port); as root unless said. */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  privilege: PortPrivilege = ROOT_PRIVILEGE,
): Config {
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
      announcedIpDefaulted: wildcard && !e.RTC_ANNOUNCED_IP,
      basePort: e.RTC_PORT,
    },
    mediasoup: {
      // A control node serves no media (points and the host are sent to origin and edge
      // nodes): no worker at all, whatever MEDIASOUP_WORKERS says, so none sits idle.
      numWorkers: e.NODE_ROLE === 'control' ? 0 : (e.MEDIASOUP_WORKERS ?? os.cpus().length),
      logLevel: e.MEDIASOUP_LOG_LEVEL,
      bweTickMs: e.MEDIASOUP_BWE_TICK_MS,
      udpRecvBufferBytes: e.MEDIASOUP_UDP_RECV_BUFFER,
      keyFrameRequestDelayMs: e.KEY_FRAME_REQUEST_DELAY_MS,
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
      mediaSilentMs: e.HEALTH_MEDIA_SILENT_MS,
      worsenSamples: e.HEALTH_WORSEN_SAMPLES,
      recoverSamples: e.HEALTH_RECOVER_SAMPLES,
      historyMaxLen: e.HEALTH_HISTORY_MAXLEN,
      alertAfterMs: e.ALERT_AFTER_MS,
      webhookUrls: e.ALERT_WEBHOOK_URLS,
    },
    checkin: {
      rotateSeconds: e.CHECKIN_ROTATE_SECONDS,
      graceSeconds: e.CHECKIN_GRACE_SECONDS,
      ticketSeconds: e.CHECKIN_TICKET_SECONDS,
      marginPercent: e.CHECKIN_MARGIN_PERCENT,
    },
    timeZone: e.BRIEFING_TZ,
    recording: {
      enabled: e.RECORDING,
      dir: path.resolve(e.RECORDING_DIR ?? path.join(e.DATA_DIR, 'recordings')),
      segmentSeconds: e.RECORDING_SEGMENT_SECONDS,
      ffmpegPath: e.FFMPEG_PATH,
      archive: {
        jobs: e.ARCHIVE_JOBS === undefined ? e.RECORDING && e.NODE_ROLE !== 'edge' : e.ARCHIVE_JOBS === 'on',
        nice: e.ARCHIVE_NICE,
        height: e.ARCHIVE_HEIGHT,
      },
      disk: {
        warnBytes: e.RECORDING_DISK_WARN_MB * MB,
        stopBytes: e.RECORDING_DISK_STOP_MB * MB,
        everyMs: e.RECORDING_DISK_CHECK_SECONDS * 1000,
      },
    },
    streamIngest: {
      srtPorts: e.SRT_INGEST_PORTS,
      rtmpPorts: e.RTMP_INGEST_PORTS,
      listenIp: e.INGEST_LISTEN_IP ?? e.RTC_LISTEN_IP,
    },
    cluster: clusterConfig(e),
    net: netConfig(e, privilege),
    sip: sipConfig(e),
  };
}
