// Logins: a random session id in Redis (with a TTL), sent to the browser in an httpOnly,
// SameSite=Strict cookie as `<sid>.<mac>` so a guessed or altered id is refused before
// Redis is asked. Failed logins slow down per username and client address together
// (login-throttle.ts); express-rate-limit (with the Redis store below, so every process
// counts together) caps them per address. Ending logins (logout, a password, role or
// status change) is announced (`onLoginsEnded`) so that open sockets close too
// (server/security/login-sockets.ts).
//
// Keys:
//   auth:sess:<sid>           string  { userId, createdAt } JSON, expires LOGIN_TTL_S after the
//                                     login, as the browser's cookie does (never renewed by use)
//   auth:user:<userId>        set     that user's session ids, to end them all at once
//   auth:fail:…, auth:lock:…  the throttle's (login-throttle.ts)
//   ratelimit:<prefix>:<ip>   string  express-rate-limit hits per address (expires)
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Store, ClientRateLimitInfo } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Account, Role } from '../contract/api';
import { forbidden, unauthenticated } from '../errors';
import type { AccountService } from '../domain/accounts/accounts';
import { LoginThrottle } from './login-throttle';

export const COOKIE_NAME = 'briefing_sid';
export const LOGIN_TTL_S = 12 * 3600;

export const AUTH_KEYS = {
  session: (sid: string) => `auth:sess:${sid}`,
  userSessions: (userId: string) => `auth:user:${userId}`,
} as const;

export interface AuthUser {
  userId: string;
  /** Names one login (one cookie) without revealing it: a digest of its session id. */
  loginId: string;
  username: string;
  displayName: string;
  role: Role;
}

/** Logins that just ended: every one of a user, or one. */
export type LoginsEnded = { userId: string } | { loginId: string };

export interface AuthOptions {
  redis: Redis;
  accounts: AccountService;
  /** The login cookie's key (server/security/keys.ts, purpose `login-cookie`). */
  cookieKey: Buffer;
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

const loginIdOf = (sid: string) => createHash('sha256').update(sid).digest().subarray(0, 12).toString('base64url');

export class Auth {
  readonly #key: Buffer;
  readonly #log: Logger;
  readonly #throttle: LoginThrottle;
  readonly #endedListeners = new Set<(e: LoginsEnded) => void>();

  constructor(private readonly o: AuthOptions) {
    this.#key = o.cookieKey;
    this.#log = o.logger.child({ component: 'auth' });
    this.#throttle = new LoginThrottle(o.redis, o.logger);
  }

  /** Told after logins end (logout, endAllLogins); returns the unsubscribe. */
  onLoginsEnded(fn: (e: LoginsEnded) => void): () => void {
    this.#endedListeners.add(fn);
    return () => this.#endedListeners.delete(fn);
  }

  #ended(e: LoginsEnded): void {
    for (const fn of this.#endedListeners) {
      try {
        fn(e);
      } catch (err) {
        this.#log.error({ err }, 'a logins-ended listener failed');
      }
    }
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
    const { userId, createdAt } = JSON.parse(raw) as { userId: string; createdAt: string };
    // A login lasts LOGIN_TTL_S from when it was made, used or not: the key expires then (set
    // at login, never renewed), and a session older than that is refused even if its key
    // lives on, so a client that keeps the cookie past its maxAge gains nothing.
    if (!(Date.now() - Date.parse(createdAt) < LOGIN_TTL_S * 1000)) return undefined;
    const account = await this.o.accounts.get(userId);
    if (!account || account.disabled) return undefined;
    return {
      userId: account.id,
      loginId: loginIdOf(sid),
      username: account.username,
      displayName: account.displayName,
      role: account.role,
    };
  }

  /**
   * Checks the password and opens a login session. Failures slow down this username at
   * this client address (`address`: server/security/client-address.ts), nowhere else.
   */
  async login(username: string, password: string, address: string): Promise<{ cookie: string; account: Account }> {
    const name = username.trim().toLowerCase();
    await this.#throttle.check(name, address);
    const account = await this.o.accounts.checkPassword(name, password);
    if (!account) {
      await this.#throttle.failed(name, address);
      throw unauthenticated('wrong username or password');
    }
    const sid = randomBytes(24).toString('base64url');
    await this.o.redis
      .multi()
      .set(AUTH_KEYS.session(sid), JSON.stringify({ userId: account.id, createdAt: new Date().toISOString() }))
      .expire(AUTH_KEYS.session(sid), LOGIN_TTL_S)
      .sadd(AUTH_KEYS.userSessions(account.id), sid)
      .expire(AUTH_KEYS.userSessions(account.id), LOGIN_TTL_S * 2)
      .exec();
    await this.#throttle.succeeded(name, address);
    this.#log.info({ username: account.username, role: account.role, address }, 'logged in');
    return { cookie: `${sid}.${this.#mac(sid)}`, account };
  }

  async logout(cookieHeader: string | undefined): Promise<void> {
    const sid = this.#sidFromCookie(parseCookies(cookieHeader).get(COOKIE_NAME));
    if (!sid) return;
    await this.o.redis.del(AUTH_KEYS.session(sid));
    this.#ended({ loginId: loginIdOf(sid) });
  }

  /** Ends every login of a user (password or role changed, account disabled or deleted). */
  async endAllLogins(userId: string): Promise<void> {
    const sids = await this.o.redis.smembers(AUTH_KEYS.userSessions(userId));
    await this.o.redis.del(...sids.map(AUTH_KEYS.session), AUTH_KEYS.userSessions(userId));
    this.#ended({ userId });
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
