#!/usr/bin/env node
// Bundles the browser pages (client/src/pages/*.ts) into build/client with esbuild
// (`--outdir <dir>`: elsewhere, e.g. a test's own folder, leaving the served build alone;
// `--pages <dir>`: other entries, e.g. a test's small pages; `--fast-compression`: brotli
// and gzip at a low level, for a test that checks which files a build leaves, not their size;
// `--metafile <file>`: esbuild's account of the build's inputs and outputs, for a test).
// The folder's `build.json` names the checkout built (commit, whether the tree differed,
// a digest of the difference: scripts/lib/checkout.cjs), read before bundling, written last,
// so that a benchmark of a build folder can say which source it measured.
// Targets old office PCs' browsers as far as WebRTC allows (Chrome 111, Firefox 115).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import zlib from 'node:zlib';
import { build } from 'esbuild';
import { readCheckout } from './lib/checkout.cjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    outdir: { type: 'string' },
    pages: { type: 'string' },
    'fast-compression': { type: 'boolean' },
    metafile: { type: 'string' },
  },
});
const pagesDir = path.resolve(args.pages ?? path.join(ROOT, 'client', 'src', 'pages'));
const outdir = path.resolve(args.outdir ?? path.join(ROOT, 'build', 'client'));
const entryPoints = fs
  .readdirSync(pagesDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => path.join(pagesDir, f));

const started = Date.now();
// The source built, read before esbuild reads it: a checkout or an edit while the build
// runs (compressing takes a while) must not be recorded as what was built.
const checkout = readCheckout(ROOT);
const TARGET = ['chrome111', 'firefox115', 'safari16'];
// The boot script (client/src/boot/boot.ts): a classic script of its own, run before the
// page's modules, which reloads a page whose modules failed to load. Not a page's entry.
if (entryPoints.some((f) => path.basename(f) === 'boot.ts')) {
  process.stderr.write('[build-client] failed: a page named boot.ts would overwrite the boot script (boot.js)\n');
  process.exit(1);
}
const bootBuild = build({
  entryPoints: [path.join(ROOT, 'client', 'src', 'boot', 'boot.ts')],
  outfile: path.join(outdir, 'boot.js'),
  bundle: true,
  format: 'iife',
  minify: true,
  sourcemap: true,
  target: TARGET,
  logLevel: 'warning',
  write: false,
});
const result = await build({
  entryPoints,
  outdir,
  bundle: true,
  format: 'esm',
  splitting: true,
  minify: true,
  sourcemap: true,
  target: TARGET,
  logLevel: 'warning',
  metafile: true,
  // Written below, each file whole (see `put`), after the compressed files of the bundle
  // it replaces are gone.
  write: false,
  // Every chunk, a lazily loaded one too, is named by its content hash: the server
  // caches `chunk-*.js` for good (server/http/pages.ts).
  chunkNames: 'chunk-[hash]',
  define: { 'process.env.NODE_ENV': '"production"' },
  // Run before anything else in every page: see the files.
  inject: [path.join(ROOT, 'client', 'src', 'csp-safe-zod.ts'), path.join(ROOT, 'client', 'src', 'boot', 'started.ts')],
});
result.outputFiles.push(...(await bootBuild).outputFiles);
// A file appears whole or not at all (written aside, then renamed): a server reading
// build/client during a rebuild never sends half a bundle.
const put = async (file, data) => {
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, data);
  await fs.promises.rename(tmp, file);
};
// The server's /bundle route serves `.js` and `.map` files only (server/http/pages.ts): any
// other output (CSS, an asset) would answer 404 in the browser, so it fails the build here.
const unserved = result.outputFiles.map((f) => f.path).filter((f) => !/\.(js|map)$/.test(f));
if (unserved.length > 0) {
  process.stderr.write(
    `[build-client] failed: esbuild emitted ${unserved.map((f) => path.relative(outdir, f)).join(', ')}, but ` +
      '/bundle serves only .js and .map files (server/http/pages.ts): serve that type there first\n',
  );
  process.exit(1);
}
await fs.promises.mkdir(outdir, { recursive: true });
const HASHED = /^(chunk-[A-Z0-9]+\.js)(\.map|\.br|\.gz)?$/;
const current = result.outputFiles
  .map((f) => path.basename(f.path))
  .filter((f) => HASHED.test(f) && f.endsWith('.js'))
  .sort();
// The list of chunks to keep goes first, marked as a build under way; then the outputs;
// then the finished build's list, unmarked; last, the earlier builds' chunks that neither
// this build nor the last different one before it wrote are removed (see `pruneChunks`).
// A list found still marked is a build that never finished: neither its chunks nor those
// it named as before it are known to be the last whole build's, so this build keeps every
// chunk that list names (see `merged`). A build in a folder without a list marks its own
// with `previous: null`, the build before unknown: a build finding that (the first one
// killed half-way) prunes nothing, as the first did not, for the folder's chunks may be the
// last whole build's, written before the list was kept or after it was deleted.
const found = await readChunkList();
const unknownPrevious = !found || found.previous === null;
const changed = !found || found.building || found.chunks.join('\n') !== current.join('\n');
const chunkList = !changed
  ? found
  : { chunks: current, previous: found?.building ? merged(found) : (found?.chunks ?? []) };
if (changed)
  await writeChunkList({ chunks: current, previous: unknownPrevious ? null : merged(found), building: true });
// A compressed file is only ever newer than its bundle: an earlier build's `.br`/`.gz` are
// removed before the bundle is rewritten, and the new ones are written after it. The
// server sends a compressed file only if it is not older than its `.js`
// (server/http/pages.ts), so a build stopped half-way leaves nothing stale to serve.
const scripts = result.outputFiles.filter((f) => f.path.endsWith('.js'));
// Gone while the outputs change: a build stopped half-way names no checkout.
await fs.promises.rm(path.join(outdir, 'build.json'), { force: true });
await Promise.all(scripts.flatMap((f) => ['.br', '.gz'].map((ext) => fs.promises.rm(f.path + ext, { force: true }))));
await Promise.all(result.outputFiles.map((f) => put(f.path, f.contents)));
// Each page's shared chunks, all it imports statically (directly or through another
// chunk): the server lists them in the page's HTML as <link rel="modulepreload">
// (server/http/pages.ts), so the browser fetches them at once rather than after the
// page's entry has loaded and been parsed. Listed too, with theirs: the modules a page
// imports lazily but needs soon after it starts (PRELOADED_LAZY), fetched at once but run
// only when imported, so the page's first line does not wait for them.
const PRELOADED_LAZY = new Set([path.join(ROOT, 'client', 'src', 'rtc', 'mediasoup.ts')]);
const outputs = result.metafile.outputs;
const preloadedLazy = (f) => {
  const entry = outputs[f]?.entryPoint;
  return entry !== undefined && PRELOADED_LAZY.has(path.resolve(entry));
};
const preload = {};
for (const [file, o] of Object.entries(outputs)) {
  if (!o.entryPoint) continue;
  const seen = new Set();
  const walk = (f) => {
    for (const i of outputs[f]?.imports ?? []) {
      const wanted = i.kind === 'import-statement' || (i.kind === 'dynamic-import' && preloadedLazy(i.path));
      if (!wanted || seen.has(i.path)) continue;
      seen.add(i.path);
      walk(i.path);
    }
  };
  walk(file);
  preload[path.basename(file, '.js')] = [...seen].map((f) => path.relative(outdir, path.resolve(f))).sort();
}
await put(path.join(outdir, 'preload.json'), `${JSON.stringify(preload, null, 2)}\n`);
if (args.metafile) await fs.promises.writeFile(args.metafile, JSON.stringify(result.metafile));
// Each bundle compressed once here (brotli and gzip, on libuv's thread pool, all bundles
// at once), served as is to browsers that take it (server/http/pages.ts): the server then
// spends no CPU compressing the same bytes for every page load, which a storm of 420
// points joining at once would.
const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);
await Promise.all(
  scripts.flatMap(({ path: f, contents: raw }) => [
    brotli(raw, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: args['fast-compression'] ? 1 : 11,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    }).then((br) => put(`${f}.br`, br)),
    gzip(raw, { level: args['fast-compression'] ? 1 : 9 }).then((gz) => put(`${f}.gz`, gz)),
  ]),
);
if (changed) await writeChunkList(chunkList);
if (!unknownPrevious) await pruneChunks(chunkList);
await put(path.join(outdir, 'build.json'), `${JSON.stringify(checkout, null, 2)}\n`);
const bytes = Object.entries(result.metafile.outputs)
  .filter(([f]) => f.endsWith('.js'))
  .reduce((n, [, o]) => n + o.bytes, 0);
process.stderr.write(
  `[build-client] ${entryPoints.length} pages, ${(bytes / 1024).toFixed(0)} KiB of JS in ${Date.now() - started} ms → ${path.relative(ROOT, outdir) || outdir}\n`,
);

/**
 * The hashed chunks of the build in the folder and of the *different* build before it
 * (`chunks.json`: `{ chunks, previous }`, with `building: true` while a build writes its
 * outputs), or null when the folder has no list: not a folder this script built, or built
 * before it kept one (a list without `previous` is read as having none). `previous` is null
 * in a marked list whose build found no list: the build before it is unknown.
 */
async function readChunkList() {
  const names = (v) => (Array.isArray(v) ? v.filter((f) => typeof f === 'string') : null);
  try {
    const list = JSON.parse(await fs.promises.readFile(path.join(outdir, 'chunks.json'), 'utf8'));
    const chunks = names(list.chunks);
    const building = list.building === true;
    const previous = building && list.previous === null ? null : (names(list.previous) ?? []);
    return chunks && { chunks, previous, building };
  } catch {
    return null;
  }
}

/**
 * `chunks.json` holds this build's chunks and `previous`, those of the last build whose
 * chunks differed: every `npm start` rebuilds, and a rebuild with the same output leaves
 * the list as it is, so a page loaded before a deploy can still import its build's chunks
 * lazily across any number of restarts.
 */
function writeChunkList(list) {
  return put(path.join(outdir, 'chunks.json'), `${JSON.stringify(list, null, 2)}\n`);
}

/**
 * What the list holds while a build writes its outputs: as `previous`, every chunk the
 * folder's list named (its two builds', or all that a build killed half-way kept). A build
 * killed half-way leaves entries on disk that import any of them, and the next build keeps
 * all of them: until it is done, and when it is done, too, if the list it found was a
 * killed build's (pages loaded from the last whole build, or from the killed one's entries,
 * may still import them). Once a build whose list was whole has its outputs in place,
 * `previous` is narrowed to the build before.
 */
function merged(found) {
  const all = new Set(found ? [...found.chunks, ...(found.previous ?? [])] : []);
  return [...all].filter((f) => !current.includes(f)).sort();
}

/**
 * Earlier builds' hashed chunks would otherwise pile up in the output folder for ever: once
 * this build's files are all in place, a `chunk-<hash>.js` (with its map and compressed
 * copies) that neither this build nor the last different one before it wrote is removed
 * (see `writeChunkList`). The one before stays for a page a browser loaded from it before
 * a deploy, which may still import one of its chunks lazily. Files a build abandoned while
 * writing them (`<file>.<pid>.tmp`, see `put`) go after an hour. Nothing else is touched,
 * nothing below the folder, and nothing at all in a folder without the list of the build
 * before (`chunks.json`), or whose list a build killed half-way marked with the build before
 * it unknown (`previous: null`).
 */
async function pruneChunks({ chunks, previous }) {
  const ABANDONED = /^([A-Za-z0-9_-]+\.js(\.map|\.br|\.gz)?|preload\.json|chunks\.json|build\.json)\.\d+\.tmp$/;
  const keep = new Set([...chunks, ...previous]);
  const hourAgo = Date.now() - 3600_000;
  for (const entry of await fs.promises.readdir(outdir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(outdir, entry.name);
    const chunk = HASHED.exec(entry.name)?.[1];
    const stale = chunk
      ? !keep.has(chunk)
      : ABANDONED.test(entry.name) && ((await fs.promises.stat(file).catch(() => null))?.mtimeMs ?? Infinity) < hourAgo;
    if (stale) await fs.promises.rm(file, { force: true });
  }
}
