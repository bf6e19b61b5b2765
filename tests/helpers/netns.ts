// A connection point behind its own network link, so a test can cut that point's
// network (its socket and its UDP media alike) without touching anyone else: a network
// namespace joined to this one by a veth pair, and a Chromium started inside it.
// Needs root (ip netns); the test runner runs as root. Addresses are private and the
// pair carries only traffic between this machine and the namespace.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, chromiumArgs } from './browser';
import { requireInCi } from './ci';

export interface PointNetwork {
  /** The address of this machine as seen from the namespace: serve and announce on it. */
  hostIp: string;
  /** The namespace's own address. */
  pointIp: string;
  name: string;
  /** Takes the namespace's side of the link down: every packet to and from it is lost. */
  cut(): void;
  restore(): void;
  /**
   * Chromium inside the namespace. `origin` (http://<hostIp>:<port>) is treated as secure,
   * as the https origin of a real deployment would be (else no mediaDevices).
   */
  launchChromium(origin: string): Promise<Browser>;
  remove(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** Why network namespaces cannot be made here (they need root and iproute2), or undefined. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'needs iproute2 (npm test installs it as root)';
  }
}

/**
 * Declares what stands in for tests that need namespaces when `cannot` says they cannot
 * be built: a skipped test on a developer's machine without root, a failing one when CI is
 * set (CI runs as root and npm test installs the tools, so there a skip would hide the proof).
 */
export function requireNetnsInCi(what: string, cannot: string | undefined): void {
  if (cannot) requireInCi(`cannot build network namespaces: ${cannot}`)(what, () => undefined);
}

export function createPointNetwork(): PointNetwork {
  const tag = (process.pid % 200) + 20; // 10.<tag>.7.0/30, one per test process
  const name = `brief-pt-${process.pid}`;
  const outside = `bo${process.pid}`.slice(0, 15);
  const inside = `bi${process.pid}`.slice(0, 15);
  const hostIp = `10.${tag}.7.1`;
  const pointIp = `10.${tag}.7.2`;
  try {
    ip('netns', 'add', name);
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', name);
    ip('addr', 'add', `${hostIp}/30`, 'dev', outside);
    ip('link', 'set', outside, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${pointIp}/30`, 'dev', inside);
    ip('netns', 'exec', name, 'ip', 'link', 'set', inside, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    removeQuietly(name, outside);
    throw err;
  }
  // playwright-core talks to Chromium over a pipe (fds 3 and 4), which `ip netns exec` keeps.
  const wrapper = path.join(os.tmpdir(), `chromium-in-${name}.sh`);
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${name} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
  return {
    hostIp,
    pointIp,
    name,
    cut: () => ip('netns', 'exec', name, 'ip', 'link', 'set', inside, 'down'),
    restore: () => ip('netns', 'exec', name, 'ip', 'link', 'set', inside, 'up'),
    launchChromium: (origin) =>
      chromium.launch({
        executablePath: wrapper,
        args: chromiumArgs([`--unsafely-treat-insecure-origin-as-secure=${origin}`]),
      }),
    remove: () => {
      removeQuietly(name, outside);
      fs.rmSync(wrapper, { force: true });
    },
  };
}

function removeQuietly(name: string, outside: string): void {
  for (const args of [
    ['link', 'del', outside],
    ['netns', 'del', name],
  ]) {
    try {
      ip(...args);
    } catch {
      // already gone
    }
  }
}
