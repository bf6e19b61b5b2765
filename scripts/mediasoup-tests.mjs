#!/usr/bin/env node
// mediasoup's own test suite, as its npm package ships it compiled
// (node_modules/mediasoup/node/lib/tests/test-*.js), run with jest against the worker that
// scripts/build-worker.mjs built and installed: proof that our build of the worker behaves
// as upstream's does.
//
// The suite's certificate fixtures live in upstream's repository, not in the package: a
// self-signed certificate and key are generated here with openssl into test/data/, where
// the suite looks for them. `pick-port`, a development dependency of mediasoup the suite
// requires, is stood in for by tests/mediasoup-suite/pick-port.js (binding port 0). Tests
// known to fail here are listed, each with its reason, in
// tests/mediasoup-known-failures.json; the stage fails on any other failure, and on a
// listed test that passes (the list must stay true). Uses only Node's standard library.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// `tests/` in the 3.12 releases, `test/` from 3.13 on.
const TEST_DIR = ['tests', 'test']
  .map((d) => path.join(ROOT, 'node_modules', 'mediasoup', 'node', 'lib', d))
  .find((d) => fs.existsSync(d));
const KNOWN = path.join(ROOT, 'tests', 'mediasoup-known-failures.json');

function log(msg) {
  process.stderr.write(`[mediasoup-tests] ${msg}\n`);
}

function fixtures() {
  const data = path.join(TEST_DIR, 'data');
  if (fs.existsSync(path.join(data, 'dtls-cert.pem')) && fs.existsSync(path.join(data, 'dtls-key.pem'))) return;
  fs.mkdirSync(data, { recursive: true });
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=mediasoup-test',
      '-keyout',
      path.join(data, 'dtls-key.pem'),
      '-out',
      path.join(data, 'dtls-cert.pem'),
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl could not make the test certificate: ${r.stderr || r.error}`);
}

/** `file › full test name` for each test in jest's JSON result, with its status. */
function outcomes(result) {
  const out = new Map();
  for (const file of result.testResults) {
    const name = path.basename(file.name);
    if (file.assertionResults.length === 0 && file.status === 'failed') out.set(`${name} › (file)`, 'failed');
    for (const a of file.assertionResults) out.set(`${name} › ${a.fullName}`, a.status);
  }
  return out;
}

export function runMediasoupTests() {
  if (!TEST_DIR) throw new Error("mediasoup's shipped tests are missing: is mediasoup installed?");
  fixtures();
  const known = JSON.parse(fs.readFileSync(KNOWN, 'utf8'));
  const out = path.join(os.tmpdir(), `mediasoup-tests-${process.pid}.json`);
  // The package's tests are plain CommonJS: no transform; node_modules is where they live.
  const config = {
    rootDir: TEST_DIR,
    testEnvironment: 'node',
    transform: {},
    testMatch: ['<rootDir>/test-*.js'],
    testPathIgnorePatterns: [],
    moduleNameMapper: { '^pick-port$': path.join(ROOT, 'tests', 'mediasoup-suite', 'pick-port.js') },
    haste: { retainAllFiles: true },
  };
  log(
    `running ${TEST_DIR}/test-*.js against ${path.relative(ROOT, path.join(ROOT, 'node_modules', 'mediasoup', 'worker', 'out', 'Release', 'mediasoup-worker'))}`,
  );
  spawnSync(
    path.join(ROOT, 'node_modules', '.bin', 'jest'),
    ['--config', JSON.stringify(config), '--runInBand', '--json', `--outputFile=${out}`],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  if (!fs.existsSync(out)) throw new Error('jest wrote no result');
  const result = JSON.parse(fs.readFileSync(out, 'utf8'));
  fs.rmSync(out);
  const seen = outcomes(result);
  const unexpected = [...seen].filter(([k, s]) => s === 'failed' && !(k in known)).map(([k]) => k);
  const nowPassing = Object.keys(known).filter((k) => seen.get(k) === 'passed');
  const missing = Object.keys(known).filter((k) => !seen.has(k));
  for (const k of Object.keys(known)) if (seen.get(k) === 'failed') log(`known failure: ${k} (${known[k]})`);
  for (const k of unexpected) log(`FAILED: ${k}`);
  for (const k of nowPassing) log(`listed as failing but passed (remove it from the list): ${k}`);
  for (const k of missing) log(`listed but not run (remove it from the list): ${k}`);
  const passed = [...seen.values()].filter((s) => s === 'passed').length;
  log(`${passed} passed, ${seen.size - passed} not passed of ${seen.size}`);
  return { passed, failed: unexpected.length + nowPassing.length + missing.length };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  try {
    const { failed } = runMediasoupTests();
    process.exit(failed === 0 ? 0 : 1);
  } catch (err) {
    process.stderr.write(`\n[mediasoup-tests] ERROR: ${err.message}\n\n`);
    process.exit(1);
  }
}
