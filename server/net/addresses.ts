// The address points reach when the operator gave none: the machine's primary
// non-loopback address, for the links, the QR codes and the ICE candidates. The one place
// that decides the public base URL and the announced media address; the process start
// (server/launch.ts) applies it to the config before anything is built.
//
// Pure functions over an interface list (os.networkInterfaces()) and the kernel's routing
// table text (/proc/net/route), so they are tested with made-up machines: detecting an
// address never sends a packet anywhere.
import fs from 'node:fs';
import os from 'node:os';
import type { Config } from '../config';

export type InterfaceList = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

export interface MachineAddress {
  address: string;
  family: 'IPv4' | 'IPv6';
  interface: string;
}

/** Interfaces that are bridges for containers or VMs, not where points reach the machine. */
const VIRTUAL = /^(docker\d*|br-[0-9a-f]+|virbr\d+|veth|lxcbr|lxdbr|cni|flannel|cali|vxlan|kube|podman|tun|tap|wg)/;

const linkLocal = (a: string, family: string) => (family === 'IPv4' ? a.startsWith('169.254.') : /^fe[89ab]/i.test(a));

/** The interface of the IPv4 default route in /proc/net/route's text, if any. */
export function defaultRouteInterface(procNetRoute: string): string | undefined {
  for (const line of procNetRoute.split('\n').slice(1)) {
    const [iface, destination, , flags, , , metric] = line.trim().split(/\s+/);
    // Destination 0.0.0.0 with the route's UP flag (0x1).
    if (iface && destination === '00000000' && (parseInt(flags ?? '0', 16) & 1) === 1 && metric !== undefined) {
      return iface;
    }
  }
  return undefined;
}

/** Every non-loopback, non-link-local address, the most likely primary first. */
export function machineAddresses(interfaces: InterfaceList, defaultIface?: string): MachineAddress[] {
  const out: (MachineAddress & { rank: number })[] = [];
  for (const [name, infos] of Object.entries(interfaces)) {
    for (const info of infos ?? []) {
      const family = info.family === 'IPv6' ? 'IPv6' : 'IPv4';
      if (info.internal || linkLocal(info.address, family)) continue;
      // Lower is better: the default route's IPv4, other physical IPv4, virtual bridges,
      // then IPv6 (a global IPv6 often changes with privacy extensions).
      const rank = (family === 'IPv6' ? 4 : 0) + (name === defaultIface ? 0 : VIRTUAL.test(name) ? 2 : 1);
      out.push({ address: info.address, family, interface: name, rank });
    }
  }
  return out.sort((a, b) => a.rank - b.rank).map(({ rank: _r, ...a }) => a);
}

/** The machine's interfaces and default route, read from the running system. */
export function readMachine(): { interfaces: InterfaceList; defaultIface: string | undefined } {
  let route = '';
  try {
    route = fs.readFileSync('/proc/net/route', 'utf8');
  } catch {
    // not Linux: rank without it
  }
  return { interfaces: os.networkInterfaces(), defaultIface: defaultRouteInterface(route) };
}

export interface Addressing {
  /** The config with publicUrl and rtc.announcedIp filled in. */
  config: Config;
  /** The address chosen, and where it came from. */
  address: string;
  source: 'PUBLIC_URL' | 'RTC_ANNOUNCED_IP' | 'RTC_LISTEN_IP' | 'detected' | 'loopback';
  /** Every address of the machine (names for the local certificate). */
  machine: MachineAddress[];
  warnings: string[];
}

const bracket = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);
const isIp = (host: string) => /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');

/**
 * Fills what the operator left unset. The address points reach is, in order:
 * RTC_ANNOUNCED_IP, PUBLIC_URL's host when it is an IP address, a specific RTC_LISTEN_IP,
 * the machine's primary address; loopback (with a warning) when there is none. PUBLIC_URL
 * defaults to it with PORT (https when a certificate is configured), and so does the
 * announced media address when the workers listen on every interface.
 */
export function resolveAddressing(
  config: Config,
  machine: { interfaces: InterfaceList; defaultIface: string | undefined },
): Addressing {
  const all = machineAddresses(machine.interfaces, machine.defaultIface);
  const warnings: string[] = [];
  const urlHost = config.publicUrl ? new URL(config.publicUrl).hostname.replace(/^\[|\]$/g, '') : undefined;
  const announcedGiven = config.rtc.announcedIpDefaulted ? undefined : config.rtc.announcedIp;
  const listenIp = ['0.0.0.0', '::'].includes(config.rtc.listenIp) ? undefined : config.rtc.listenIp;
  let address: string;
  let source: Addressing['source'];
  if (announcedGiven) {
    address = announcedGiven;
    source = 'RTC_ANNOUNCED_IP';
  } else if (urlHost && isIp(urlHost)) {
    address = urlHost;
    source = 'PUBLIC_URL';
  } else if (listenIp) {
    address = listenIp;
    source = 'RTC_LISTEN_IP';
  } else if (all[0]) {
    address = all[0].address;
    source = 'detected';
  } else {
    address = '127.0.0.1';
    source = 'loopback';
    warnings.push(
      'this machine has no network address but loopback: only a browser on this machine can join. ' +
        'Connect it to the network, or set PUBLIC_URL and RTC_ANNOUNCED_IP to the address points reach.',
    );
  }
  const scheme = config.net.tls || config.net.localCa ? 'https' : 'http';
  // A server listening on one address (HOST) is reached there. PORT=0 (any free port, in
  // tests): the orchestrator builds the URL from the listening port.
  const webAddress = ['0.0.0.0', '::'].includes(config.host) ? address : config.host;
  const publicUrl = config.publicUrl ?? (config.port ? `${scheme}://${bracket(webAddress)}:${config.port}` : undefined);
  const announcedIp = config.rtc.announcedIpDefaulted ? address : config.rtc.announcedIp;
  if (scheme === 'http' && source !== 'loopback' && !config.publicUrl) {
    warnings.push(
      `links use plain http: a browser on another machine gets no camera or microphone there (the floor, ` +
        `the pre-flight check, the host console). Set PUBLIC_URL=https://${bracket(address)}:${config.port} ` +
        'for a local certificate authority, or TLS_CERT and TLS_KEY for your own certificate.',
    );
  }
  if (config.net.tlsMode === 'proxy' && ['0.0.0.0', '::'].includes(config.host)) {
    warnings.push(
      `TLS=proxy with HOST=${config.host}: plain HTTP on port ${config.port} is served to the whole network, ` +
        'not only to the reverse proxy. A proxy on this machine needs only HOST=127.0.0.1 (in a container, ' +
        "publish the port on the host's loopback, as docker-compose.yml does).",
    );
  }
  return {
    config: {
      ...config,
      publicUrl,
      rtc: { ...config.rtc, announcedIp },
      cluster: { ...config.cluster, publicUrl: config.cluster.publicUrl ?? publicUrl },
    },
    address,
    source,
    machine: all,
    warnings,
  };
}
