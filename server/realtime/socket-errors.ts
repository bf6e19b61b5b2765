// Refusing a Socket.IO handshake with a coded error the page can explain
// (`connect_error` → err.data.code).
import { toAppError } from '../errors';

export function handshakeError(raw: unknown): Error & { data: { code: string; details?: unknown } } {
  const err = toAppError(raw);
  return Object.assign(new Error(err.message), {
    data: {
      code: err.code,
      ...(err.reason ? { reason: err.reason } : {}),
      ...(err.details !== undefined ? { details: err.details } : {}),
    },
  });
}
