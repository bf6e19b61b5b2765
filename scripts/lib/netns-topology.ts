// A small network of its own for a test or a benchmark (tests/e2e/real-networks.test.ts,
// scripts/bench-network-paths.ts): a "server" network namespace
// holding a bridge with two addresses (the web server and SFU on .1, the TURN relay on .2),
// "site" namespaces each with their own address on that bridge, and one link from this
// namespace (.254) so the test process can drive the server. Nothing here reaches the
// machine's own addresses: every address is inside 10.T.S.0/24, derived from the pid so
// that tests of other engineers running at the same time do not collide.
// Needs root (ip netns, nft). remove() is idempotent and also runs at process exit.
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { tiedSpawn, type TiedSpawnOptions } from '../../server/platform/tied-spawn';
import { CHROMIUM, chromiumArgs } from './chromium';

export interface Site {
  name: string;
  ns: string;
  ip: string;
  /** Replaces the site's firewall (nftables, `inet` family) with these rules. */
  firewall(rules: string): void;
  /** Debian's Chromium inside the site's namespace. */
  launchChromium(extraArgs?: string[]): Promise<Browser>;
}

export interface Topology {
  serverNs: string;
  /** Web server and SFU. */
  serverIp: string;
  /** A second address of the server namespace, for the TURN relay (so TLS can take 443 too). */
  turnIp: string;
  /** This namespace's address on the bridge. */
  controlIp: string;
  sites: Map<string, Site>;
  /** Runs a command inside the server namespace; it dies with this process (tiedSpawn). */
  spawnInServer(cmd: string, args: string[], opts?: TiedSpawnOptions): ChildProcess;
  remove(): void;
}

/** Only the relay's TLS port out: what a commune router that lets out only HTTPS allows. */
export const ONLY_TCP_443 = `
table inet site {
  chain output {
    type filter hook output priority 0; policy drop;
    oif lo accept
    ct state established,related accept
    tcp dport 443 accept
  }
  chain input {
    type filter hook input priority 0; policy drop;
    iif lo accept
    ct state established,related accept
  }
}`;

/** No UDP in or out, and `extraOut` (nftables rules) on the way out. */
const udpDropped = (extraOut = ''): string => `
table inet site {
  chain output {
    type filter hook output priority 0; policy accept;
    meta l4proto udp drop${extraOut}
  }
  chain input {
    type filter hook input priority 0; policy accept;
    meta l4proto udp drop
  }
}`;

/** No UDP at all: media must go over TCP. */
export const NO_UDP = udpDropped();

/**
 * No UDP, as NO_UDP, and nothing out to `relayIp`: ICE-TCP to the SFU is the only way in.
 * With the relay in reach, a site without UDP may stay on the relay when it answered first.
 */
export const noUdpNorRelay = (relayIp: string): string => udpDropped(`\n    ip daddr ${relayIp} drop`);

const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
const quiet = (cmd: string, ...args: string[]) => {
  try {
    run(cmd, ...args);
  } catch {
    // already gone
  }
};

/** Network namespaces need root, iproute2 and nftables. */
export function canBuildTopology(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  try {
    run('ip', '-V');
    run('nft', '--version');
  } catch {
    return 'needs iproute2 and nftables (npm test installs them as root)';
  }
  return undefined;
}

export interface ServerInTopology {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** The first printed line starting with `prefix` (leading spaces ignored). */
  line(prefix: string): string | undefined;
  /** SIGTERM and wait for its clean stop (its coturn and Redis stop with it). */
  stop(): Promise<void>;
}

/**
 * The server process as `npm start` runs it, inside the server namespace: HTTPS on 443 of
 * the first address with a local CA under `dataDir`, the embedded coturn on the second
 * (TLS on 443 there too). Resolves once it has printed its start-up lines.
 */
export async function startServerIn(
  net: Topology,
  dataDir: string,
  env: Record<string, string> = {},
): Promise<ServerInTopology> {
  const root = path.resolve(__dirname, '../..');
  const child = net.spawnInServer(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      HOST: net.serverIp,
      PORT: '443',
      PUBLIC_URL: `https://${net.serverIp}`,
      RTC_LISTEN_IP: '0.0.0.0',
      RTC_PORT: '40000',
      MEDIASOUP_WORKERS: '1',
      TURN: 'embedded',
      TURN_LISTEN_IP: net.turnIp,
      LOG_LEVEL: 'warn',
      LOG_PRETTY: 'false',
      ...env,
    },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const line = (prefix: string) => out.split('\n').find((l) => l.trimStart().startsWith(prefix));
  const deadline = Date.now() + 60_000;
  while (!line('Briefing orchestrator is running.') || !/\n\n$/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => out,
    line,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    },
  };
}

export function createTopology(siteNames: string[]): Topology {
  const pid = process.pid;
  const subnet = `10.${(pid % 200) + 20}.${100 + (Math.floor(pid / 200) % 150)}`;
  const prefix = `rn${pid}`;
  const serverNs = `${prefix}-srv`;
  const rootVeth = `r${pid}h`.slice(0, 15);
  const namespaces = [serverNs, ...siteNames.map((s) => `${prefix}-${s}`)];
  const wrappers: string[] = [];
  const children: ChildProcess[] = [];
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // Whatever still runs inside (a server's Redis or coturn whose parent was killed) goes too.
    for (const ns of namespaces) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', ns], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
        for (const p of pids.split(/\s+/).filter(Boolean)) quiet('kill', '-9', p);
      } catch {
        // no such namespace
      }
    }
    quiet('ip', 'link', 'del', rootVeth);
    for (const ns of namespaces) quiet('ip', 'netns', 'del', ns);
    for (const w of wrappers) fs.rmSync(w, { force: true });
  };
  process.once('exit', remove);
  const inNs = (ns: string, ...args: string[]) => run('ip', 'netns', 'exec', ns, ...args);
  try {
    for (const ns of namespaces) {
      run('ip', 'netns', 'add', ns);
      inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    }
    inNs(serverNs, 'ip', 'link', 'add', 'br0', 'type', 'bridge');
    inNs(serverNs, 'ip', 'addr', 'add', `${subnet}.1/24`, 'dev', 'br0');
    inNs(serverNs, 'ip', 'addr', 'add', `${subnet}.2/24`, 'dev', 'br0');
    inNs(serverNs, 'ip', 'link', 'set', 'br0', 'up');
    // This namespace's link to the bridge.
    run('ip', 'link', 'add', rootVeth, 'type', 'veth', 'peer', 'name', 'up0', 'netns', serverNs);
    run('ip', 'addr', 'add', `${subnet}.254/24`, 'dev', rootVeth);
    run('ip', 'link', 'set', rootVeth, 'up');
    inNs(serverNs, 'ip', 'link', 'set', 'up0', 'master', 'br0', 'up');
    siteNames.forEach((s, i) => {
      const ns = `${prefix}-${s}`;
      run(
        'ip',
        'netns',
        'exec',
        serverNs,
        'ip',
        'link',
        'add',
        `p${i}`,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        ns,
      );
      inNs(serverNs, 'ip', 'link', 'set', `p${i}`, 'master', 'br0', 'up');
      inNs(ns, 'ip', 'addr', 'add', `${subnet}.${11 + i}/24`, 'dev', 'eth0');
      inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
    });
  } catch (err) {
    remove();
    throw err;
  }
  const sites = new Map<string, Site>();
  siteNames.forEach((s, i) => {
    const ns = `${prefix}-${s}`;
    // playwright-core talks to Chromium over a pipe (fds 3 and 4), which `ip netns exec` keeps.
    const wrapper = path.join(os.tmpdir(), `chromium-in-${ns}.sh`);
    fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
    wrappers.push(wrapper);
    sites.set(s, {
      name: s,
      ns,
      ip: `${subnet}.${11 + i}`,
      firewall: (rules) => {
        quiet('ip', 'netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'site');
        execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], {
          input: rules,
          stdio: ['pipe', 'ignore', 'pipe'],
        });
      },
      launchChromium: (extra = []) => chromium.launch({ executablePath: wrapper, args: chromiumArgs(extra) }),
    });
  });
  return {
    serverNs,
    serverIp: `${subnet}.1`,
    turnIp: `${subnet}.2`,
    controlIp: `${subnet}.254`,
    sites,
    spawnInServer: (cmd, args, opts = {}) => {
      const child = tiedSpawn('ip', ['netns', 'exec', serverNs, cmd, ...args], opts);
      children.push(child);
      return child;
    },
    remove,
  };
}
