// Login, logout, who am I; and the admin's accounts.
import { rateLimit } from 'express-rate-limit';
import {
  AccountCreateSchema,
  AccountSchema,
  AccountUpdateSchema,
  IdParamSchema,
  LoginSchema,
  MeSchema,
  PageQuerySchema,
  pageOf,
} from '../../contract/api';
import { RedisRateLimitStore } from '../../auth/auth';
import type { ControlPlane } from '../../assembly/control-plane';
import { AppError, conflict, notFound, why } from '../../errors';
import { clientAddress, trustOf } from '../../security/client-address';
import type { ApiBuilder } from './route';

/** Failed logins per address per window, across every server process. */
export const LOGIN_LIMIT = { windowMs: 10 * 60_000, limit: 30 };

/** Logging in and out, and who is logged in. */
export function registerAuthRoutes(api: ApiBuilder, control: ControlPlane): void {
  const limiter = rateLimit({
    windowMs: LOGIN_LIMIT.windowMs,
    limit: LOGIN_LIMIT.limit,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store: new RedisRateLimitStore(control.redis, 'login'),
    // Fail open if Redis is down: the login itself then answers 503 anyway.
    passOnStoreError: true,
    handler: (_req, _res, next, options) =>
      next(
        new AppError('rate_limited', 'too many login attempts from this address; try again later', {
          details: { retryAfterSeconds: Math.ceil(options.windowMs / 1000) },
        }),
      ),
  });

  api.route(
    {
      method: 'post',
      path: '/auth/login',
      summary: 'Log in; sets the httpOnly session cookie',
      tag: 'auth',
      roles: 'public',
      body: LoginSchema,
      parsers: [limiter, ...api.defaultParsers()],
      success: { status: 200, description: 'logged in', schema: MeSchema },
      errors: [401, 429],
    },
    async ({ body, req, res }) => {
      const address = clientAddress(req, trustOf(req.app));
      const { cookie, account } = await control.auth.login(body.username, body.password, address);
      control.auth.setCookie(res, cookie);
      return {
        user: { id: account.id, username: account.username, displayName: account.displayName, role: account.role },
      };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/auth/logout',
      summary: 'Log out; ends the login session and clears the cookie',
      tag: 'auth',
      roles: 'public',
      success: { status: 204, description: 'logged out' },
    },
    async ({ req, res }) => {
      await control.auth.logout(req.headers.cookie);
      control.auth.clearCookie(res);
    },
  );

  api.route(
    {
      method: 'get',
      path: '/auth/me',
      summary: 'The logged-in user, or null',
      tag: 'auth',
      roles: 'public',
      success: { status: 200, description: 'the user or null', schema: MeSchema },
    },
    ({ user, res }) => {
      res.set('Cache-Control', 'no-store');
      return {
        user: user
          ? { id: user.userId, username: user.username, displayName: user.displayName, role: user.role }
          : null,
      };
    },
  );
}

/** The accounts, for admins. */
export function registerAccountRoutes(api: ApiBuilder, control: ControlPlane): void {
  const admin = ['admin'] as const;
  api.route(
    {
      method: 'get',
      path: '/accounts',
      summary: 'List accounts',
      tag: 'accounts',
      roles: [...admin],
      query: PageQuerySchema,
      success: {
        status: 200,
        description: 'a page of accounts',
        schema: pageOf(AccountSchema).meta({ id: 'AccountPage' }),
      },
    },
    ({ query }) => control.accounts.list(query),
  );
  api.route(
    {
      method: 'post',
      path: '/accounts',
      summary: 'Create an account',
      tag: 'accounts',
      roles: [...admin],
      body: AccountCreateSchema,
      success: { status: 201, description: 'created', schema: AccountSchema },
      errors: [409],
    },
    ({ body }) => control.accounts.create(body),
  );
  api.route(
    {
      method: 'get',
      path: '/accounts/:id',
      summary: 'One account',
      tag: 'accounts',
      roles: [...admin],
      params: IdParamSchema,
      success: { status: 200, description: 'the account', schema: AccountSchema },
      errors: [404],
    },
    async ({ params }) => {
      const a = await control.accounts.get(params.id);
      if (!a) throw notFound('account');
      return a;
    },
  );
  api.route(
    {
      method: 'patch',
      path: '/accounts/:id',
      summary: 'Change role, name, password or disable; a password, role or status change ends its logins',
      tag: 'accounts',
      roles: [...admin],
      params: IdParamSchema,
      body: AccountUpdateSchema,
      success: { status: 200, description: 'updated', schema: AccountSchema },
      errors: [404, 409],
    },
    async ({ params, body }) => {
      const { account, revokeLogins } = await control.accounts.update(params.id, body);
      if (revokeLogins) await control.auth.endAllLogins(account.id);
      return account;
    },
  );
  api.route(
    {
      method: 'delete',
      path: '/accounts/:id',
      summary: 'Delete an account (not the last admin, not yourself)',
      tag: 'accounts',
      roles: [...admin],
      params: IdParamSchema,
      success: { status: 204, description: 'deleted' },
      errors: [404, 409],
    },
    async ({ params, user }) => {
      if (user?.userId === params.id)
        throw conflict('you cannot delete your own account', undefined, why('own_account'));
      await control.accounts.remove(params.id);
      await control.auth.endAllLogins(params.id);
    },
  );
}
