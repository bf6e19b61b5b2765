// Which source a measurement ran (read by ./checkout.cjs, which scripts/build-client.mjs
// shares), in words, and as a client build folder records it (`build.json`, written by
// scripts/build-client.mjs before it bundles).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Checkout } from './checkout.cjs';

export { readCheckout, type Checkout } from './checkout.cjs';

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
