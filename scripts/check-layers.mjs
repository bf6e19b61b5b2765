#!/usr/bin/env node
// Layering: sfu/ never imports server/, and server/ reaches sfu/ only through its index
// (sfu/index.ts is the media engine's whole API); client/ imports only the shared
// contract (server/contract); server/contract imports nothing of ours; scripts/ never
// imports tests/ (what both need lives in scripts/); and no import cycles anywhere.
// madge reads the import graph from the TypeScript and .mjs sources.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const res = await madge(['server', 'sfu', 'client/src', 'scripts', 'tests'], {
  baseDir: ROOT,
  fileExtensions: ['ts', 'mjs'],
  tsConfig: path.join(ROOT, 'tsconfig.json'),
  detectiveOptions: { ts: { skipTypeImports: false } },
});
const graph = res.obj();
const problems = [];
for (const [from, deps] of Object.entries(graph)) {
  for (const to of deps) {
    if (from.startsWith('sfu/') && to.startsWith('server/'))
      problems.push(`${from} → ${to}: sfu/ must not import server/`);
    if (from.startsWith('client/') && !to.startsWith('client/') && !to.startsWith('server/contract/'))
      problems.push(`${from} → ${to}: client/ may import only server/contract/`);
    if (from.startsWith('server/contract/') && !to.startsWith('server/contract/'))
      problems.push(`${from} → ${to}: the contract must stand alone`);
    if (from.startsWith('server/') && to.startsWith('sfu/') && to !== 'sfu/index.ts')
      problems.push(`${from} → ${to}: server/ reaches sfu/ only through sfu/index.ts`);
    if (from.startsWith('scripts/') && to.startsWith('tests/'))
      problems.push(`${from} → ${to}: scripts/ must not import tests/`);
  }
}
for (const cycle of res.circular()) problems.push(`import cycle: ${cycle.join(' → ')}`);
const files = Object.keys(graph).length;
if (files < 5) problems.push(`only ${files} files read: the check is not seeing the sources`);
if (problems.length) {
  process.stderr.write(`layering check failed:\n  ${problems.join('\n  ')}\n`);
  process.exit(1);
}
process.stderr.write(
  `layering ok: ${files} modules, no cycles, sfu/ ↛ server/, server/ → sfu/index.ts only, client/ → contract only, scripts/ ↛ tests/\n`,
);
