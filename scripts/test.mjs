#!/usr/bin/env node
// The whole suite, as `npm test` runs it: mediasoup's own test suite against our worker
// (scripts/mediasoup-tests.mjs), type check, lint, layering, then the jest tiers
// (unit, integration, e2e), and unit + integration again on the current Node LTS. Stops at
// the first failing stage. Ends with a plain "N passed, N failed" line.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);
const only = process.argv.slice(2); // e.g. `npm test -- unit integration`, `-- lts` or `-- mediasoup`

function stage(name, cmd, args) {
  process.stderr.write(`\n[test] ── ${name} ──\n`);
  const started = Date.now();
  const r = spawnSync(cmd, args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, FORCE_COLOR: process.env.CI ? '0' : '1' },
  });
  process.stderr.write(
    `[test] ${name}: ${r.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return r.status === 0;
}

const tiers = ['unit', 'integration', 'e2e'].filter((t) => only.length === 0 || only.includes(t));
const checks = only.length === 0;
let ok = true;
// mediasoup's own test suite against the worker we build, before our tests rely on it.
if (checks || only.includes('mediasoup')) {
  ok &&= stage('mediasoup test suite', process.execPath, [path.join(ROOT, 'scripts', 'mediasoup-tests.mjs')]);
}
if (checks) {
  ok &&= stage('typecheck', bin('tsc'), ['-p', 'tsconfig.json']);
  ok &&= stage('lint', bin('eslint'), ['--max-warnings=0', '.']);
  ok &&= stage('format', bin('prettier'), ['--check', '--log-level=warn', '.']);
  ok &&= stage('layering', process.execPath, [path.join(ROOT, 'scripts', 'check-layers.mjs')]);
}
let passed = 0;
let failed = 0;
for (const tier of tiers) {
  if (!ok) break;
  const out = path.join(os.tmpdir(), `jest-${tier}-${process.pid}.json`);
  // Integration and e2e tests start real processes (redis-server, mediasoup workers,
  // Chromium); one file at a time keeps 2 cores from being oversubscribed.
  const args = ['--selectProjects', tier, '--json', `--outputFile=${out}`, ...(tier === 'unit' ? [] : ['--runInBand'])];
  ok = stage(`jest ${tier}`, bin('jest'), args) && ok;
  if (fs.existsSync(out)) {
    const res = JSON.parse(fs.readFileSync(out, 'utf8'));
    passed += res.numPassedTests;
    failed += res.numFailedTests;
    fs.rmSync(out);
    if (res.numTotalTests === 0) {
      process.stderr.write(`[test] jest ${tier} ran no test\n`);
      ok = false;
    }
  }
}
// The unit and integration suites again on the current Node LTS (from the npm registry,
// scripts/node-lts.mjs), so the product is proven on it as well as on the oldest Node
// package.json accepts.
if (ok && (checks || only.includes('lts'))) {
  const { ensureNodeLts } = await import('./node-lts.mjs');
  const lts = ensureNodeLts();
  const version = spawnSync(lts, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const out = path.join(os.tmpdir(), `jest-lts-${process.pid}.json`);
  const args = [bin('jest'), '--selectProjects', 'unit', 'integration', '--runInBand', '--json', `--outputFile=${out}`];
  ok = stage(`jest unit + integration on Node ${version}`, lts, args) && ok;
  if (fs.existsSync(out)) {
    const res = JSON.parse(fs.readFileSync(out, 'utf8'));
    passed += res.numPassedTests;
    failed += res.numFailedTests;
    fs.rmSync(out);
  }
}
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(ok && failed === 0 ? 0 : 1);
