// Where the gateway may place a call (dial-out to a point's room system): the SIP address
// is whatever a host or admin typed or the registry holds, read strictly
// (domain/points/sip-address.ts), and the address it names is checked before any packet
// leaves. A DNS name is looked up (A records; no SRV or NAPTR) and every address it gives
// must be allowed: this machine's own addresses, loopback, link-local, multicast,
// broadcast, reserved and unspecified ones are refused, so a typed address cannot make the
// server call itself, a service on its loopback or a whole network segment.
import dns from 'node:dns/promises';
import net from 'node:net';
import { AppError, why } from '../errors';
import { invalid, type SipTarget } from '../domain/points/sip-address';

export { DEFAULT_SIP_PORT, parseSipTarget, type SipTarget } from '../domain/points/sip-address';

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
