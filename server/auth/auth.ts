// Logins: a random session id in Redis (with a TTL), sent to the browser in an httpOnly,
// SameSite=Strict cookie as `<sid>.<mac>` so a guessed or altered id is refused before
// Redis is asked. Failed logins slow down per username; express-rate-limit (with the
// Redis store below, so every process counts together) caps them per address.
//
// Keys:
//   auth:sess:<sid>           string  { userId, createdAt } JSON, expires after LOGIN_TTL_S idle
//   auth:user:<userId>        set     that user's session ids, to end them all at once
//   auth:fail:<username>      string  failed logins in the current window (expires)
//   auth:lock:<username>      string  present while the username must wait (PX = the wait)
//   ratelimit:<prefix>:<ip>   string  express-rate-limit hits per address (expires)
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Store, ClientRateLimitInfo } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Account, Role } from '../contract/api';
import { AppError, forbidden, unauthenticated } from '../errors';
import type { AccountService } from '../domain/accounts/accounts';

export const COOKIE_NAME = 'briefing_sid';
export const LOGIN_TTL_S = 12 * 3600;
/** Failures per username before it has to wait, and the longest wait. */
const FREE_FAILURES = 5;
const MAX_LOCK_MS = 5 * 60_000;
const FAIL_WINDOW_S = 15 * 60;

export const AUTH_KEYS = {
  session: (sid: string) => `auth:sess:${sid}`,
  userSessions: (userId: string) => `auth:user:${userId}`,
  fail: (name: string) => `auth:fail:${name}`,
  lock: (name: string) => `auth:lock:${name}`,
} as const;

export interface AuthUser {
  userId: string;
  username: string;
  displayName: string;
  role: Role;
}

export interface AuthOptions {
  redis: Redis;
  accounts: AccountService;
  appSecret: string;
  /** Secure cookies when the public URL is https. */
  secureCookies: boolean;
  logger: Logger;
}

/** Parses a Cookie header (RFC 6265): the first value of each name wins. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (name && !out.has(name)) {
      try {
        out.set(name, decodeURIComponent(value));
      } catch {
        out.set(name, value);
      }
    }
  }
  return out;
}

export class Auth {
  readonly #key: Buffer;
  readonly #log: Logger;

  constructor(private readonly o: AuthOptions) {
    this.#key = createHmac('sha256', o.appSecret).update('briefing/login-cookie/v1').digest();
    this.#log = o.logger.child({ component: 'auth' });
  }

  #mac(sid: string): string {
    return createHmac('sha256', this.#key).update(sid).digest().subarray(0, 16).toString('base64url');
  }

  #sidFromCookie(value: string | undefined): string | undefined {
    if (!value) return undefined;
    const m = /^([A-Za-z0-9_-]{32})\.([A-Za-z0-9_-]{22})$/.exec(value);
    if (!m) return undefined;
    const a = Buffer.from(m[2]!);
    const b = Buffer.from(this.#mac(m[1]!));
    return a.length === b.length && timingSafeEqual(a, b) ? m[1] : undefined;
  }

  /**
   * Who a cookie header belongs to, or undefined (no cookie, forged, expired, logged out,
   * account disabled). For the Socket.IO handshake: `authenticateCookie(socket.request.headers.cookie)`.
   */
  async authenticateCookie(cookieHeader: string | undefined): Promise<AuthUser | undefined> {
    const sid = this.#sidFromCookie(parseCookies(cookieHeader).get(COOKIE_NAME));
    if (!sid) return undefined;
    const raw = await this.o.redis.get(AUTH_KEYS.session(sid));
    if (!raw) return undefined;
    const { userId } = JSON.parse(raw) as { userId: string };
    const account = await this.o.accounts.get(userId);
    if (!account || account.disabled) return undefined;
    // Sliding expiry: an operator working all day stays logged in.
    void this.o.redis.expire(AUTH_KEYS.session(sid), LOGIN_TTL_S).catch(() => undefined);
    return { userId: account.id, username: account.username, displayName: account.displayName, role: account.role };
  }

  /** Checks the password (with the per-username slow-down) and opens a login session. */
  async login(username: string, password: string): Promise<{ cookie: string; account: Account }> {
    const name = username.trim().toLowerCase();
    const wait = await this.o.redis.pttl(AUTH_KEYS.lock(name));
    if (wait > 0) {
      throw new AppError('rate_limited', `too many failed logins for this username; wait ${Math.ceil(wait / 1000)} s`, {
        details: { retryAfterSeconds: Math.ceil(wait / 1000) },
      });
    }
    const account = await this.o.accounts.checkPassword(name, password);
    if (!account) {
      const [[, fails]] = (await this.o.redis
        .multi()
        .incr(AUTH_KEYS.fail(name))
        .expire(AUTH_KEYS.fail(name), FAIL_WINDOW_S)
        .exec()) as [[null, number], unknown];
      if (fails >= FREE_FAILURES) {
        const lockMs = Math.min(1000 * 2 ** (fails - FREE_FAILURES), MAX_LOCK_MS);
        await this.o.redis.set(AUTH_KEYS.lock(name), '1', 'PX', lockMs);
        this.#log.warn({ username: name, fails, lockMs }, 'repeated failed logins: slowing down');
      }
      throw unauthenticated('wrong username or password');
    }
    const sid = randomBytes(24).toString('base64url');
    await this.o.redis
      .multi()
      .set(AUTH_KEYS.session(sid), JSON.stringify({ userId: account.id, createdAt: new Date().toISOString() }))
      .expire(AUTH_KEYS.session(sid), LOGIN_TTL_S)
      .sadd(AUTH_KEYS.userSessions(account.id), sid)
      .expire(AUTH_KEYS.userSessions(account.id), LOGIN_TTL_S * 2)
      .del(AUTH_KEYS.fail(name), AUTH_KEYS.lock(name))
      .exec();
    this.#log.info({ username: account.username, role: account.role }, 'logged in');
    return { cookie: `${sid}.${this.#mac(sid)}`, account };
  }

  async logout(cookieHeader: string | undefined): Promise<void> {
    const sid = this.#sidFromCookie(parseCookies(cookieHeader).get(COOKIE_NAME));
    if (sid) await this.o.redis.del(AUTH_KEYS.session(sid));
  }

  /** Ends every login of a user (password or role changed, account disabled or deleted). */
  async endAllLogins(userId: string): Promise<void> {
    const sids = await this.o.redis.smembers(AUTH_KEYS.userSessions(userId));
    await this.o.redis.del(...sids.map(AUTH_KEYS.session), AUTH_KEYS.userSessions(userId));
  }

  setCookie(res: Response, value: string): void {
    res.cookie(COOKIE_NAME, value, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.o.secureCookies,
      path: '/',
      maxAge: LOGIN_TTL_S * 1000,
    });
  }

  clearCookie(res: Response): void {
    res.clearCookie(COOKIE_NAME, { httpOnly: true, sameSite: 'strict', secure: this.o.secureCookies, path: '/' });
  }

  /** Puts the logged-in user (or nothing) on res.locals.user for the routes after it. */
  attachUser(): RequestHandler {
    return async (req, res, next) => {
      try {
        res.locals.user = await this.authenticateCookie(req.headers.cookie);
        next();
      } catch (err) {
        next(err);
      }
    };
  }
}

export function currentUser(res: Response): AuthUser | undefined {
  return res.locals.user as AuthUser | undefined;
}

/** 401 without a login, 403 when the role is not one of `roles`. */
export function requireRole(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    const user = currentUser(res);
    if (!user) return next(unauthenticated());
    if (!roles.includes(user.role)) return next(forbidden(`this needs the role ${roles.join(' or ')}`));
    next();
  };
}

/**
 * Cookies are SameSite=Strict already; this refuses state-changing requests that a
 * browser marks as coming from another site, as a second line.
 */
export function sameOriginOnly(): RequestHandler {
  return (req: Request, _res, next) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return next();
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site') return next(forbidden('cross-site request refused'));
    const origin = req.headers.origin;
    if (origin && origin !== 'null') {
      try {
        if (new URL(origin).host !== req.headers.host) return next(forbidden('cross-origin request refused'));
      } catch {
        return next(forbidden('bad Origin header'));
      }
    }
    next();
  };
}

/** express-rate-limit counters in Redis, shared by every server process. */
export class RedisRateLimitStore implements Store {
  localKeys = false;
  #windowMs = 60_000;

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
  ) {}

  init(options: { windowMs: number }): void {
    this.#windowMs = options.windowMs;
  }

  #key(key: string) {
    return `ratelimit:${this.prefix}:${key}`;
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const [[, hits], [, ttl]] = (await this.redis.multi().get(this.#key(key)).pttl(this.#key(key)).exec()) as [
      [null, string | null],
      [null, number],
    ];
    if (hits === null) return undefined;
    return { totalHits: Number(hits), resetTime: new Date(Date.now() + Math.max(ttl, 0)) };
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const k = this.#key(key);
    const [[, hits], , [, ttl]] = (await this.redis
      .multi()
      .incr(k)
      .pexpire(k, this.#windowMs, 'NX')
      .pttl(k)
      .exec()) as [[null, number], unknown, [null, number]];
    return { totalHits: hits, resetTime: new Date(Date.now() + Math.max(ttl, 0)) };
  }

  async decrement(key: string): Promise<void> {
    await this.redis.decr(this.#key(key));
  }

  async resetKey(key: string): Promise<void> {
    await this.redis.del(this.#key(key));
  }
}
