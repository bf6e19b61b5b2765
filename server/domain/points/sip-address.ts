// A point's room system's SIP address, as the registry keeps it and the monitor types it:
// read strictly, and written back in one form. Only `sip:user@host[:port]`: no other scheme
// (sips:, tel:, h323:), no URI parameters or headers (`;transport=tcp`, `?subject=`), host
// an IPv4 address or a DNS name (the gateway speaks UDP over IPv4), port 1024-65535 (5060
// when none is given). Where a call to it may go is server/sip/dial-target.ts's to say.
import net from 'node:net';
import { AppError, why } from '../../errors';

export const DEFAULT_SIP_PORT = 5060;
const MAX_URI = 256;
/** RFC 3261 25.1 user: unreserved, escaped and user-unreserved characters, but not ; or ? (parameters, headers). */
const USER = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,/]|%[0-9A-Fa-f]{2}){1,64}$/;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface SipTarget {
  /** The address, written back in one form: `sip:user@host[:port]` with the host in lower case. */
  uri: string;
  user: string;
  host: string;
  port: number;
  /** The host is an IPv4 address (else a DNS name). */
  hostIsIp: boolean;
}

export const invalid = (detail: string) =>
  new AppError('bad_request', `not a SIP address the server can call: ${detail}`, {
    ...why('sip_address_invalid', { detail }),
  });

/** Reads a SIP address; throws AppError bad_request (sip_address_invalid, { detail }). */
export function parseSipTarget(input: string): SipTarget {
  const text = input.trim();
  if (text.length === 0) throw invalid('it is empty');
  if (text.length > MAX_URI) throw invalid(`it is longer than ${MAX_URI} characters`);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1];
  if (!scheme || scheme.toLowerCase() !== 'sip')
    throw invalid(`write it as sip:user@host[:port]${scheme ? ` (${scheme}: is not supported)` : ''}`);
  const rest = text.slice(4);
  if (/[;?]/.test(rest)) throw invalid('URI parameters and headers (; or ?) are not accepted');
  const at = rest.lastIndexOf('@');
  if (at < 0) throw invalid('it names no user (sip:user@host)');
  const user = rest.slice(0, at);
  if (!USER.test(user)) throw invalid('the user part has characters a SIP address cannot have');
  const hostPort = rest.slice(at + 1);
  if (hostPort.startsWith('[')) throw invalid('IPv6 addresses are not supported (the gateway speaks IPv4)');
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(hostPort);
  if (!m) throw invalid('write the host as a name or an IPv4 address, then :port if any');
  const host = m[1]!.toLowerCase();
  const port = m[2] === undefined ? DEFAULT_SIP_PORT : Number(m[2]);
  // Below 1024: the well-known services of a host, never a room system's SIP port.
  if (m[2] !== undefined && (!/^[1-9]/.test(m[2]) || port < 1024 || port > 65535))
    throw invalid('the port must be 1024-65535 (SIP: 5060)');
  const hostIsIp = /^[\d.]+$/.test(host);
  if (hostIsIp) {
    if (net.isIPv4(host) !== true || host.split('.').some((o) => o.length > 1 && o.startsWith('0')))
      throw invalid(`${host} is not an IPv4 address`);
  } else {
    const labels = host.split('.');
    if (host.length > 253 || !labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels[labels.length - 1]!))
      throw invalid(`${host.slice(0, 60)} is not a host name`);
  }
  return { uri: `sip:${user}@${host}${m[2] === undefined ? '' : `:${port}`}`, user, host, port, hostIsIp };
}
