// The one secret everything signs with (through keys.ts): APP_SECRET when configured,
// else a random one generated on the first start and kept in the data folder, so that
// links, check-in codes and logins stay valid across restarts. Nothing in the repository
// is ever used as a secret.
//
// File: <DATA_DIR>/app-secret, 64 hex digits and a newline, mode 0600. It is created
// atomically (written under a temporary name, then hard-linked into place), so two
// processes starting together on one data folder end up with the same secret.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { secretWeakness } from './secret-strength';

export const SECRET_FILE = 'app-secret';

export interface AppSecretSource {
  /** APP_SECRET, already checked by config.ts. */
  configured: string | undefined;
  dataDir: string;
  production: boolean;
  logger: Logger;
}

/** Refused start-up: the message says what to do. */
export class AppSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppSecretError';
  }
}

export async function resolveAppSecret(o: AppSecretSource): Promise<string> {
  if (o.configured) return o.configured;
  const file = path.join(o.dataDir, SECRET_FILE);
  const log = o.logger.child({ component: 'app-secret', file });
  const existing = await readSecretFile(file, log);
  if (existing !== undefined) {
    const weak = secretWeakness(existing, o.production);
    if (weak) throw new AppSecretError(`${file}: the secret ${weak}; or delete the file to have a new one made`);
    return existing;
  }
  await fs.mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await fs.link(tmp, file);
    log.warn(
      'APP_SECRET is not set: generated a random one and kept it in the data folder. Keep that folder ' +
        '(back it up with the Redis data); every node of a cluster needs the same APP_SECRET set instead',
    );
  } catch (err) {
    // Another process made it first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await fs.unlink(tmp).catch(() => undefined);
  }
  const made = await readSecretFile(file, log);
  if (made === undefined) throw new AppSecretError(`${file} vanished while it was being created`);
  return made;
}

async function readSecretFile(file: string, log: Logger): Promise<string | undefined> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { mode } = await handle.stat();
    if ((mode & 0o077) !== 0) {
      // Readable by others: tighten it, and say so (it may have been read).
      await handle.chmod(0o600);
      log.warn({ mode: (mode & 0o777).toString(8) }, 'the secret file was readable by other users; made it 0600');
    }
    return (await handle.readFile('utf8')).trim();
  } finally {
    await handle.close();
  }
}
