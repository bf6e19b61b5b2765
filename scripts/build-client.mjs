#!/usr/bin/env node
// Bundles the browser pages (client/src/pages/*.ts) into build/client with esbuild
// (`--outdir <dir>`: elsewhere, e.g. a test's own folder, leaving the served build alone).
// Targets old office PCs' browsers as far as WebRTC allows (Chrome 111, Firefox 115).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pagesDir = path.join(ROOT, 'client', 'src', 'pages');
const { values: args } = parseArgs({ options: { outdir: { type: 'string' } } });
const outdir = path.resolve(args.outdir ?? path.join(ROOT, 'build', 'client'));
const entryPoints = fs
  .readdirSync(pagesDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join(pagesDir, f));

const started = Date.now();
const result = await build({
  entryPoints,
  outdir,
  bundle: true,
  format: 'esm',
  splitting: true,
  minify: true,
  sourcemap: true,
  target: ['chrome111', 'firefox115', 'safari16'],
  logLevel: 'warning',
  metafile: true,
  // Every chunk, a lazily loaded one too, is named by its content hash: the server
  // caches `chunk-*.js` for good (server/http/pages.ts).
  chunkNames: 'chunk-[hash]',
  define: { 'process.env.NODE_ENV': '"production"' },
  // Runs before anything else in every page: see the file.
  inject: [path.join(ROOT, 'client', 'src', 'csp-safe-zod.ts')],
});
// Each page's shared chunks, all it imports statically (directly or through another
// chunk): the server lists them in the page's HTML as <link rel="modulepreload">
// (server/http/pages.ts), so the browser fetches them at once rather than after the
// page's entry has loaded and been parsed.
const outputs = result.metafile.outputs;
const preload = {};
for (const [file, o] of Object.entries(outputs)) {
  if (!o.entryPoint) continue;
  const seen = new Set();
  const walk = (f) => {
    for (const i of outputs[f]?.imports ?? []) {
      if (i.kind !== 'import-statement' || seen.has(i.path)) continue;
      seen.add(i.path);
      walk(i.path);
    }
  };
  walk(file);
  preload[path.basename(file, '.js')] = [...seen].map((f) => path.relative(outdir, path.resolve(f))).sort();
}
fs.writeFileSync(path.join(outdir, 'preload.json'), `${JSON.stringify(preload, null, 2)}\n`);
// Each bundle compressed once here (brotli and gzip), served as is to browsers that take
// it (server/http/pages.ts): the server then spends no CPU compressing the same bytes for
// every page load, which a storm of 420 points joining at once would.
const scripts = Object.keys(outputs).filter((f) => f.endsWith('.js'));
await Promise.all(
  scripts.map(async (f) => {
    const raw = await fs.promises.readFile(f);
    const br = zlib.brotliCompressSync(raw, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
    });
    await fs.promises.writeFile(`${f}.br`, br);
    await fs.promises.writeFile(`${f}.gz`, zlib.gzipSync(raw, { level: 9 }));
  }),
);
const bytes = Object.entries(result.metafile.outputs)
  .filter(([f]) => f.endsWith('.js'))
  .reduce((n, [, o]) => n + o.bytes, 0);
process.stderr.write(
  `[build-client] ${entryPoints.length} pages, ${(bytes / 1024).toFixed(0)} KiB of JS in ${Date.now() - started} ms → ${path.relative(ROOT, outdir) || outdir}\n`,
);
