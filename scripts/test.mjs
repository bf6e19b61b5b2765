#!/usr/bin/env node
// The whole suite, as `npm test` runs it: mediasoup's own test suite against our worker
// (scripts/mediasoup-tests.mjs), type check, lint, layering, then the jest tiers
// (unit, integration, e2e), and unit + integration again on the current Node LTS. Stops at
// the first failing stage. Ends with the tests that passed only on a second run, if any,
// and a plain "N passed, N failed" line.
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
let passed = 0;
let failed = 0;
/** Tests that failed once and passed on their second run (tests/helpers/retry.ts). */
const retried = [];

/** Adds a jest JSON result file's counts and retried tests to the totals; false if it ran no test. */
function takeResults(out, label) {
  if (!fs.existsSync(out)) return true;
  const res = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(out);
  passed += res.numPassedTests;
  failed += res.numFailedTests;
  for (const file of res.testResults)
    for (const t of file.assertionResults)
      if (t.status === 'passed' && t.invocations > 1) {
        const why = String(t.retryReasons?.[0] ?? '').split('\n')[0];
        retried.push(`${label} ${path.relative(ROOT, file.name)} › ${t.fullName}: ${why}`);
      }
  return res.numTotalTests > 0;
}
// mediasoup's own test suite against the worker we build, before our tests rely on it.
// Its counts join the final line (its known failures, listed with their reasons, do not).
if (checks || only.includes('mediasoup')) {
  process.stderr.write('\n[test] ── mediasoup test suite ──\n');
  const started = Date.now();
  try {
    const { runMediasoupTests } = await import('./mediasoup-tests.mjs');
    const r = runMediasoupTests();
    passed += r.passed;
    failed += r.failed;
    ok = r.failed === 0;
  } catch (err) {
    process.stderr.write(`[test] ${err.message}\n`);
    ok = false;
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(`[test] mediasoup test suite: ${ok ? 'ok' : 'FAILED'} in ${secs} s\n`);
}
if (checks) {
  ok &&= stage('typecheck', bin('tsc'), ['-p', 'tsconfig.json']);
  ok &&= stage('lint', bin('eslint'), ['--max-warnings=0', '.']);
  ok &&= stage('format', bin('prettier'), ['--check', '--log-level=warn', '.']);
  ok &&= stage('layering', process.execPath, [path.join(ROOT, 'scripts', 'check-layers.mjs')]);
}
for (const tier of tiers) {
  if (!ok) break;
  const out = path.join(os.tmpdir(), `jest-${tier}-${process.pid}.json`);
  // Integration and e2e tests start real processes (redis-server, mediasoup workers,
  // Chromium); one file at a time keeps 2 cores from being oversubscribed.
  // --forceExit: a test whose first run was retried can leave that run's handles open
  // (jest prints which it saw); once every test has its result, the tier must end.
  const args = [
    '--selectProjects',
    tier,
    '--json',
    `--outputFile=${out}`,
    '--forceExit',
    ...(tier === 'unit' ? [] : ['--runInBand']),
  ];
  ok = stage(`jest ${tier}`, bin('jest'), args) && ok;
  if (!takeResults(out, tier)) {
    process.stderr.write(`[test] jest ${tier} ran no test\n`);
    ok = false;
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
  const args = [
    bin('jest'),
    ...['--selectProjects', 'unit', 'integration', '--runInBand', '--forceExit', '--json', `--outputFile=${out}`],
  ];
  ok = stage(`jest unit + integration on Node ${version}`, lts, args) && ok;
  takeResults(out, `Node ${version}`);
}
if (retried.length > 0) {
  process.stderr.write(`\n[test] passed only on a second run (${retried.length}); their first error is above:\n`);
  for (const line of retried) process.stderr.write(`[test]   ${line}\n`);
}
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(ok && failed === 0 ? 0 : 1);
