#!/usr/bin/env node
// `npm start` and `npm run demo`: one node process from start to stop. It runs the set-up
// (scripts/prepare.mjs) to its end, then loads the server in this same process, so a
// SIGTERM or SIGINT sent to `npm start` (systemd, Docker, a supervisor, Ctrl-C) reaches
// the server itself, which stops its workers, its Redis and its coturn with it. (A shell
// line `prepare && node server` would leave the shell in between, which does not pass the
// signal on.) package.json runs this with `exec`, so npm's child is this process.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = process.argv.includes('--demo');

const prep = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'prepare.mjs'), '--for=start'], {
  cwd: ROOT,
  stdio: 'inherit',
});
if (prep.status !== 0) process.exit(prep.status ?? 1);

// What `node --import tsx` does: TypeScript from here on.
await import('tsx');
await import(path.join(ROOT, demo ? 'scripts/demo.ts' : 'server/main.ts'));
