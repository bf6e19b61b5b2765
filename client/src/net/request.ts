// Client side of the contract's request/ack pattern: resolves with `data` or throws a
// RequestError carrying the server's code. Times out rather than hanging when the
// socket is down.
import type { Socket } from 'socket.io-client';
import type { ErrorCode } from '../../../server/contract/errors';
import type { RequestInput, RequestMap, RequestOutput } from '../../../server/contract/socket';

export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode | 'timeout' | 'disconnected',
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export function requester<M extends RequestMap>(socket: Socket, timeoutMs = 10_000) {
  return async function request<K extends keyof M & string>(
    event: K,
    payload: RequestInput<M, K>,
  ): Promise<RequestOutput<M, K>> {
    if (!socket.connected) throw new RequestError('disconnected', 'not connected');
    let res: { ok: boolean; data?: unknown; error?: { code: ErrorCode; message: string } };
    try {
      res = await socket.timeout(timeoutMs).emitWithAck(event, payload);
    } catch {
      throw new RequestError('timeout', `no answer to ${event} within ${timeoutMs} ms`);
    }
    if (!res.ok) throw new RequestError(res.error!.code, res.error!.message);
    return res.data as RequestOutput<M, K>;
  };
}
