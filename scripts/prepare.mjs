#!/usr/bin/env node
// Idempotent set-up run first by `npm start` and `npm test` on any checkout, fresh or
// not: npm dependencies, the mediasoup worker (built from source, cached), the system
// programs the chosen command needs, and the client bundle. Each step is skipped when
// already done and says what it is doing when it is not. Only Node's standard library is
// used until `npm ci` has run.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const purpose = (process.argv.find((a) => a.startsWith('--for=')) ?? '--for=start').slice(6);

function step(msg) {
  process.stderr.write(`[prepare] ${msg}\n`);
}

function fail(msg) {
  process.stderr.write(`\n[prepare] ERROR: ${msg}\n\n`);
  process.exit(1);
}

function checkNode() {
  const [major] = process.versions.node.split('.').map(Number);
  if (major < 20) fail(`Node.js 20 or newer is required (this is ${process.versions.node}).`);
}

// With NODE_ENV=production npm would leave out devDependencies, but the client bundle and
// the worker build need them (esbuild, mediasoup-client). The arguments are part of the
// stamp, so an install made with other ones (without --include=dev) is redone; the stamp
// of such installs (.briefing-installed, the lock file's hash alone) is not read.
const NPM_CI_ARGS = ['ci', '--include=dev', '--no-audit', '--no-fund', '--loglevel=error'];

function ensureNpmDependencies() {
  const lock = path.join(ROOT, 'package-lock.json');
  const stamp = path.join(ROOT, 'node_modules', '.briefing-npm-ci');
  const want = createHash('sha256')
    .update(fs.readFileSync(lock))
    .update(`\0npm ${NPM_CI_ARGS.join(' ')}`)
    .digest('hex');
  // A devDependency the bundle needs is looked for too: `npm prune --omit=dev` by hand keeps
  // the stamp but not esbuild, and the build would fail later.
  const complete = fs.existsSync(path.join(ROOT, 'node_modules', 'esbuild', 'package.json'));
  if (complete && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) return;
  step('installing npm dependencies (npm ci)…');
  const r = spawnSync('npm', NPM_CI_ARGS, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) fail('`npm ci` failed; see the messages above (is the npm registry reachable?).');
  fs.writeFileSync(stamp, want);
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

async function main() {
  checkNode();
  ensureNpmDependencies();
  const { ensureWorker, ensureDebianPackages } = await import('./build-worker.mjs');
  ensureWorker();

  const needsRedis = purpose === 'test' || !process.env.REDIS_URL;
  if (needsRedis && !onPath('redis-server')) {
    ensureDebianPackages(
      ['redis-server'],
      purpose === 'test' ? 'the tests (each starts its own redis-server)' : 'the embedded Redis (REDIS_URL is not set)',
    );
  }
  // The local certificate authority (an https PUBLIC_URL without TLS_CERT, or TURN's TLS).
  if (!onPath('openssl')) ensureDebianPackages(['openssl'], 'the local certificate authority (server/net/local-ca.ts)');
  // TURN=embedded runs a coturn beside the server; the tests run real ones.
  if ((purpose === 'test' || process.env.TURN === 'embedded') && !onPath('turnserver')) {
    ensureDebianPackages(
      ['coturn'],
      purpose === 'test' ? 'the TURN relay tests' : 'the embedded TURN relay (TURN=embedded)',
    );
  }
  // Live sessions are recorded by ffmpeg (server/recording/) unless RECORDING=false.
  if ((purpose === 'test' || !/^(false|0|no)$/.test(process.env.RECORDING ?? '')) && !onPath('ffmpeg')) {
    ensureDebianPackages(
      ['ffmpeg'],
      purpose === 'test' ? 'the media and recording tests' : 'recording (RECORDING=false turns it off)',
    );
  }
  // Room systems over SIP (SIP_PORT set): the hall's shared transcode is Debian's ffmpeg too.
  if (process.env.SIP_PORT && !onPath('ffmpeg')) {
    ensureDebianPackages(['ffmpeg'], 'the hall for room systems over SIP (SIP_PORT; server/sip/)');
  }
  // The agenda caption burned into the room systems' picture is drawn in DejaVu Sans, which
  // covers Vietnamese (server/sip/hall-caption.ts); without it the server sends no caption.
  const captionFont = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
  if (
    (purpose === 'test' || (process.env.SIP_PORT && process.env.SIP_CAPTION !== 'off')) &&
    !fs.existsSync(captionFont)
  ) {
    ensureDebianPackages(
      ['fonts-dejavu-core'],
      purpose === 'test'
        ? 'the agenda caption test of room systems (its font)'
        : "the agenda caption in room systems' picture (its font; SIP_CAPTION=off turns it off)",
    );
  }
  if (purpose === 'test') {
    // The SIP gateway's tests: SIPp drives refusals and floods, baresip dials in and
    // receives the hall (its avcodec module decodes H.264).
    ensureDebianPackages(['sip-tester', 'baresip-core', 'baresip-ffmpeg'], 'the SIP gateway tests (SIPp, baresip)');
    // The network topology test sets each site's firewall with nftables.
    if (!onPath('nft')) ensureDebianPackages(['nftables'], 'the network topology test (site firewalls)');
    // Network namespaces (ip) and the workers' socket queues read back (ss).
    if (!onPath('ip') || !onPath('ss')) {
      ensureDebianPackages(['iproute2'], 'the network namespace tests and the SFU socket test (ip, ss)');
    }
    // End-to-end tests drive Debian's Chromium through playwright-core (never a
    // downloaded browser).
    if (!fs.existsSync('/usr/bin/chromium')) ensureDebianPackages(['chromium'], 'the end-to-end browser tests');
  }

  step('building the client bundle…');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-client.mjs')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (r.status !== 0) fail('building the client bundle failed; see above.');
}

main().catch((err) => fail(err?.stack ?? String(err)));
