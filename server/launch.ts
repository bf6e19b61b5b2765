// The server process (`npm start`, `npm run demo`, a container's command): config, the
// address points reach, HTTPS (the operator's certificate or a local CA; none with
// TLS=proxy), embedded Redis and coturn when asked, the orchestrator, the start-up lines,
// the first-run setup link, signals. Every input is checked before anything starts: a bad
// certificate or variable stops it with a message naming the variable, never with a
// half-started server. On SIGINT or SIGTERM everything it started stops with it; SIGHUP
// reloads the certificate.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config, type PortPrivilege } from './config';
import { createLogger } from './logger';
import { caPage, plainCaUrl, type CaPage } from './net/ca-page';
import { EmbeddedCoturn } from './net/coturn';
import { ensureLocalCa, OpensslMissingError, type LocalCa } from './net/local-ca';
import { readMachine, resolveAddressing, type Addressing } from './net/addresses';
import { TlsConfigError, TlsCredentials } from './net/tls';
import { processCheck } from './http/health';
import { relayUrls, TurnCredentials, type IceServerSource } from './net/turn';
import { Orchestrator } from './assembly/orchestrator';
import { checkChildTies } from './platform/tied-spawn';
import { EmbeddedRedis } from './redis/embedded-redis';

export interface Started {
  orchestrator: Orchestrator;
  config: Config;
  logger: Logger;
  /** Writes lines to the terminal (stdout). */
  print: (text: string) => void;
}

export interface LaunchOptions {
  /** Runs once the server listens (the demo prepares its briefing here). */
  afterStart?: (s: Started) => Promise<void>;
}

/** Exit code for bad input: the server never started. */
const BAD_INPUT = 2;

function refuse(message: string): never {
  process.stderr.write(`${message}\n\nFix the environment variable(s) above and start again.\n`);
  process.exit(BAD_INPUT);
}

interface Tls {
  credentials: TlsCredentials | undefined;
  ca: LocalCa | undefined;
  /** Certificate and key for coturn's TLS listener. */
  files: { certFile: string; keyFile: string } | undefined;
}

/** CAP_NET_BIND_SERVICE's bit in /proc's capability masks. */
const CAP_NET_BIND_SERVICE = 10n;

/** Who this process runs as, the lowest port the kernel lets anyone bind, its ambient capabilities. */
function readPortPrivilege(): PortPrivilege {
  let unprivilegedPortStart: number | undefined;
  let ambientBindService = false;
  try {
    unprivilegedPortStart = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
    const ambient = /^CapAmb:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    ambientBindService = ambient !== undefined && ((BigInt(`0x${ambient}`) >> CAP_NET_BIND_SERVICE) & 1n) === 1n;
  } catch {
    // not Linux: the classic 1024, no capabilities
  }
  return {
    uid: process.getuid?.(),
    unprivilegedPortStart: Number.isInteger(unprivilegedPortStart) ? unprivilegedPortStart : undefined,
    ambientBindService,
  };
}

/** The host name or address in PUBLIC_URL (the address points reach when it is unset). */
function publicHost(config: Config, addressing: Addressing): string {
  return config.publicUrl ? new URL(config.publicUrl).hostname.replace(/^\[|\]$/g, '') : addressing.address;
}

/** The operator's certificate, or the local CA's; checked now, before anything starts. */
function prepareTls(config: Config, addressing: Addressing): Tls {
  const host = publicHost(config, addressing);
  const isIp = /^[\d.]+$/.test(host) || host.includes(':');
  const ips = new Set(['127.0.0.1', '::1', ...addressing.machine.map((a) => a.address)]);
  if (isIp) ips.add(host);
  if (config.rtc.announcedIp) ips.add(config.rtc.announcedIp);
  if (config.net.turn.listenIp) ips.add(config.net.turn.listenIp);
  const dns = new Set(['localhost']);
  if (!isIp) dns.add(host);
  const hostname = os.hostname();
  if (/^[A-Za-z0-9.-]+$/.test(hostname)) dns.add(hostname);
  try {
    if (config.net.tls) {
      const credentials = new TlsCredentials(config.net.tls);
      return { credentials, ca: undefined, files: config.net.tls };
    }
    const needCa = config.net.localCa || config.net.turn.mode === 'embedded';
    if (!needCa) return { credentials: undefined, ca: undefined, files: undefined };
    const ca = ensureLocalCa(config.dataDir, { dns: [...dns], ips: [...ips] });
    const files = { certFile: ca.certFile, keyFile: ca.keyFile };
    const credentials = config.net.localCa
      ? new TlsCredentials({
          ...files,
          certVariable: 'DATA_DIR/tls/server.crt',
          keyVariable: 'DATA_DIR/tls/server.key',
        })
      : undefined;
    return { credentials, ca, files };
  } catch (err) {
    if (err instanceof TlsConfigError) refuse(`Invalid configuration:\n  ${err.message}`);
    if (err instanceof OpensslMissingError) refuse(`Invalid configuration:\n  PUBLIC_URL: ${err.message}`);
    throw err;
  }
}

function banner(s: {
  config: Config;
  publicUrl: string;
  addressing: Addressing;
  tls: Tls;
  turnUrls: string[];
  setupLink: { url: string; expiresAt: Date } | undefined;
}): string {
  const base = s.publicUrl;
  const where =
    s.addressing.source === 'detected'
      ? `${s.addressing.address} (detected on ${s.addressing.machine[0]?.interface}; set PUBLIC_URL and RTC_ANNOUNCED_IP to choose another)`
      : s.addressing.source === 'loopback'
        ? '127.0.0.1 (loopback only)'
        : `${s.addressing.address} (from ${s.addressing.source})`;
  const lines = [
    '',
    'Briefing orchestrator is running.',
    `  Address points reach: ${where}`,
    `  Media announced on:   ${s.config.rtc.announcedIp ?? s.config.rtc.listenIp}`,
    `  Host console:         ${base}/host`,
    `  Connection monitor:   ${base}/monitor`,
    `  Readiness:            ${base}/readyz`,
  ];
  if (s.config.net.tlsMode === 'proxy')
    lines.push('  HTTPS:                by the reverse proxy (TLS=proxy); plain HTTP here');
  if (s.tls.ca && s.config.net.localCa) {
    const plainCa = plainCaUrl(base, s.config.net.httpRedirectPort);
    lines.push(
      `  Certificate authority: ${s.tls.ca.caFile}${s.tls.ca.created ? ' (created now)' : ''}`,
      `  CA fingerprint:       SHA-256 ${s.tls.ca.caFingerprint}`,
      `  Points install it from ${plainCa} (read them the fingerprint to check)`,
    );
  }
  if (s.turnUrls.length) lines.push(`  TURN relay:           ${s.turnUrls.join(' ')}`);
  for (const w of s.addressing.warnings) lines.push(`  Warning: ${w}`);
  if (s.setupLink) {
    const minutes = Math.round((s.setupLink.expiresAt.getTime() - Date.now()) / 60_000);
    lines.push(
      '',
      `  First run: no admin account exists. Create it within ${minutes} minutes by opening`,
      `  Setup link:           ${s.setupLink.url}`,
      '  (it works once; a new start prints a new one while no admin exists)',
    );
  }
  return `${lines.join('\n')}\n\n`;
}

export async function launch(opts: LaunchOptions = {}): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(undefined, readPortPrivilege());
  } catch (err) {
    if (err instanceof ConfigError) refuse(err.message);
    throw err;
  }
  const addressing = resolveAddressing(config, readMachine());
  config = addressing.config;
  const tls = prepareTls(config, addressing);
  const logger = createLogger(config.log);
  for (const w of addressing.warnings) logger.warn(w);
  if (config.net.turn.tlsPortWarning) logger.warn(config.net.turn.tlsPortWarning);
  // Before any child starts: the probe blocks, and its warning belongs to the start-up.
  checkChildTies(logger);
  let embedded: EmbeddedRedis | undefined;
  let coturn: EmbeddedCoturn | undefined;
  let orchestrator: Orchestrator | undefined;

  const shutdown = async (reason: string, code: number) => {
    logger.info({ reason }, 'stopping');
    const force = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took too long; forcing exit');
      // No child outlives the server, even on a forced exit.
      coturn?.killNow();
      if (embedded?.pid) process.kill(embedded.pid, 'SIGKILL');
      process.exit(code || 1);
    }, config.shutdownTimeoutMs);
    force.unref();
    try {
      await orchestrator?.stop();
      await coturn?.stop();
      await embedded?.stop();
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      code ||= 1;
    }
    logger.flush();
    process.exit(code);
  };
  let signalled = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (signalled) return;
      signalled = true;
      void shutdown(sig, 0);
    });
  }
  process.on('SIGHUP', () => {
    if (!tls.credentials) return logger.info('SIGHUP: no certificate to reload');
    try {
      const leaf = tls.credentials.reload();
      logger.info({ validTo: leaf.validTo, subject: leaf.subject }, 'SIGHUP: certificate reloaded');
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'SIGHUP: certificate not reloaded; still serving the old one');
    }
  });
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));

  try {
    let redisUrl = config.redisUrl;
    if (!redisUrl) {
      embedded = await EmbeddedRedis.start({
        dir: path.join(config.dataDir, 'redis'),
        logger: logger.child({ component: 'embedded-redis' }),
        restartOnExit: true,
      });
      redisUrl = embedded.url;
    }
    const turn = config.net.turn;
    let ice: IceServerSource | undefined;
    let turnUrls: string[] = [];
    if (turn.mode === 'embedded') {
      const listen = turn.listenIp && !['0.0.0.0', '::'].includes(turn.listenIp) ? turn.listenIp : undefined;
      const relayHost = listen ?? addressing.address;
      coturn = await EmbeddedCoturn.start({
        dir: path.join(config.dataDir, 'turn'),
        listenIp: listen,
        externalIp: relayHost,
        allowedPeers: [config.rtc.announcedIp, config.rtc.listenIp].filter(
          (a): a is string => !!a && !['0.0.0.0', '::'].includes(a),
        ),
        port: turn.port,
        tlsPort: turn.tlsPort,
        relayPorts: turn.relayPorts,
        realm: publicHost(config, addressing),
        cert: tls.files!,
        logger: logger.child({ component: 'coturn' }),
        restartOnExit: true,
      });
      turnUrls = relayUrls(relayHost, turn);
      ice = new TurnCredentials({ urls: turnUrls, secret: coturn.secret, ttlSeconds: turn.credentialTtlSeconds });
    } else if (turn.mode === 'external') {
      turnUrls = turn.urls;
      ice = new TurnCredentials({ urls: turn.urls, secret: turn.secret!, ttlSeconds: turn.credentialTtlSeconds });
    }
    let ca: CaPage | undefined;
    const relay = coturn;
    if (tls.ca && config.net.localCa) ca = caPage(tls.ca.caFile, tls.ca.caFingerprint, config.publicUrl!);
    orchestrator = await Orchestrator.create(config, logger, redisUrl, {
      iceServers: ice ? (peer) => ice.iceServers(peer) : undefined,
      routers: ca ? [ca.router] : [],
      tls: tls.credentials
        ? { credentials: tls.credentials, plainHandler: ca?.plain, redirectPort: config.net.httpRedirectPort }
        : undefined,
      readiness: relay ? [processCheck('turn', () => relay.up, 'embedded TURN relay down; restarting it')] : [],
      processRestarts: () => ({
        ...(embedded ? { 'redis-server': embedded.restarts } : {}),
        ...(relay ? { coturn: relay.restarts } : {}),
      }),
    });
    const addr = await orchestrator.listen();
    logger.info({ address: addr.address, port: addr.port, https: Boolean(tls.credentials) }, 'listening');
    const issued = await orchestrator.firstRun.issue();
    const setupLink = issued
      ? { url: `${orchestrator.publicUrl}/setup/${issued.token}`, expiresAt: issued.expiresAt }
      : undefined;
    const print = (text: string) => process.stdout.write(text);
    print(banner({ config, publicUrl: orchestrator.publicUrl, addressing, tls, turnUrls, setupLink }));
    await opts.afterStart?.({ orchestrator, config, logger, print });
  } catch (err) {
    logger.fatal({ err }, 'start-up failed');
    process.stderr.write(`\nStart-up failed: ${(err as Error).message}\n`);
    await shutdown('start-up failed', 1);
  }
}
