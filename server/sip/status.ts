// AppError to SIP status: the one place a refusal becomes what a room system hears, with a
// Warning header (RFC 3261 20.43) carrying the reason in words its display or log shows.
import type { AppError } from '../errors';
import type { SipRequest } from './message';

const REASONS: Record<number, string> = {
  100: 'Trying',
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  415: 'Unsupported Media Type',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  482: 'Loop Detected',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Unknown';
}

/** The status an error is answered with: its own `details.sipStatus`, else by its code. */
export function sipStatusOf(err: AppError): number {
  const given = (err.details as { sipStatus?: unknown } | undefined)?.sipStatus;
  if (typeof given === 'number' && REASONS[given]) return given;
  switch (err.code) {
    case 'bad_request':
      return 400;
    case 'unauthenticated':
      return 401;
    case 'forbidden':
    case 'token_invalid':
    case 'token_revoked':
    case 'token_expired':
      return 403;
    case 'not_found':
      return 404;
    case 'not_open':
      return 480;
    case 'limit_exceeded':
      return 486;
    case 'rate_limited':
    case 'unavailable':
      return 503;
    default:
      return 500;
  }
}

/** `Warning: <code> briefing "<text>"`: 305 for an offer refused, 399 for anything else. */
export function warningOf(err: AppError): [string, string] {
  const code = (err.details as { warning?: unknown } | undefined)?.warning === 305 ? 305 : 399;
  // Internal errors say nothing of their cause.
  const text = err.code === 'internal' ? 'internal error' : err.message;
  return ['Warning', `${code} briefing "${text.replace(/[^ -~]|["\\]/g, '').slice(0, 160)}"`];
}

/**
 * Enough of a request the parser refused to answer it with 400: its start line and the five
 * headers a response copies, each found once. Undefined when even that is missing (then
 * nothing is answered: a reply would go to an address the sender may have forged anyway).
 */
export function bestEffortRequest(data: Buffer): SipRequest | undefined {
  if (data.length > 8192) return undefined;
  const text = data.toString('latin1');
  const start = /^([A-Z]{2,16}) (\S{1,512}) SIP\/2\.0\r\n/.exec(text);
  if (!start) return undefined;
  const headers = new Map<string, string[]>();
  const names: [string, RegExp][] = [
    ['via', /^(?:via|v)[ \t]*:[ \t]*(SIP\/2\.0\/UDP [^\r\n]{1,400})$/gim],
    ['from', /^(?:from|f)[ \t]*:[ \t]*([^\r\n]{1,400})$/gim],
    ['to', /^(?:to|t)[ \t]*:[ \t]*([^\r\n]{1,400})$/gim],
    ['call-id', /^(?:call-id|i)[ \t]*:[ \t]*([!-~]{1,256})[ \t]*$/gim],
    ['cseq', /^cseq[ \t]*:[ \t]*(\d{1,10} [A-Z]{2,16})[ \t]*$/gim],
  ];
  for (const [name, re] of names) {
    const found = [...text.matchAll(re)];
    if (found.length !== 1) return undefined;
    // Only printable ASCII is echoed back.
    const value = found[0]![1]!.trim();
    if (!/^[ -~]+$/.test(value)) return undefined;
    headers.set(name, [value]);
  }
  return { kind: 'request', method: start[1]!, uri: start[2]!, headers, body: '' };
}
