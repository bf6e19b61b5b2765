// Binds a contract request map to handlers on one socket: each payload is parsed with
// the contract's zod schema (handlers see only parsed values), each answer goes through
// the ack, and only known error codes reach the client. A per-socket token bucket
// limits floods; a socket that keeps flooding is disconnected.
import type { Socket } from 'socket.io';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { issuesOf, type Ack, type Issue } from '../contract/errors';
import type { RequestMap } from '../contract/socket';
import { AppError, toAppError } from '../errors';

export type Handlers<M extends RequestMap, Ctx> = {
  [K in keyof M]: (
    input: z.output<M[K]['input']>,
    ctx: Ctx,
  ) => Promise<z.input<M[K]['output']>> | z.input<M[K]['output']>;
};

export interface RateLimit {
  /** Sustained requests per second. */
  perSecond: number;
  /** Burst size. */
  burst: number;
  /**
   * Refusals, net of accepted requests since, after which the socket is disconnected. Not
   * "in a row": a client flooding at 1,000/s still gets a request through at each refill,
   * which must not wipe its record.
   */
  disconnectAfter: number;
}

export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 20, burst: 60, disconnectAfter: 200 };

class TokenBucket {
  #tokens: number;
  #last = Date.now();
  /** +1 per refusal, -1 per accepted request, never below 0. */
  strikes = 0;
  constructor(private readonly limit: RateLimit) {
    this.#tokens = limit.burst;
  }
  take(): boolean {
    const now = Date.now();
    this.#tokens = Math.min(this.limit.burst, this.#tokens + ((now - this.#last) / 1000) * this.limit.perSecond);
    this.#last = now;
    if (this.#tokens < 1) {
      this.strikes += 1;
      return false;
    }
    this.#tokens -= 1;
    this.strikes = Math.max(0, this.strikes - 1);
    return true;
  }
}

/**
 * Handlers that exist once `ready` resolves, bound at once: a request that arrives
 * earlier waits for them instead of being dropped.
 */
export function deferHandlers<M extends RequestMap, Ctx>(map: M, ready: Promise<Handlers<M, Ctx>>): Handlers<M, Ctx> {
  const out = {} as Handlers<M, Ctx>;
  for (const name of Object.keys(map) as (keyof M)[]) {
    out[name] = (async (input: never, ctx: Ctx) => (await ready)[name](input, ctx)) as Handlers<M, Ctx>[keyof M];
  }
  return out;
}

/** Details that are a list of input problems (AppError `details` of a bad request). */
const isIssueList = (d: unknown): d is Issue[] =>
  Array.isArray(d) && d.every((i) => typeof i === 'object' && i !== null && 'path' in i && 'issue' in i);

export function errorAck(err: AppError): Ack<never> {
  return {
    ok: false,
    error: {
      code: err.code,
      message: err.message,
      ...(err.reason ? { reason: err.reason } : {}),
      ...(err.params ? { params: err.params } : {}),
      ...(isIssueList(err.details) ? { issues: err.details } : {}),
    },
  };
}

export function bindRequests<M extends RequestMap, Ctx>(
  socket: Socket,
  map: M,
  handlers: Handlers<M, Ctx>,
  ctx: Ctx,
  logger: Logger,
  limit: RateLimit = DEFAULT_RATE_LIMIT,
): void {
  const bucket = new TokenBucket(limit);
  for (const name of Object.keys(map) as (keyof M & string)[]) {
    const spec = map[name]!;
    const handler = handlers[name];
    const listener = async (...args: unknown[]): Promise<void> => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (res: Ack<unknown>) => void) : undefined;
      const reply = (res: Ack<unknown>) => {
        if (ack) ack(res);
      };
      if (!bucket.take()) {
        reply(errorAck(new AppError('rate_limited', 'too many requests; slow down')));
        if (bucket.strikes >= limit.disconnectAfter) {
          logger.warn({ event: name }, 'socket flooding; disconnecting');
          socket.disconnect(true);
        }
        return;
      }
      const parsed = spec.input.safeParse(args[0]);
      if (!parsed.success) {
        reply({
          ok: false,
          error: {
            code: 'bad_request',
            message: parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; '),
            issues: issuesOf(parsed.error.issues),
          },
        });
        return;
      }
      try {
        const data = await handler(parsed.data as z.output<M[typeof name]['input']>, ctx);
        reply({ ok: true, data: spec.output.parse(data) });
      } catch (raw) {
        const err = toAppError(raw);
        if (err.status >= 500 && err.code !== 'unavailable')
          logger.error({ err: raw, event: name }, 'socket request failed');
        reply(errorAck(err));
      }
    };
    (socket as unknown as { on: (event: string, fn: (...args: unknown[]) => void) => void }).on(name, listener);
  }
}
