#!/usr/bin/env node
// Bundles the browser pages (client/src/pages/*.ts) into build/client with esbuild
// (`--outdir <dir>`: elsewhere, e.g. a test's own folder, leaving the served build alone).
// Targets old office PCs' browsers as far as WebRTC allows (Chrome 111, Firefox 115).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
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
  // Written below, each file whole (see `put`), after the compressed files of the bundle
  // it replaces are gone.
  write: false,
  // Every chunk, a lazily loaded one too, is named by its content hash: the server
  // caches `chunk-*.js` for good (server/http/pages.ts).
  chunkNames: 'chunk-[hash]',
  define: { 'process.env.NODE_ENV': '"production"' },
  // Runs before anything else in every page: see the file.
  inject: [path.join(ROOT, 'client', 'src', 'csp-safe-zod.ts')],
});
// A file appears whole or not at all (written aside, then renamed): a server reading
// build/client during a rebuild never sends half a bundle.
const put = async (file, data) => {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, data);
  await fs.promises.rename(tmp, file);
};
await fs.promises.mkdir(outdir, { recursive: true });
const previousChunks = await readChunkList();
// A compressed file is only ever newer than its bundle: an earlier build's `.br`/`.gz` are
// removed before the bundle is rewritten, and the new ones are written after it. The
// server sends a compressed file only if it is not older than its `.js`
// (server/http/pages.ts), so a build stopped half-way leaves nothing stale to serve.
const scripts = result.outputFiles.filter((f) => f.path.endsWith('.js'));
await Promise.all(scripts.flatMap((f) => ['.br', '.gz'].map((ext) => fs.promises.rm(f.path + ext, { force: true }))));
await Promise.all(result.outputFiles.map((f) => put(f.path, f.contents)));
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
await put(path.join(outdir, 'preload.json'), `${JSON.stringify(preload, null, 2)}\n`);
// Each bundle compressed once here (brotli and gzip, on libuv's thread pool, all bundles
// at once), served as is to browsers that take it (server/http/pages.ts): the server then
// spends no CPU compressing the same bytes for every page load, which a storm of 420
// points joining at once would.
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);
await Promise.all(
  scripts.flatMap(({ path: f, contents: raw }) => [
    brotli(raw, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
    }).then((br) => put(`${f}.br`, br)),
    gzip(raw, { level: 9 }).then((gz) => put(`${f}.gz`, gz)),
  ]),
);
await pruneChunks(result.outputFiles.map((f) => path.basename(f.path)));
const bytes = Object.entries(result.metafile.outputs)
  .filter(([f]) => f.endsWith('.js'))
  .reduce((n, [, o]) => n + o.bytes, 0);
process.stderr.write(
  `[build-client] ${entryPoints.length} pages, ${(bytes / 1024).toFixed(0)} KiB of JS in ${Date.now() - started} ms → ${path.relative(ROOT, outdir) || outdir}\n`,
);

/**
 * The hashed chunks an earlier build wrote (`chunks.json`, written by `pruneChunks`), or
 * null when the folder has no list: not a folder this script built, or built before it
 * kept one.
 */
async function readChunkList() {
  try {
    const list = JSON.parse(await fs.promises.readFile(path.join(outdir, 'chunks.json'), 'utf8')).chunks;
    return Array.isArray(list) ? list.filter((f) => typeof f === 'string') : null;
  } catch {
    return null;
  }
}

/**
 * Earlier builds' hashed chunks would otherwise pile up in the output folder for ever: once
 * this build's files are all in place, a `chunk-<hash>.js` (with its map and compressed
 * copies) that neither this build nor the one before it wrote is removed. The one before
 * stays for a page a browser loaded from it before a restart, which may still import one
 * of its chunks lazily. Files a build abandoned while writing them (`<file>.<pid>.tmp`,
 * see `put`) go after an hour. Nothing else is touched, nothing below the folder, and
 * nothing at all in a folder without the list of the build before (`chunks.json`).
 */
async function pruneChunks(written) {
  const HASHED = /^(chunk-[A-Z0-9]+\.js)(\.map|\.br|\.gz)?$/;
  const ABANDONED = /^([A-Za-z0-9_-]+\.js(\.map|\.br|\.gz)?|preload\.json|chunks\.json)\.\d+\.tmp$/;
  const current = written.filter((f) => HASHED.test(f) && f.endsWith('.js'));
  if (previousChunks) {
    const keep = new Set([...current, ...previousChunks]);
    const hourAgo = Date.now() - 3600_000;
    for (const entry of await fs.promises.readdir(outdir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = path.join(outdir, entry.name);
      const chunk = HASHED.exec(entry.name)?.[1];
      const stale = chunk
        ? !keep.has(chunk)
        : ABANDONED.test(entry.name) &&
          ((await fs.promises.stat(file).catch(() => null))?.mtimeMs ?? Infinity) < hourAgo;
      if (stale) await fs.promises.rm(file, { force: true });
    }
  }
  await put(path.join(outdir, 'chunks.json'), `${JSON.stringify({ chunks: current.sort() }, null, 2)}\n`);
}
