// The first run. While no admin account exists, each start issues a one-time setup token
// (random, expiring, stored in Redis only as its hash, so any node behind a balancer
// accepts it) and prints its link; opening it creates the first admin in the browser,
// consuming the token. Once an admin exists, the routes refuse.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Router } from 'express';
import { SetupRequestSchema, SetupResultSchema, SetupStatusSchema } from '../contract/setup';
import type { AccountService } from '../domain/accounts/accounts';
import { AppError, conflict } from '../errors';
import { sameOriginOnly } from '../auth/auth';
import { ApiBuilder } from '../http/api/route';

const KEY = 'setup:token';
const DEFAULT_TTL_MS = 60 * 60_000;

// KEYS[1] the token's hash; ARGV[1] the offered hash, ARGV[2] the full lifetime. 0: none,
// -1: another, else consumed: the milliseconds it had left (the full lifetime if it had none).
const CONSUME = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if v ~= ARGV[1] then return -1 end
local left = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
if left < 1 then return tonumber(ARGV[2]) end
return left
`;

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

export class FirstRun {
  readonly #log: Logger;

  constructor(private readonly o: { redis: Redis; accounts: AccountService; logger: Logger; ttlMs?: number }) {
    this.#log = o.logger.child({ component: 'first-run' });
  }

  async needed(): Promise<boolean> {
    return !(await this.o.accounts.hasAdmin());
  }

  /** A fresh one-time token while no admin exists (replacing any earlier one), else undefined. */
  async issue(): Promise<{ token: string; expiresAt: Date } | undefined> {
    if (!(await this.needed())) {
      await this.o.redis.del(KEY);
      return undefined;
    }
    const token = randomBytes(24).toString('base64url');
    const ttl = this.o.ttlMs ?? DEFAULT_TTL_MS;
    await this.o.redis.set(KEY, digest(token), 'PX', ttl);
    this.#log.info({ expiresInMinutes: Math.round(ttl / 60_000) }, 'no admin account yet: setup link issued');
    return { token, expiresAt: new Date(Date.now() + ttl) };
  }

  /** Creates the first admin; the token works once, before it expires, while no admin exists. */
  async complete(token: string, who: { username: string; password: string; displayName?: string }) {
    if (!(await this.needed())) throw conflict('an admin account exists already: log in, or ask an admin');
    // Compared and consumed in one step: two submissions cannot both pass.
    const r = Number(await this.o.redis.eval(CONSUME, 1, KEY, digest(token), this.o.ttlMs ?? DEFAULT_TTL_MS));
    if (r === 0) {
      throw new AppError(
        'token_expired',
        'this setup link has expired or was used: start the server again for a new one',
      );
    }
    if (r === -1) throw new AppError('token_invalid', 'this is not the current setup link');
    let account;
    try {
      account = await this.o.accounts.create({ ...who, role: 'admin' });
    } catch (err) {
      // Refused (a username taken, say): the link stays good for another try, unless a newer
      // start has issued another one meanwhile.
      await this.o.redis.set(KEY, digest(token), 'PX', r, 'NX');
      throw err;
    }
    this.#log.info({ username: account.username }, 'first admin created through the setup link');
    return account;
  }

  /** /setup/<token> is a page (server/http/pages.ts); these are its API routes, public. */
  routes(): { router: Router; api: ApiBuilder } {
    const api = new ApiBuilder('/api/v1');
    api.route(
      {
        method: 'get',
        path: '/setup',
        summary: 'Whether the first admin account is still to be created',
        tag: 'setup',
        roles: 'public',
        success: { status: 200, description: 'the setup state', schema: SetupStatusSchema },
      },
      async () => ({ needed: await this.needed() }),
    );
    api.route(
      {
        method: 'post',
        path: '/setup',
        summary: 'Create the first admin with the one-time setup token printed at start',
        tag: 'setup',
        roles: 'public',
        body: SetupRequestSchema,
        success: { status: 201, description: 'the admin account exists', schema: SetupResultSchema },
        errors: [401, 409, 410],
      },
      async ({ body }) => {
        const { token, ...who } = body;
        const account = await this.complete(token, who);
        return { username: account.username, role: 'admin' as const };
      },
    );
    const router = Router();
    router.use('/api/v1', sameOriginOnly(), api.router);
    return { router, api };
  }
}
