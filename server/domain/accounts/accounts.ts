// Operator accounts (admin, host, technician), with argon2id password hashes.
//
// Keys:
//   accounts:byId     hash   account id → AccountRecord JSON (with the password hash)
//   accounts:byName   hash   lower-case username → account id (unique names, set atomically)
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Account, AccountCreate, AccountUpdate, Page, Role } from '../../contract/api';
import { conflict, notFound, why } from '../../errors';

export const ACCOUNT_KEYS = { byId: 'accounts:byId', byName: 'accounts:byName' } as const;

interface AccountRecord extends Account {
  passwordHash: string;
}

// OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane). @node-rs/argon2 defaults to argon2id.
const HASH_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

// KEYS[1] byName, KEYS[2] byId; ARGV[1] name, ARGV[2] id, ARGV[3] JSON.
const CREATE = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
`;

const publicView = ({ passwordHash: _p, ...a }: AccountRecord): Account => a;

export class AccountService {
  #log: Logger;
  /** A hash to verify against when the username is unknown, so timing does not tell. */
  #decoy: Promise<string>;

  constructor(
    private readonly redis: Redis,
    logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.#log = logger.child({ component: 'accounts' });
    this.#decoy = hash(randomBytes(16), HASH_OPTIONS);
  }

  async #all(): Promise<AccountRecord[]> {
    const raw = await this.redis.hvals(ACCOUNT_KEYS.byId);
    return raw.map((j) => JSON.parse(j) as AccountRecord).sort((a, b) => a.username.localeCompare(b.username));
  }

  async #record(id: string): Promise<AccountRecord | undefined> {
    const j = await this.redis.hget(ACCOUNT_KEYS.byId, id);
    return j ? (JSON.parse(j) as AccountRecord) : undefined;
  }

  async list(q: { limit: number; offset: number }): Promise<Page<Account>> {
    const all = await this.#all();
    return {
      items: all.slice(q.offset, q.offset + q.limit).map(publicView),
      total: all.length,
      limit: q.limit,
      offset: q.offset,
    };
  }

  async get(id: string): Promise<Account | undefined> {
    const r = await this.#record(id);
    return r ? publicView(r) : undefined;
  }

  async count(): Promise<number> {
    return this.redis.hlen(ACCOUNT_KEYS.byId);
  }

  async create(input: AccountCreate): Promise<Account> {
    const at = this.now().toISOString();
    const rec: AccountRecord = {
      id: randomBytes(9).toString('base64url'),
      username: input.username,
      displayName: input.displayName ?? input.username,
      role: input.role,
      disabled: false,
      createdAt: at,
      updatedAt: at,
      passwordHash: await hash(input.password, HASH_OPTIONS),
    };
    const ok = await this.redis.eval(
      CREATE,
      2,
      ACCOUNT_KEYS.byName,
      ACCOUNT_KEYS.byId,
      input.username.toLowerCase(),
      rec.id,
      JSON.stringify(rec),
    );
    if (ok !== 1) {
      throw conflict(
        `the username ${input.username} is taken`,
        undefined,
        why('username_taken', { username: input.username }),
      );
    }
    this.#log.info({ username: rec.username, role: rec.role }, 'account created');
    return publicView(rec);
  }

  /** Returns the account and whether its existing logins must end (password, role or status changed). */
  async update(id: string, patch: AccountUpdate): Promise<{ account: Account; revokeLogins: boolean }> {
    const cur = await this.#record(id);
    if (!cur) throw notFound('account');
    const demotes = (patch.role !== undefined && patch.role !== 'admin') || patch.disabled === true;
    if (cur.role === 'admin' && !cur.disabled && demotes) await this.#keepOneAdmin(id);
    const next: AccountRecord = {
      ...cur,
      displayName: patch.displayName ?? cur.displayName,
      role: patch.role ?? cur.role,
      disabled: patch.disabled ?? cur.disabled,
      updatedAt: this.now().toISOString(),
      passwordHash: patch.password ? await hash(patch.password, HASH_OPTIONS) : cur.passwordHash,
    };
    await this.redis.hset(ACCOUNT_KEYS.byId, id, JSON.stringify(next));
    const revokeLogins = patch.password !== undefined || next.role !== cur.role || (next.disabled && !cur.disabled);
    this.#log.info({ username: cur.username, fields: Object.keys(patch) }, 'account updated');
    return { account: publicView(next), revokeLogins };
  }

  async remove(id: string): Promise<void> {
    const cur = await this.#record(id);
    if (!cur) throw notFound('account');
    if (cur.role === 'admin' && !cur.disabled) await this.#keepOneAdmin(id);
    await this.redis.multi().hdel(ACCOUNT_KEYS.byId, id).hdel(ACCOUNT_KEYS.byName, cur.username.toLowerCase()).exec();
    this.#log.info({ username: cur.username }, 'account deleted');
  }

  async #keepOneAdmin(exceptId: string): Promise<void> {
    const others = (await this.#all()).filter((a) => a.role === 'admin' && !a.disabled && a.id !== exceptId);
    if (others.length === 0) {
      throw conflict('this is the last active admin account; create another admin first', undefined, why('last_admin'));
    }
  }

  /** The account if the password is right and the account is enabled; undefined otherwise. */
  async checkPassword(username: string, password: string): Promise<Account | undefined> {
    const id = await this.redis.hget(ACCOUNT_KEYS.byName, username.trim().toLowerCase());
    const rec = id ? await this.#record(id) : undefined;
    const ok = await verify(rec?.passwordHash ?? (await this.#decoy), password).catch(() => false);
    if (!rec || !ok || rec.disabled) return undefined;
    return publicView(rec);
  }

  /** Whether an enabled admin account exists (the first-run setup is over). */
  async hasAdmin(): Promise<boolean> {
    return (await this.#all()).some((a) => a.role === 'admin' && !a.disabled);
  }

  /** The first admin from ADMIN_USERNAME / ADMIN_PASSWORD, only while no admin exists. */
  async ensureInitialAdmin(initial: { username: string; password: string } | undefined): Promise<boolean> {
    if (!initial) return false;
    const admins = (await this.#all()).filter((a) => a.role === 'admin');
    if (admins.length > 0) return false;
    try {
      await this.create({ username: initial.username, password: initial.password, role: 'admin' as Role });
    } catch (err) {
      // Another process created it at the same moment.
      if ((err as { code?: string }).code === 'conflict') return false;
      throw err;
    }
    this.#log.info({ username: initial.username }, 'first admin account created from ADMIN_USERNAME');
    return true;
  }
}
