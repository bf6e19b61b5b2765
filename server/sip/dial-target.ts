// Where the gateway may place a call (dial-out to a point's room system): the SIP address
// is whatever a technician typed or the registry holds, so it is read strictly and the
// address it names is checked before any packet leaves. Only `sip:user@host[:port]`:
// no other scheme (sips:, tel:, h323:), no URI parameters or headers (`;transport=tcp`,
// `?subject=`), host an IPv4 address or a DNS name (the gateway speaks UDP over IPv4),
// port 1-65535 (5060 when none is given). A DNS name is looked up (A records; no SRV or
// NAPTR) and every address it gives must be allowed: this machine's own addresses,
// loopback, link-local, multicast, broadcast, reserved and unspecified ones are refused,
// so a typed address cannot make the server call itself, a service on its loopback or a
// whole network segment.
import dns from 'node:dns/promises';
import net from 'node:net';
import { AppError, why } from '../errors';

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

const invalid = (detail: string) =>
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

/** IPv4 ranges no call may go to (RFC 6890): unspecified, loopback, link-local, multicast, reserved, broadcast. */
const REFUSED = new net.BlockList();
REFUSED.addSubnet('0.0.0.0', 8, 'ipv4');
REFUSED.addSubnet('127.0.0.0', 8, 'ipv4');
REFUSED.addSubnet('169.254.0.0', 16, 'ipv4');
REFUSED.addSubnet('224.0.0.0', 4, 'ipv4');
REFUSED.addSubnet('240.0.0.0', 4, 'ipv4');

/** Why a call may not go to `ip` (an IPv4 address), or undefined if it may. */
export function refusedAddress(ip: string, own: ReadonlySet<string>): string | undefined {
  if (own.has(ip)) return 'it is this server';
  if (REFUSED.check(ip, 'ipv4'))
    return 'loopback, link-local, multicast, reserved and unspecified addresses are not called';
  return undefined;
}

export interface ResolveDeps {
  /** This machine's addresses (its interfaces, the announced ones). */
  ownAddresses: () => ReadonlySet<string>;
  /** A name's IPv4 addresses (default: the system resolver). */
  lookup?: (host: string) => Promise<string[]>;
}

/** How long a name's lookup may take: the call is refused (no IPv4 address) after it. */
const LOOKUP_TIMEOUT_MS = 3000;

const systemLookup = async (host: string): Promise<string[]> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('lookup timed out')), LOOKUP_TIMEOUT_MS);
  });
  try {
    const found = await Promise.race([dns.lookup(host, { family: 4, all: true }), late]);
    return found.map((a) => a.address);
  } finally {
    clearTimeout(timer);
  }
};

/**
 * The address and port a call to `target` goes to. Throws AppError: bad_request
 * (sip_address_invalid) for a name without an IPv4 address, forbidden
 * (sip_target_refused, { address, detail }) for an address no call may go to.
 */
export async function resolveSipTarget(target: SipTarget, d: ResolveDeps): Promise<{ address: string; port: number }> {
  let addresses: string[];
  if (target.hostIsIp) addresses = [target.host];
  else {
    try {
      addresses = await (d.lookup ?? systemLookup)(target.host);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0 || !addresses.every((a) => net.isIPv4(a)))
      throw invalid(`${target.host} has no IPv4 address`);
  }
  // Every address of a name must be allowed: a name may not smuggle in one that is not.
  const own = d.ownAddresses();
  for (const address of addresses) {
    const detail = refusedAddress(address, own);
    if (detail)
      throw new AppError('forbidden', `the server does not call ${address}: ${detail}`, {
        ...why('sip_target_refused', { address, detail }),
      });
  }
  return { address: addresses[0]!, port: target.port };
}
