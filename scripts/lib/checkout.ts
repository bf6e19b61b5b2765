// Which source a measurement ran: the commit checked out, whether the working tree's
// tracked files differed from it, and a digest of that difference, so that two trees with
// different uncommitted changes at one commit are told apart. A client build folder
// records the checkout it was built from (`build.json`, written by scripts/build-client.mjs).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface Checkout {
  commit: string;
  /** The tracked files differed from the commit. */
  dirty: boolean;
  /** sha256 of `git diff HEAD`, first 12 hex digits; absent when clean. */
  diff?: string;
}

function git(dir: string, args: string[]): string {
  try {
    return execFileSync('git', args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 256 << 20,
    }).toString();
  } catch {
    return '';
  }
}

/** The checkout in `dir` (commit '' when it is no git checkout). */
export function readCheckout(dir = process.cwd()): Checkout {
  const commit = git(dir, ['rev-parse', 'HEAD']).trim();
  const diff = git(dir, ['diff', 'HEAD', '--binary', '--no-ext-diff']);
  if (diff === '') return { commit, dirty: false };
  return { commit, dirty: true, diff: createHash('sha256').update(diff).digest('hex').slice(0, 12) };
}

/** e.g. `9164854 (clean)`, `9164854 with changes 3fa2c1d0e9b7`, `no recorded commit`. */
export function describeCheckout(c: Checkout | null | undefined): string {
  if (!c?.commit) return 'no recorded commit';
  const short = c.commit.slice(0, 7);
  return c.dirty ? `${short} with changes ${c.diff ?? '(not recorded)'}` : `${short} (clean)`;
}

/**
 * The checkout a client build folder was built from, as build-client.mjs recorded it;
 * null when the folder records none (built before builds recorded it).
 */
export function readBuildCheckout(dir: string): Checkout | null {
  const file = path.join(dir, 'build.json');
  if (!existsSync(file)) return null;
  try {
    const b = JSON.parse(readFileSync(file, 'utf8')) as Partial<Checkout>;
    if (typeof b.commit !== 'string' || typeof b.dirty !== 'boolean') return null;
    return { commit: b.commit, dirty: b.dirty, ...(typeof b.diff === 'string' ? { diff: b.diff } : {}) };
  } catch {
    return null;
  }
}
