// Failed logins slow down per username *and* client address together: someone guessing
// the admin's password from one address waits longer and longer, while the admin, from
// an address that has not failed, logs in at once. (Keyed on the username alone, nine
// paced wrong passwords from anywhere locked the real admin out for good.) Guessing
// across many usernames from one address is capped separately, per address
// (LOGIN_LIMIT in http/api/auth-routes.ts). Every lock is logged with the address.
//
// Keys (both expire; <net> is the address, or its /56 for IPv6 as express-rate-limit
// counts it, since one IPv6 client may hold a whole network):
//   auth:fail:<net>|<username>   failed logins in the current window
//   auth:lock:<net>|<username>   present while that pair must wait (PX = the wait)
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AppError } from '../errors';
import { addressKey } from '../security/client-address';

/** Failures of one username from one address before it has to wait, and the longest wait. */
export const FREE_FAILURES = 5;
const MAX_LOCK_MS = 5 * 60_000;
const FAIL_WINDOW_S = 15 * 60;

export const THROTTLE_KEYS = {
  fail: (address: string, username: string) => `auth:fail:${address}|${username}`,
  lock: (address: string, username: string) => `auth:lock:${address}|${username}`,
} as const;

export class LoginThrottle {
  readonly #log: Logger;

  constructor(
    private readonly redis: Redis,
    logger: Logger,
  ) {
    this.#log = logger.child({ component: 'login-throttle' });
  }

  /** Throws rate_limited while this username must wait at this address. */
  async check(username: string, address: string): Promise<void> {
    const wait = await this.redis.pttl(THROTTLE_KEYS.lock(addressKey(address), username));
    if (wait > 0) {
      const s = Math.ceil(wait / 1000);
      throw new AppError('rate_limited', `too many failed logins for this username from this address; wait ${s} s`, {
        details: { retryAfterSeconds: s },
      });
    }
  }

  async failed(username: string, address: string): Promise<void> {
    const net = addressKey(address);
    const failKey = THROTTLE_KEYS.fail(net, username);
    const [[, fails]] = (await this.redis.multi().incr(failKey).expire(failKey, FAIL_WINDOW_S).exec()) as [
      [null, number],
      unknown,
    ];
    if (fails < FREE_FAILURES) return;
    const lockMs = Math.min(1000 * 2 ** (fails - FREE_FAILURES), MAX_LOCK_MS);
    await this.redis.set(THROTTLE_KEYS.lock(net, username), '1', 'PX', lockMs);
    this.#log.warn(
      { username, address, network: net, fails, lockMs },
      'repeated failed logins: this username waits at this address',
    );
  }

  async succeeded(username: string, address: string): Promise<void> {
    const net = addressKey(address);
    await this.redis.del(THROTTLE_KEYS.fail(net, username), THROTTLE_KEYS.lock(net, username));
  }
}
