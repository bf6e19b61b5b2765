// Entry point of `npm start`: config, logging, embedded Redis when REDIS_URL is unset,
// the orchestrator, signals. Exits non-zero with a clear message when start-up fails.
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger } from './logger';
import { Orchestrator } from './orchestrator';
import { EmbeddedRedis } from './redis/embedded-redis';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n\nFix the environment variable(s) above and start again.\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.log);
  let embedded: EmbeddedRedis | undefined;
  let orchestrator: Orchestrator | undefined;

  const shutdown = async (reason: string, code: number) => {
    logger.info({ reason }, 'stopping');
    const force = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown took too long; forcing exit');
      process.exit(code || 1);
    }, config.shutdownTimeoutMs);
    force.unref();
    try {
      await orchestrator?.stop();
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
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));

  try {
    let redisUrl = config.redisUrl;
    if (!redisUrl) {
      embedded = await EmbeddedRedis.start({
        dir: path.join(config.dataDir, 'redis'),
        logger: logger.child({ component: 'embedded-redis' }),
      });
      redisUrl = embedded.url;
    }
    orchestrator = await Orchestrator.create(config, logger, redisUrl);
    const addr = await orchestrator.listen();
    const base = orchestrator.publicUrl;
    logger.info({ address: addr.address, port: addr.port }, 'listening');
    process.stdout.write(
      `\nBriefing orchestrator is running.\n` +
        `  Host console:        ${base}/host\n` +
        `  Connection monitor:  ${base}/monitor\n` +
        `  Readiness:           ${base}/readyz\n\n`,
    );
  } catch (err) {
    logger.fatal({ err }, 'start-up failed');
    await shutdown('start-up failed', 1);
  }
}

void main();
