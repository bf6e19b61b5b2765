// The shape every Socket.IO request follows, on both sides. A request event is declared
// once, with its input and output schemas; the server validates the input and answers
// through the ack with `{ ok: true, data } | { ok: false, error: { code, message } }`.
import type { z } from 'zod';
import type { Ack } from './errors';

export interface RequestSpec<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  input: I;
  output: O;
}

export type RequestMap = Record<string, RequestSpec>;

export type RequestInput<M extends RequestMap, K extends keyof M> = z.input<M[K]['input']>;
export type RequestOutput<M extends RequestMap, K extends keyof M> = z.output<M[K]['output']>;

/** Socket.IO's ClientToServerEvents for a request map. */
export type RequestEvents<M extends RequestMap> = {
  [K in keyof M]: (payload: RequestInput<M, K>, ack: (res: Ack<RequestOutput<M, K>>) => void) => void;
};

/** Socket.IO's ServerToClientEvents for a map of push schemas. */
export type PushEvents<P extends Record<string, z.ZodType>> = {
  [K in keyof P]: (payload: z.output<P[K]>) => void;
};

export function defineRequests<M extends RequestMap>(m: M): M {
  return m;
}
