#!/usr/bin/env node
// The current Node.js LTS binary, from the npm registry: Node ships each release's
// official binary per platform as an npm package (`node-<platform>-<arch>`, its binary in
// bin/node). `npm pack` fetches it through the ordinary npm client (its registry and
// proxy settings); it is unpacked once into the build cache. Prints the binary's path.
// Used by scripts/test.mjs to run the unit and integration suites on that Node as well.
// Uses only Node's standard library.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The LTS line the product is proven on besides the oldest supported one (package.json engines). */
export const NODE_LTS_MAJOR = 26;

function cacheRoot() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'briefing-orchestrator');
}

function fail(msg) {
  process.stderr.write(`\n[node-lts] ERROR: ${msg}\n\n`);
  process.exit(1);
}

export function ensureNodeLts() {
  const pkg = `node-${os.platform()}-${os.arch()}`;
  fs.mkdirSync(cacheRoot(), { recursive: true });
  const existing = fs
    .readdirSync(cacheRoot(), { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.startsWith(`${pkg}-${NODE_LTS_MAJOR}.`))
    .map((d) => path.join(cacheRoot(), d.name, 'bin', 'node'))
    .filter((f) => fs.existsSync(f));
  if (existing.length) return existing.sort().at(-1);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'node-lts-'));
  try {
    process.stderr.write(`[node-lts] fetching ${pkg}@${NODE_LTS_MAJOR} from the npm registry (npm pack)\n`);
    const r = spawnSync('npm', ['pack', '--silent', `${pkg}@${NODE_LTS_MAJOR}`], { cwd: work, encoding: 'utf8' });
    const tgz = (r.stdout || '').trim().split('\n').at(-1);
    if (r.status !== 0 || !tgz || !fs.existsSync(path.join(work, tgz)))
      fail(`npm pack ${pkg}@${NODE_LTS_MAJOR} failed (is the npm registry reachable?):\n${r.stderr}`);
    const version = /-(\d+\.\d+\.\d+)\.tgz$/.exec(tgz)?.[1];
    if (!version) fail(`unexpected package file name ${tgz}`);
    const x = spawnSync('tar', ['-xzf', tgz], { cwd: work });
    if (x.status !== 0) fail(`could not unpack ${tgz}`);
    const dir = path.join(cacheRoot(), `${pkg}-${version}`);
    const bin = path.join(work, 'package', 'bin', 'node');
    if (!fs.existsSync(bin)) fail(`${tgz} has no bin/node`);
    fs.chmodSync(bin, 0o755);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.renameSync(path.join(work, 'package'), dir);
    return path.join(dir, 'bin', 'node');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  process.stdout.write(`${ensureNodeLts()}\n`);
}
