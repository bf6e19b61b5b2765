// Client side of the contract's request/ack pattern: resolves with `data` or throws a
// RequestError carrying the server's code. Times out rather than hanging when the
// socket is down. The events, their payloads and answers come from the socket's type
// (`Socket<ServerEvents, ClientEvents>` of server/contract/namespaces.ts).
import type { Socket } from 'socket.io-client';
import type { Ack, ErrorCode, ErrorParams, ErrorReason, Issue } from '../../../server/contract/errors';
import type { RequestEvents, RequestMap } from '../../../server/contract/socket';

export class RequestError extends Error {
  constructor(
    readonly code: ErrorCode | 'timeout' | 'disconnected' | 'chunk_unavailable',
    message: string,
    /** What the pages say (../ui/errors.ts renders them). */
    readonly reason?: ErrorReason,
    readonly params?: ErrorParams,
    readonly issues?: Issue[],
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** Any socket.io event map: the pushes a socket listens to do not matter here. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyEvents = Record<string, (...args: any[]) => void>;

/** A socket that may send the requests of `M` (its namespace's client events include them). */
export type RequestSocket<M extends RequestMap> = Socket<AnyEvents, RequestEvents<M>>;

/** A request event's payload and the `data` of its answer, read from the event's signature. */
export type PayloadOf<F> = F extends (payload: infer P, ack: never) => void ? P : never;
export type AnswerOf<F> = F extends (payload: never, ack: (res: Ack<infer D>) => void) => void ? D : never;

export type Request<C extends AnyEvents> = <K extends keyof C & string>(
  event: K,
  payload: PayloadOf<C[K]>,
) => Promise<AnswerOf<C[K]>>;

export function requester<C extends AnyEvents>(socket: Socket<AnyEvents, C>, timeoutMs = 10_000): Request<C> {
  return async (event, payload) => {
    if (!socket.connected) throw new RequestError('disconnected', 'not connected');
    let res: Ack<unknown>;
    // The event is generic here (its payload and answer were checked at the call): sent
    // through the socket's untyped face.
    const untyped: Socket = socket;
    try {
      res = (await untyped.timeout(timeoutMs).emitWithAck(event, payload)) as Ack<unknown>;
    } catch {
      throw new RequestError('timeout', `no answer to ${event} within ${timeoutMs} ms`);
    }
    if (!res.ok) {
      const e = res.error;
      throw new RequestError(e.code, e.message, e.reason, e.params, e.issues);
    }
    return res.data as never;
  };
}
