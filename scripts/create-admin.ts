#!/usr/bin/env -S node --import tsx
// Creates an account (an admin by default) from the command line. The password is read
// from stdin (piped) or asked for twice without echo (terminal); there is no default.
//
//   node --import tsx scripts/create-admin.ts --username alice [--role admin|host|technician] [--name "Nguyễn Thị A"]
//   printf '%s' "$PASSWORD" | node --import tsx scripts/create-admin.ts --username alice
//
// Uses REDIS_URL, or the embedded Redis data directory (DATA_DIR/redis) when REDIS_URL is
// unset: then it starts that redis-server for a moment, so stop `npm start` first.
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { AccountCreateSchema, RoleSchema } from '../server/contract/api';
import { loadConfig } from '../server/config';
import { AccountService } from '../server/domain/accounts/accounts';
import { connectRedis, waitForRedis } from '../server/redis/connect';
import { EmbeddedRedis } from '../server/redis/embedded-redis';

function fail(message: string): never {
  process.stderr.write(`create-admin: ${message}\n`);
  process.exit(1);
}

async function readPiped(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Reads a line from the terminal without echoing it. */
function ask(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          return resolve(value);
        }
        if (ch === '\u0003') {
          stdin.setRawMode(false);
          return reject(new Error('cancelled'));
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      username: { type: 'string', short: 'u' },
      role: { type: 'string', default: 'admin' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || !values.username) {
    process.stderr.write(
      'usage: create-admin --username NAME [--role admin|host|technician] [--name "Display name"]\n' +
        '       the password comes from stdin, or is asked for on a terminal\n',
    );
    process.exit(values.help ? 0 : 2);
  }
  const role = RoleSchema.safeParse(values.role);
  if (!role.success) fail(`--role must be one of ${RoleSchema.options.join(', ')}`);

  let password: string;
  if (process.stdin.isTTY) {
    password = await ask('Password (12+ characters): ');
    if ((await ask('Again: ')) !== password) fail('the passwords differ');
  } else {
    password = await readPiped();
  }
  const input = AccountCreateSchema.safeParse({
    username: values.username,
    role: role.data,
    password,
    ...(values.name ? { displayName: values.name } : {}),
  });
  if (!input.success) fail(input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));

  const config = loadConfig();
  const logger = pino({ level: 'warn' });
  let embedded: EmbeddedRedis | undefined;
  let url = config.redisUrl;
  if (!url) {
    embedded = await EmbeddedRedis.start({ dir: path.join(config.dataDir, 'redis') });
    url = embedded.url;
  }
  const redis = connectRedis(url, 'store', logger);
  try {
    await waitForRedis(redis, url, 10_000);
    const account = await new AccountService(redis, logger).create(input.data);
    process.stdout.write(`created ${account.role} account ${account.username}\n`);
  } catch (err) {
    // Not fail(): the embedded Redis must be stopped first.
    process.stderr.write(`create-admin: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await redis.quit().catch(() => redis.disconnect());
    await embedded?.stop();
  }
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
