#!/usr/bin/env node
// Builds mediasoup's C++ worker from the npm tarball's own sources against Debian's
// system libraries, and installs it where mediasoup looks for it
// (node_modules/mediasoup/worker/out/Release/mediasoup-worker).
//
// Why: mediasoup's postinstall downloads a prebuilt worker from GitHub, then falls back
// to pip (invoke, meson, ninja) and meson subprojects fetched from GitHub/wrapdb. None
// of that is reachable here (npm registry and Debian only). mediasoup 3.12.16 pins the
// same versions of abseil, libsrtp2, libuv and OpenSSL that Debian bookworm ships, so
// its worker builds against them once each `subproject()` becomes a `dependency()`.
//
// One exception: libsrtp2. Debian builds it against NSS, whose AES-GCM path takes a mutex
// and allocates per packet; profiled at 420 points that was a quarter of the worker's CPU
// (docs/benchmarks/media-path.md). mediasoup builds libsrtp2 against OpenSSL. So the
// worker gets libsrtp2 2.5.0 built as mediasoup does (its own subproject,
// crypto-library=openssl), from Debian's source package (`apt-get source`,
// scripts/debian-source.mjs): its upstream tarball is byte-identical to the one
// mediasoup's wrap pins, and its sha256 is checked against the wrap's. If it cannot be
// had, the build falls back to Debian's libsrtp2 (NSS) and says so.
//
// Built as upstream builds a release worker (release, -Db_ndebug=true), with upstream's
// later fixes for the defects of 3.12.16 on the product's paths (scripts/worker-fixes.mjs;
// docs/architecture.md lists which and why).
//
// The result is cached outside the checkout, keyed by mediasoup's version and a hash of
// the patch and build settings, so a fresh clone on the same machine does not rebuild.
// Uses only Node's standard library: it runs before anything else is installed.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DebianSources } from './debian-source.mjs';
import { PatchError, replaceOrFail as replaceOrThrow, WORKER_FIXES, applyWorkerFixes } from './worker-fixes.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MEDIASOUP_DIR = path.join(ROOT, 'node_modules', 'mediasoup');
const INSTALLED_BIN = path.join(MEDIASOUP_DIR, 'worker', 'out', 'Release', 'mediasoup-worker');

export const BUILD_PACKAGES = [
  'meson',
  'pkg-config',
  'ninja-build',
  'g++',
  'python3',
  'libuv1-dev',
  'libsrtp2-dev',
  'libusrsctp-dev',
  'libabsl-dev',
  'nlohmann-json3-dev',
  'libssl-dev',
];
const RUNTIME_PACKAGES = ['libuv1', 'libsrtp2-1', 'libusrsctp2', 'libssl3'];

function log(msg) {
  process.stderr.write(`[build-worker] ${msg}\n`);
}

function fail(msg) {
  process.stderr.write(`\n[build-worker] ERROR: ${msg}\n\n`);
  process.exit(1);
}

function cacheRoot() {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'briefing-orchestrator');
}

function mediasoupVersion() {
  const pkgPath = path.join(MEDIASOUP_DIR, 'package.json');
  if (!fs.existsSync(pkgPath))
    fail('node_modules/mediasoup is missing: run `npm ci` first (scripts/prepare.mjs does).');
  return JSON.parse(fs.readFileSync(pkgPath, 'utf8')).version;
}

// Bump when the build changes in a way the patch text below does not show.
const BUILD_REVISION = 2;

/** Identifies the patch, not this file's formatting: a reformat must not force a rebuild. */
function patchHash(srtp) {
  return createHash('sha256')
    .update(
      `${BUILD_REVISION}\n${DEPENDENCIES}\n${srtp === 'system' ? SYSTEM_LIBSRTP2 : LIBSRTP2_TARBALL}\n` +
        `${JSON.stringify(VARIABLE_MAP)}\n${MESON_OPTIONS.join(' ')}\n` +
        [patchMeson, ...WORKER_FIXES].map((f) => f.toString().replace(/\s+/g, ' ')).join('\n'),
    )
    .digest('hex')
    .slice(0, 12);
}

export function cachedWorkerPath(srtp = 'openssl') {
  const version = mediasoupVersion();
  return path.join(
    cacheRoot(),
    `mediasoup-worker-${version}-${os.platform()}-${os.arch()}-${patchHash(srtp)}`,
    'mediasoup-worker',
  );
}

/** What mediasoup's own wrap says about libsrtp2: the directory and the tarball's sha256. */
function libsrtp2Wrap() {
  const wrap = fs.readFileSync(path.join(MEDIASOUP_DIR, 'worker', 'subprojects', 'libsrtp2.wrap'), 'utf8');
  const field = (k) => new RegExp(`^${k} = (\\S+)$`, 'm').exec(wrap)?.[1];
  const directory = field('directory');
  const sha256 = field('source_hash');
  if (!directory || !sha256) fail('subprojects/libsrtp2.wrap has no directory or source_hash');
  return { directory, sha256 };
}

/**
 * libsrtp2's source tarball, fetched once into the cache with `apt-get source` from
 * Debian bookworm (scripts/debian-source.mjs) and checked against the hash mediasoup's
 * wrap pins. Returns undefined (with the reason logged) when it cannot be had.
 */
function libsrtp2Tarball() {
  const { sha256 } = libsrtp2Wrap();
  const file = path.join(cacheRoot(), LIBSRTP2_TARBALL);
  const hashOf = (f) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
  if (fs.existsSync(file) && hashOf(file) === sha256) return file;
  log(`fetching libsrtp2's source: apt-get source --download-only ${LIBSRTP2_SOURCE.join('/')}`);
  let dir;
  try {
    dir = new DebianSources(path.join(cacheRoot(), 'debian'), [LIBSRTP2_SOURCE[1]]).download(
      ...LIBSRTP2_SOURCE,
      path.join(cacheRoot(), 'debian', 'download'),
    );
  } catch (err) {
    log(`WARNING: could not fetch libsrtp2's source (${err.message}); dpkg-dev is not needed, apt-get is`);
    return undefined;
  }
  try {
    const got = fs.existsSync(path.join(dir, LIBSRTP2_TARBALL)) ? hashOf(path.join(dir, LIBSRTP2_TARBALL)) : 'none';
    if (got !== sha256) {
      log(`WARNING: Debian's ${LIBSRTP2_TARBALL} has sha256 ${got}, mediasoup's wrap pins ${sha256}; not using it`);
      return undefined;
    }
    fs.renameSync(path.join(dir, LIBSRTP2_TARBALL), file);
    return file;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function missingDebianPackages(pkgs) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\n', ...pkgs], { encoding: 'utf8' });
  const installed = new Set(
    (r.stdout || '')
      .split('\n')
      .filter((l) => l.endsWith('install ok installed'))
      .map((l) => l.split(' ')[0]),
  );
  return pkgs.filter((p) => !installed.has(p));
}

export function ensureDebianPackages(pkgs, why) {
  const missing = missingDebianPackages(pkgs);
  if (missing.length === 0) return;
  const line = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) fail(`${why} needs Debian packages that are missing. Run as root:\n  ${line}`);
  log(`installing Debian packages for ${why}: ${missing.join(' ')}`);
  // Another apt run (an installer, unattended upgrades) may hold dpkg's lock for minutes:
  // apt waits up to 10 minutes for it, and a failure is retried a few times.
  const waiting = line.replaceAll('apt-get ', 'apt-get -o DPkg::Lock::Timeout=600 ');
  for (let attempt = 1; attempt <= 5; attempt++) {
    const r = spawnSync('sh', ['-c', waiting], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (r.status === 0) return;
    log(`apt-get failed (attempt ${attempt}/5); retrying in 10 s`);
    spawnSync('sleep', ['10']);
  }
  fail(`could not install ${missing.join(' ')}. Try by hand:\n  ${line}`);
}

// Each wrap subproject becomes the matching pkg-config dependency from Debian.
const DEPENDENCIES = `
# --- patched by scripts/build-worker.mjs: Debian system libraries instead of wraps ---
openssl_dep = dependency('openssl')
nlohmann_json_dep = dependency('nlohmann_json')
libuv_dep = dependency('libuv')
usrsctp_dep = dependency('usrsctp')
absl_container_dep = declare_dependency(dependencies: [
  dependency('absl_flat_hash_map'), dependency('absl_flat_hash_set'),
])
absl_strings_dep = dependency('absl_strings')
absl_types_dep = declare_dependency(dependencies: [dependency('absl_optional'), dependency('absl_variant')])
catch2_dep = dependency('catch2', required: false)
`;

// The fallback: Debian's libsrtp2 (NSS crypto).
const SYSTEM_LIBSRTP2 = `
libsrtp2_sys = dependency('libsrtp2')
# The sources include <srtp.h>; Debian installs it under srtp2/.
libsrtp2_dep = declare_dependency(
  dependencies: libsrtp2_sys,
  compile_args: ['-I' + libsrtp2_sys.get_variable(pkgconfig: 'includedir') + '/srtp2'],
)
`;

// libsrtp2's source as mediasoup's wrap names it: Debian bookworm's source package carries
// the same upstream tarball (same bytes).
const LIBSRTP2_SOURCE = ['libsrtp2', 'bookworm'];
const LIBSRTP2_TARBALL = 'libsrtp2_2.5.0.orig.tar.gz';

const VARIABLE_MAP = {
  absl_container_dep: 'absl_container_dep',
  absl_strings_dep: 'absl_strings_dep',
  absl_types_dep: 'absl_types_dep',
  openssl_dep: 'openssl_dep',
  nlohmann_json_dep: 'nlohmann_json_dep',
  libuv_dep: 'libuv_dep',
  usrsctp_dep: 'usrsctp_dep',
  catch2_dep: 'catch2_dep',
};

function replaceOrFail(text, pattern, replacement, what) {
  try {
    return replaceOrThrow(text, pattern, replacement, what);
  } catch (err) {
    if (err instanceof PatchError) fail(err.message);
    throw err;
  }
}

function patchMeson(workerDir, srtp) {
  const top = path.join(workerDir, 'meson.build');
  let text = fs.readFileSync(top, 'utf8');
  text = replaceOrFail(text, /meson_version: '>= 1\.1\.0'/, "meson_version: '>= 1.0.1'", 'meson_version');
  // Remove every `x_proj = subproject('name', default_options: [...],\n)` block (not the
  // Windows-only wingetopt one, which is indented) and put the dependencies where the
  // first one stood. libsrtp2's block stays when its source is there (crypto-library=openssl).
  let first = true;
  text = replaceOrFail(
    text,
    /^(\w+)_proj = subproject\(\n[\s\S]*?\n\)\n/gm,
    (block, name) => {
      if (name === 'libsrtp2' && srtp === 'openssl') return block;
      const r = first ? DEPENDENCIES + (srtp === 'system' ? SYSTEM_LIBSRTP2 : '') : '';
      first = false;
      return r;
    },
    'subprojects',
  );
  if (srtp === 'system') text = text.replace(/libsrtp2_proj\.get_variable\('libsrtp2_dep'\)/, 'libsrtp2_dep');
  text = replaceOrFail(
    text,
    /\w+_proj\.get_variable\('(\w+)'\)/g,
    (m, v) => (v in VARIABLE_MAP ? VARIABLE_MAP[v] : m),
    'get_variable',
  );
  // Static link_whole of the subprojects' libraries: the system libraries are linked
  // through the dependencies instead.
  text = replaceOrFail(
    text,
    /^link_whole = \[\n[\s\S]*?\n\]\n/m,
    srtp === 'openssl'
      ? "link_whole = [libsrtp2_proj.get_variable('libsrtp2'), libwebrtc]\n"
      : 'link_whole = [libwebrtc]\n',
    'link_whole',
  );
  fs.writeFileSync(top, text);

  const webrtc = path.join(workerDir, 'deps', 'libwebrtc', 'meson.build');
  let w = fs.readFileSync(webrtc, 'utf8');
  w = replaceOrFail(w, /^abseil_cpp_proj = subproject\(\n[\s\S]*?\n\)\n/m, '', 'libwebrtc abseil subproject');
  w = replaceOrFail(w, /\w+_proj\.get_variable\('(\w+)'\)/g, (m, v) => VARIABLE_MAP[v] ?? m, 'libwebrtc get_variable');
  fs.writeFileSync(webrtc, w);
  if (/_proj\b/.test(text.replace(/wingetopt_proj|libsrtp2_proj/g, '')) || /_proj\b/.test(w)) {
    fail('patch left a subproject reference behind');
  }
}

// As upstream builds a release worker: optimised, assertions off (-Db_ndebug=true).
const MESON_OPTIONS = ['--buildtype=release', '-Db_ndebug=true', '--wrap-mode=nodownload'];

function run(cmd, args, opts) {
  log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) fail(`${cmd} failed with exit code ${r.status}`);
}

function build(target, srtp, tarball) {
  ensureDebianPackages(BUILD_PACKAGES, 'building the mediasoup worker');
  const version = mediasoupVersion();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `mediasoup-worker-${version}-`));
  try {
    log(`building mediasoup-worker ${version} in ${work} (about 3 minutes on 2 cores)`);
    const src = path.join(work, 'worker');
    fs.cpSync(path.join(MEDIASOUP_DIR, 'worker'), src, { recursive: true });
    fs.rmSync(path.join(src, 'out'), { recursive: true, force: true });
    if (srtp === 'openssl') {
      if (!tarball) fail("libsrtp2's source is needed and could not be downloaded (see the warning above)");
      // Where the wrap expects it, so meson uses it without downloading anything.
      run('tar', ['-xzf', tarball, '-C', path.join(src, 'subprojects')]);
      if (!fs.existsSync(path.join(src, 'subprojects', libsrtp2Wrap().directory, 'meson.build')))
        fail(`libsrtp2's tarball did not unpack into subprojects/${libsrtp2Wrap().directory}`);
      log('libsrtp2 2.5.0 from source, crypto-library=openssl (as mediasoup builds it)');
    } else {
      log("WARNING: linking Debian's libsrtp2 (NSS crypto): SRTP costs the worker noticeably more CPU");
    }
    patchMeson(src, srtp);
    try {
      applyWorkerFixes(src);
    } catch (err) {
      if (err instanceof PatchError) fail(err.message);
      throw err;
    }
    const out = path.join(work, 'build');
    run('meson', ['setup', ...MESON_OPTIONS, out, src]);
    // ninja prints [n/N] progress lines as it goes.
    run('ninja', ['-C', out, `-j${Math.max(1, os.cpus().length)}`, 'mediasoup-worker']);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.tmp-${process.pid}`;
    fs.copyFileSync(path.join(out, 'mediasoup-worker'), tmp);
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, target); // atomic: a concurrent reader never sees half a binary
    log(`cached ${target}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The build stamp beside a worker binary (`<binary>.stamp.json`): the mediasoup version
 * its sources came from, the hash of the fixes and settings it was built with, and the
 * binary's own sha256. The server reads it at start-up (sfu/worker-binary.ts) and refuses
 * a binary whose stamp is missing, names another mediasoup version, or describes other bytes.
 */
export function stampPath(bin) {
  return `${bin}.stamp.json`;
}

function stampFor(bin, srtp) {
  return {
    mediasoupVersion: mediasoupVersion(),
    patchHash: patchHash(srtp),
    sha256: createHash('sha256').update(fs.readFileSync(bin)).digest('hex'),
    builtBy: 'scripts/build-worker.mjs',
  };
}

/** Writes `stamp` beside `bin` unless the same stamp is there already. */
function writeStamp(bin, stamp) {
  const file = stampPath(bin);
  const text = `${JSON.stringify(stamp, null, 2)}\n`;
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return;
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function workerRuns(bin) {
  // The worker cannot run without its parent's channel, so check what it needs instead:
  // an unresolved shared library shows as "not found" in ldd's output.
  const r = spawnSync('ldd', [bin], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && !/not found/.test(r.stdout || '');
}

/** The preferred worker (libsrtp2 on OpenSSL) when it is cached or can be built, else the fallback. */
function chooseWorker(force) {
  const preferred = cachedWorkerPath('openssl');
  if (!force && fs.existsSync(preferred)) return { cached: preferred, srtp: 'openssl' };
  const tarball = libsrtp2Tarball();
  if (tarball) return { cached: preferred, srtp: 'openssl', tarball };
  return { cached: cachedWorkerPath('system'), srtp: 'system' };
}

export function ensureWorker({ force = false } = {}) {
  const { cached, srtp, tarball } = chooseWorker(force);
  if (force || !fs.existsSync(cached)) build(cached, srtp, tarball ?? libsrtp2Tarball());
  else log(`using cached worker ${cached}`);
  if (!workerRuns(cached)) {
    ensureDebianPackages(RUNTIME_PACKAGES, 'running the mediasoup worker');
    if (!workerRuns(cached)) {
      log('cached worker does not run; rebuilding');
      build(cached, srtp, srtp === 'openssl' ? libsrtp2Tarball() : undefined);
    }
  }
  // Workers cached before stamps existed get theirs here.
  const stamp = stampFor(cached, srtp);
  writeStamp(cached, stamp);
  const same =
    fs.existsSync(INSTALLED_BIN) &&
    fs.statSync(INSTALLED_BIN).size === fs.statSync(cached).size &&
    createHash('sha256').update(fs.readFileSync(INSTALLED_BIN)).digest('hex') === stamp.sha256;
  if (!same) {
    fs.mkdirSync(path.dirname(INSTALLED_BIN), { recursive: true });
    // Copy, then rename: a worker running from the old file keeps it (no ETXTBSY).
    const tmp = `${INSTALLED_BIN}.tmp-${process.pid}`;
    fs.copyFileSync(cached, tmp);
    fs.chmodSync(tmp, 0o755);
    fs.renameSync(tmp, INSTALLED_BIN);
    log(`installed worker into ${path.relative(ROOT, INSTALLED_BIN)}`);
  }
  writeStamp(INSTALLED_BIN, stamp);
  return INSTALLED_BIN;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  ensureWorker({ force: process.argv.includes('--force') });
}
