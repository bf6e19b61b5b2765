// The one error type sfu/ throws at its callers. Codes match the control plane's error
// codes (server/contract/errors.ts) so the signalling layer maps them one to one, but sfu/
// does not import them: it must stand alone.
export type SfuErrorCode =
  | 'bad_request'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  /** A peer asked for more transports or consumers than its caps allow (limits.ts). */
  | 'limit_exceeded'
  | 'unavailable'
  /**
   * The mediasoup worker binary is not the one built for this mediasoup (sfu/worker-binary.ts):
   * a deployment fault, refused at start-up; never a client's concern.
   */
  | 'worker_mismatch';

export class SfuError extends Error {
  readonly code: SfuErrorCode;

  constructor(code: SfuErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'SfuError';
    this.code = code;
  }
}

export const isSfuError = (err: unknown): err is SfuError => err instanceof SfuError;
