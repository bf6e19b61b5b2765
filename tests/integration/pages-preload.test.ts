// The pages' HTML lists each page's shared chunks as <link rel="modulepreload">
// (server/http/pages.ts, from the list scripts/build-client.mjs writes), so the browser
// fetches them with the page's entry rather than after it: the real build, served over HTTP.
// A single server also says it is alone, so the point page connects without asking which
// node serves it. Bundles go out as the build compressed them; the build's other files
// are not served, and a build clears away the chunks of builds before the last different
// one (nothing in a folder without the last build's list, nor after a build killed in such
// a folder, nothing a killed build's list named until a build has finished after it). A
// range or precondition that fails answers 416 or 412 as problem+json, as for every file
// (tests/integration/static-files.test.ts).
// Every page starts with the boot script, ahead of its preloads and its entry. The point
// page's static modules hold no mediasoup-client, nor what it pulls in (by the build's
// metafile): that is a chunk it imports lazily, but preloads with the rest.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import express from 'express';
import request from 'supertest';
import pino from 'pino';
import { compressResponses } from '../../server/http/compress';
import { pagesRouter } from '../../server/http/pages';
import { errorHandler, notFoundHandler } from '../../server/http/problem';

const ROOT = path.join(__dirname, '..', '..');
const PAGES = path.join(ROOT, 'client', 'pages');
// A build of its own: rebuilding the served build/client would rename chunks under any
// other test serving it.
const BUNDLE = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-preload-'));
const TOKEN = 'a'.repeat(32);
const META = path.join(os.tmpdir(), `bundle-preload-${process.pid}.meta.json`);

const app = (bundleDir: string, singleNode = false) =>
  express().use(pagesRouter(PAGES, bundleDir, { sourceMaps: false, timeZone: 'Asia/Ho_Chi_Minh', singleNode }));

// What earlier builds left in the folder: the build before this one (its list and one of
// its chunks), an older one's chunk with its map and compressed copies, files the build
// abandoned while writing them, and files that are none of the build's.
const PREVIOUS = ['chunk-PREVIOUSBUILD1.js', 'chunk-PREVIOUSBUILD1.js.br'];
const OLDER = [
  'chunk-OLDERBUILD1.js',
  'chunk-OLDERBUILD1.js.map',
  'chunk-OLDERBUILD1.js.br',
  'chunk-OLDERBUILD1.js.gz',
];
const ABANDONED = ['chunk-OLDERBUILD1.js.br.4242.tmp', 'join.js.4242.tmp', 'preload.json.4242.tmp'];
const OTHERS = ['notes.txt', 'chunk-lowercase.js', 'join.js.4243.tmp'];

beforeAll(() => {
  fs.writeFileSync(path.join(BUNDLE, 'chunks.json'), JSON.stringify({ chunks: ['chunk-PREVIOUSBUILD1.js'] }));
  for (const f of [...PREVIOUS, ...OLDER, ...ABANDONED, ...OTHERS]) fs.writeFileSync(path.join(BUNDLE, f), 'x');
  const longAgo = new Date(Date.now() - 2 * 3600_000);
  for (const f of ABANDONED) fs.utimesSync(path.join(BUNDLE, f), longAgo, longAgo);
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'scripts', 'build-client.mjs'), '--outdir', BUNDLE, '--metafile', META],
    {
      stdio: 'ignore',
    },
  );
}, 120_000);

afterAll(() => {
  fs.rmSync(BUNDLE, { recursive: true, force: true });
  fs.rmSync(META, { force: true });
});

test('the join page preloads every chunk its entry imports, and each is served', async () => {
  const res = await request(app(BUNDLE)).get(`/join/${TOKEN}`).expect(200);
  const links = [...res.text.matchAll(/<link rel="modulepreload" href="\/bundle\/(chunk-[A-Za-z0-9]+\.js)" \/>/g)].map(
    (m) => m[1]!,
  );
  // Every chunk join.js imports is listed (its imports' chunks too), and each exists.
  const entry = fs.readFileSync(path.join(BUNDLE, 'join.js'), 'utf8');
  const imported = [...entry.matchAll(/from\s*"\.\/(chunk-[A-Za-z0-9]+\.js)"/g)].map((m) => m[1]!);
  expect(imported.length).toBeGreaterThan(0);
  for (const chunk of imported) expect(links).toContain(chunk);
  for (const chunk of links) {
    const js = await request(app(BUNDLE)).get(`/bundle/${chunk}`).expect(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
  }
  // Before the entry's own script tag, so the browser asks for them at once.
  expect(res.text.indexOf('modulepreload')).toBeLessThan(res.text.indexOf('<script type="module"'));
});

test("the join page's first line waits for no mediasoup-client, which it preloads and imports lazily", () => {
  const read = (f: string) => fs.readFileSync(path.join(BUNDLE, f), 'utf8');
  /** A module and every chunk it imports statically, directly or through another. */
  const closure = (f: string, seen = new Set<string>()): Set<string> => {
    seen.add(f);
    for (const m of read(f).matchAll(/(?:from|import)\s*"\.\/(chunk-[A-Za-z0-9]+\.js)"/g))
      if (!seen.has(m[1]!)) closure(m[1]!, seen);
    return seen;
  };
  // mediasoup-client's device detection logs this (its strings survive minifying).
  const isMediasoup = (f: string) => read(f).includes('detectDeviceImpl()');
  const first = closure('join.js');
  expect([...first].filter(isMediasoup)).toEqual([]);
  const lazy = [...first].flatMap((f) =>
    [...read(f).matchAll(/import\("\.\/(chunk-[A-Za-z0-9]+\.js)"\)/g)].map((m) => m[1]!),
  );
  const mediasoup = lazy.flatMap((f) => [...closure(f)]).filter(isMediasoup);
  expect(mediasoup).toHaveLength(1);
  const preload = (JSON.parse(read('preload.json')) as Record<string, string[]>).join!;
  for (const f of closure(mediasoup[0]!)) if (f !== 'join.js') expect(preload).toContain(f);
});

test("no file of mediasoup-client is in the join page's static module graph, by the build's own account", () => {
  type Meta = {
    outputs: Record<string, { imports: { path: string; kind: string }[]; inputs: Record<string, unknown> }>;
  };
  const { outputs } = JSON.parse(fs.readFileSync(META, 'utf8')) as Meta;
  const entry = Object.keys(outputs).find((f) => path.basename(f) === 'join.js')!;
  const seen = new Set<string>();
  const walk = (f: string) => {
    seen.add(f);
    for (const i of outputs[f]?.imports ?? []) if (i.kind === 'import-statement' && !seen.has(i.path)) walk(i.path);
  };
  walk(entry);
  expect(seen.size).toBeGreaterThan(1);
  const inputs = [...seen].flatMap((f) => Object.keys(outputs[f]!.inputs));
  expect(inputs.filter((i) => i.endsWith('pages/join.ts'))).toHaveLength(1);
  // mediasoup-client and what its device and handlers pull in.
  expect(
    inputs.filter((i) => /node_modules\/(mediasoup-client|sdp-transform|h264-profile-level-id|awaitqueue)\//.test(i)),
  ).toEqual([]);
});

test('every page starts with the boot script, a classic one, served and revalidated as the entries', async () => {
  for (const page of ['/host', '/monitor', '/wall', `/join/${TOKEN}`, `/checkin/${TOKEN}`, `/setup/${TOKEN}`]) {
    const html = (await request(app(BUNDLE)).get(page).expect(200)).text;
    const boot = html.indexOf('<script src="/bundle/boot.js"></script>');
    expect(boot).toBeGreaterThan(0);
    for (const later of ['<link rel="modulepreload"', '<script type="module"'])
      expect(html.indexOf(later) === -1 || html.indexOf(later) > boot).toBe(true);
  }
  const js = await request(app(BUNDLE)).get('/bundle/boot.js').set('Accept-Encoding', 'identity').expect(200);
  expect(js.headers['content-type']).toMatch(/javascript/);
  expect(js.headers['cache-control']).toBe('no-cache');
  // Dependency-free and small: no module syntax, nothing imported at run time.
  expect(js.text).not.toMatch(/\bimport\b|\bexport\b/);
  expect(js.text.length).toBeLessThan(4096);
});

test('the join page loads no zod and under 400 KiB of script before its first frame', () => {
  const list = (JSON.parse(fs.readFileSync(path.join(BUNDLE, 'preload.json'), 'utf8')) as Record<string, string[]>)
    .join!;
  let bytes = 0;
  for (const f of ['join.js', ...list]) {
    const js = fs.readFileSync(path.join(BUNDLE, f), 'utf8');
    bytes += fs.statSync(path.join(BUNDLE, f)).size;
    // zod keeps its internals on `._zod` of every schema; the page validates nothing with it.
    expect({ f, zod: /\b_zod\b/.test(js) }).toEqual({ f, zod: false });
  }
  expect(bytes).toBeLessThan(400 * 1024);
});

test('bundles go out as the build compressed them, to browsers that take it', async () => {
  const plain = fs.readFileSync(path.join(BUNDLE, 'join.js'));
  // As Chromium asks; the file sent is the build's own `.br` (supertest decodes it).
  const br = await request(app(BUNDLE)).get('/bundle/join.js').set('Accept-Encoding', 'gzip, deflate, br').expect(200);
  expect(br.headers['content-encoding']).toBe('br');
  expect(br.headers['content-type']).toMatch(/javascript/);
  expect(br.headers['cache-control']).toBe('no-cache');
  expect(br.headers.vary).toMatch(/Accept-Encoding/);
  expect(Number(br.headers['content-length'])).toBe(fs.statSync(path.join(BUNDLE, 'join.js.br')).size);
  expect(zlib.brotliDecompressSync(fs.readFileSync(path.join(BUNDLE, 'join.js.br'))).equals(plain)).toBe(true);
  expect(br.text).toBe(plain.toString('utf8'));
  const gz = await request(app(BUNDLE)).get('/bundle/join.js').set('Accept-Encoding', 'gzip').expect(200);
  expect(gz.headers['content-encoding']).toBe('gzip');
  expect(gz.text).toBe(plain.toString('utf8'));
  const none = await request(app(BUNDLE)).get('/bundle/join.js').set('Accept-Encoding', 'identity').expect(200);
  expect(none.headers['content-encoding']).toBeUndefined();
  expect(none.text).toBe(plain.toString('utf8'));
  // A content-hashed chunk, compressed or not, is cached for good.
  const chunk = /from\s*"\.\/(chunk-[A-Za-z0-9]+\.js)"/.exec(plain.toString('utf8'))![1]!;
  const c = await request(app(BUNDLE)).get(`/bundle/${chunk}`).set('Accept-Encoding', 'br').expect(200);
  expect(c.headers['content-encoding']).toBe('br');
  expect(c.headers['cache-control']).toBe('public, max-age=31536000, immutable');
});

test('an encoding the browser refuses is not sent; HEAD and revalidation as for any file', async () => {
  const gz = await request(app(BUNDLE)).get('/bundle/join.js').set('Accept-Encoding', 'br;q=0, gzip').expect(200);
  expect(gz.headers['content-encoding']).toBe('gzip');
  const none = await request(app(BUNDLE)).get('/bundle/join.js').set('Accept-Encoding', 'gzip;q=0, br;q=0').expect(200);
  expect(none.headers['content-encoding']).toBeUndefined();
  expect(none.headers.vary).toMatch(/Accept-Encoding/);

  const head = await request(app(BUNDLE))
    .head('/bundle/join.js')
    .set('Accept-Encoding', 'gzip, deflate, br')
    .expect(200);
  expect(head.headers['content-encoding']).toBe('br');
  expect(Number(head.headers['content-length'])).toBe(fs.statSync(path.join(BUNDLE, 'join.js.br')).size);

  const first = await request(app(BUNDLE)).get('/bundle/join.js').set('Accept-Encoding', 'br').expect(200);
  const etag = first.headers.etag!;
  expect(etag).toBeTruthy();
  await request(app(BUNDLE)).get('/bundle/join.js').set('Accept-Encoding', 'br').set('If-None-Match', etag).expect(304);
});

describe('a compressed file missing or older than its bundle', () => {
  // As the server runs: the compression middleware compresses on the fly what goes out plain.
  const served = (dir: string) =>
    express()
      .use(compressResponses())
      .use(pagesRouter(PAGES, dir, { sourceMaps: false, timeZone: 'Asia/Ho_Chi_Minh' }));
  let dir: string;
  let plain: Buffer;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-variants-'));
    plain = fs.readFileSync(path.join(BUNDLE, 'join.js'));
    fs.writeFileSync(path.join(dir, 'join.js'), plain);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('no .br: the .gz if the browser takes it, else the current file compressed on the fly', async () => {
    fs.writeFileSync(path.join(dir, 'join.js.gz'), zlib.gzipSync(plain));
    const gz = await request(served(dir)).get('/bundle/join.js').set('Accept-Encoding', 'gzip, br').expect(200);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(Number(gz.headers['content-length'])).toBe(fs.statSync(path.join(dir, 'join.js.gz')).size);
    const br = await request(served(dir)).get('/bundle/join.js').set('Accept-Encoding', 'br').expect(200);
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/Accept-Encoding/);
    expect(br.text).toBe(plain.toString('utf8'));
  });

  test('a .br older than its .js (an earlier build) is not sent', async () => {
    const stale = path.join(dir, 'join.js.br');
    fs.writeFileSync(stale, zlib.brotliCompressSync(Buffer.from('export const stale = 1;\n')));
    const js = fs.statSync(path.join(dir, 'join.js'));
    fs.utimesSync(stale, js.atime, new Date(js.mtimeMs - 60_000));
    const res = await request(served(dir)).get('/bundle/join.js').set('Accept-Encoding', 'br').expect(200);
    expect(res.text).toBe(plain.toString('utf8'));
    // Once rewritten after the bundle, it goes out as is.
    fs.writeFileSync(stale, zlib.brotliCompressSync(plain));
    const fresh = await request(served(dir)).get('/bundle/join.js').set('Accept-Encoding', 'br').expect(200);
    expect(Number(fresh.headers['content-length'])).toBe(fs.statSync(stale).size);
    expect(fresh.text).toBe(plain.toString('utf8'));
  });
});

test("a build removes earlier builds' chunks, except the build before its own", () => {
  const left = fs.readdirSync(BUNDLE);
  for (const f of [...OLDER, ...ABANDONED]) expect({ f, left: left.includes(f) }).toEqual({ f, left: false });
  // Kept: the build before (pages loaded from it may import its chunks), a file still being
  // written (not an hour old), and files not named as the build names them.
  for (const f of [...PREVIOUS, ...OTHERS]) expect({ f, left: left.includes(f) }).toEqual({ f, left: true });
  // The list now names this build's chunks: every one the entries import, all there.
  const { chunks } = JSON.parse(fs.readFileSync(path.join(BUNDLE, 'chunks.json'), 'utf8')) as { chunks: string[] };
  expect(chunks).toEqual(left.filter((f) => /^chunk-[A-Z0-9]+\.js$/.test(f) && f !== PREVIOUS[0]).sort());
  const imported = fs.readFileSync(path.join(BUNDLE, 'join.js'), 'utf8').match(/chunk-[A-Z0-9]+\.js/g)!;
  for (const chunk of imported) expect(chunks).toContain(chunk);
  for (const chunk of chunks) for (const ext of ['', '.br', '.gz', '.map']) expect(left).toContain(chunk + ext);
});

describe('pruning, on small pages of its own', () => {
  // Two pages sharing a module and importing another lazily: each build writes chunks
  // named by the content `version` gives them. Compressed fast: only the files left count.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-pruning-'));
  const out = path.join(dir, 'out');
  const pages = path.join(dir, 'pages');
  beforeAll(() => {
    fs.mkdirSync(pages);
    fs.mkdirSync(out);
    for (const page of ['a', 'b'])
      fs.writeFileSync(
        path.join(pages, `${page}.ts`),
        `import { shared } from '../shared';\nexport const ${page} = () => [shared, import('../lazy')];\n`,
      );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const build = (version: string) => {
    fs.writeFileSync(path.join(dir, 'shared.ts'), `export const shared = '${version} shared';\n`);
    fs.writeFileSync(path.join(dir, 'lazy.ts'), `export const lazy = '${version} lazy';\n`);
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'scripts', 'build-client.mjs'), '--pages', pages, '--outdir', out, '--fast-compression'],
      { stdio: 'ignore' },
    );
    return JSON.parse(fs.readFileSync(path.join(out, 'chunks.json'), 'utf8')) as {
      chunks: string[];
      previous: string[];
    };
  };
  const left = () => fs.readdirSync(out);
  const written = (chunks: string[]) => chunks.flatMap((c) => ['', '.map', '.br', '.gz'].map((ext) => c + ext));
  /**
   * A build that dies after its list, while writing its outputs: a folder stands where one
   * of its entries goes, so renaming the entry into place fails and the process exits.
   */
  const buildKilled = (version: string) => {
    fs.rmSync(path.join(out, 'b.js'));
    fs.mkdirSync(path.join(out, 'b.js'));
    expect(() => build(version)).toThrow();
    fs.rmSync(path.join(out, 'b.js'), { recursive: true });
  };
  /** The build after `next` keeps `next`'s chunks as the build before and drops `whole`'s. */
  const prunesAfter = (whole: { chunks: string[] }, next: { chunks: string[] }, version: string) => {
    const after = build(version);
    expect(after.previous).toEqual(next.chunks);
    const dropped = whole.chunks.filter((c) => !next.chunks.includes(c) && !after.chunks.includes(c));
    expect(dropped.length).toBeGreaterThan(0);
    for (const f of written(dropped)) expect({ f, left: left().includes(f) }).toEqual({ f, left: false });
  };

  test("a build in a folder without the list of the build before removes none of the folder's files", () => {
    // Not a folder this script built (or built before it kept a list): nothing in it is
    // known to be an earlier build's, however it is named or however old.
    const theirs = [...PREVIOUS, ...OLDER, ...ABANDONED, ...OTHERS];
    for (const f of theirs) fs.writeFileSync(path.join(out, f), 'x');
    const longAgo = new Date(Date.now() - 2 * 3600_000);
    for (const f of [...OLDER, ...ABANDONED]) fs.utimesSync(path.join(out, f), longAgo, longAgo);
    // It starts the list: the next build prunes from there.
    const first = build('first');
    for (const f of theirs) expect({ f, left: left().includes(f) }).toEqual({ f, left: true });
    expect(first.chunks.length).toBeGreaterThan(0);
    expect(first.previous).toEqual([]);
    for (const f of written(first.chunks)) expect(left()).toContain(f);
  }, 60_000);

  test("identical rebuilds keep the last different build's chunks; the next change drops them", () => {
    const first = build('first');
    const second = build('second');
    expect(second.chunks.length).toBeGreaterThan(0);
    expect(second.chunks.filter((c) => first.chunks.includes(c))).not.toEqual(second.chunks);
    expect(second.previous).toEqual(first.chunks);
    // Every start rebuilds: a page loaded from the first build before the deploy still
    // finds its chunks after any number of restarts with the same code.
    for (let restart = 0; restart < 2; restart++) {
      expect(build('second')).toEqual(second);
      for (const f of written([...first.chunks, ...second.chunks]))
        expect({ f, left: left().includes(f) }).toEqual({ f, left: true });
    }
    const third = build('third');
    expect(third.previous).toEqual(second.chunks);
    const dropped = first.chunks.filter((c) => !second.chunks.includes(c) && !third.chunks.includes(c));
    expect(dropped.length).toBeGreaterThan(0);
    for (const f of written(dropped)) expect({ f, left: left().includes(f) }).toEqual({ f, left: false });
    for (const f of written([...second.chunks, ...third.chunks])) expect(left()).toContain(f);
  }, 60_000);

  test("a build killed while writing its outputs costs the next build none of the last whole build's chunks", () => {
    const whole = build('whole');
    buildKilled('killed');
    // The next build, of other code: pages loaded from the whole build before the deploy
    // may still import its chunks, whatever the killed build's list named.
    const next = build('next');
    const kept = [...next.chunks, ...next.previous];
    for (const c of whole.chunks) expect({ c, kept: kept.includes(c) }).toEqual({ c, kept: true });
    for (const f of written(whole.chunks)) expect({ f, left: left().includes(f) }).toEqual({ f, left: true });
    // Once a build has finished on a whole list, it keeps the build before only.
    prunesAfter(whole, next, 'after');
  }, 60_000);

  test("a build killed in a folder without a list costs the next build none of the folder's chunks", () => {
    // The last whole build's list is gone (deleted, or written by a version that kept none).
    const whole = build('whole, unlisted');
    fs.rmSync(path.join(out, 'chunks.json'));
    buildKilled('killed, unlisted');
    // Its list says the build before it is unknown, not that there was none.
    expect(JSON.parse(fs.readFileSync(path.join(out, 'chunks.json'), 'utf8'))).toMatchObject({
      previous: null,
      building: true,
    });
    // So the next build removes none of the folder's chunks, the whole build's included.
    const next = build('next, unlisted');
    for (const f of written(whole.chunks)) expect({ f, left: left().includes(f) }).toEqual({ f, left: true });
    // The build after it prunes again, from the list the next one left.
    prunesAfter(whole, next, 'after, unlisted');
  }, 60_000);

  test('a build whose output /bundle would not serve fails, and writes nothing', () => {
    fs.writeFileSync(path.join(dir, 'look.css'), 'body { color: red; }\n');
    fs.writeFileSync(path.join(pages, 'c.ts'), "import '../look.css';\nexport const c = 1;\n");
    const before = left().sort();
    try {
      let stderr = '';
      try {
        execFileSync(
          process.execPath,
          [path.join(ROOT, 'scripts', 'build-client.mjs'), '--pages', pages, '--outdir', out],
          {
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
      } catch (e) {
        stderr = String((e as { stderr: Buffer }).stderr);
      }
      expect(stderr).toMatch(/c\.css.*\/bundle serves only \.js and \.map/);
      expect(left().sort()).toEqual(before);
    } finally {
      fs.rmSync(path.join(pages, 'c.ts'));
    }
  }, 60_000);
});

test('the compressed copies, lists and unfinished files of the build answer 404', async () => {
  const chunk = /from\s*"\.\/(chunk-[A-Za-z0-9]+\.js)"/.exec(
    fs.readFileSync(path.join(BUNDLE, 'join.js'), 'utf8'),
  )![1]!;
  fs.writeFileSync(path.join(BUNDLE, 'join.js.9999.tmp'), 'half a bundle');
  for (const f of [
    'join.js.br',
    'join.js.gz',
    `${chunk}.br`,
    `${chunk}.gz`,
    'join.js.9999.tmp',
    'preload.json',
    'chunks.json',
    'build.json',
    'join.js%2Ebr',
    'join.js%2egz',
  ]) {
    expect(fs.existsSync(path.join(BUNDLE, decodeURIComponent(f)))).toBe(true);
    for (const accept of ['br', 'identity']) {
      const res = await request(app(BUNDLE)).get(`/bundle/${f}`).set('Accept-Encoding', accept);
      expect({ f, accept, status: res.status }).toEqual({ f, accept, status: 404 });
    }
  }
  fs.rmSync(path.join(BUNDLE, 'join.js.9999.tmp'));
  await request(app(BUNDLE)).get('/bundle/join.js').set('Accept-Encoding', 'identity').expect(200);
});

describe('a range or precondition on a compressed bundle', () => {
  // Raw HTTP: a client library would try to decode a part of a brotli stream.
  let server: http.Server;
  let port: number;
  let br: Buffer;
  beforeAll(async () => {
    br = fs.readFileSync(path.join(BUNDLE, 'join.js.br'));
    // As the server runs: the compression middleware first, the API's error handler last.
    server = express()
      .use(compressResponses())
      .use(pagesRouter(PAGES, BUNDLE, { sourceMaps: false, timeZone: 'Asia/Ho_Chi_Minh' }))
      .use(notFoundHandler)
      .use(errorHandler(pino({ level: 'silent' })))
      .listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());
  const get = (headers: Record<string, string>) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      http
        .get(
          { port, host: '127.0.0.1', path: '/bundle/join.js', headers: { 'accept-encoding': 'br', ...headers } },
          (res) => {
            const parts: Buffer[] = [];
            res.on('data', (d: Buffer) => parts.push(d));
            res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
          },
        )
        .on('error', reject);
    });

  test("a range counts the compressed file's bytes", async () => {
    // Offered on the whole file: it is stored compressed, not compressed on the fly.
    const whole = await get({});
    expect(whole.headers['content-encoding']).toBe('br');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    const res = await get({ range: 'bytes=0-99' });
    expect(res.status).toBe(206);
    expect(res.headers['content-encoding']).toBe('br');
    expect(res.headers['content-range']).toBe(`bytes 0-99/${br.length}`);
    expect(res.body.equals(br.subarray(0, 100))).toBe(true);
  });

  test("past its end (though not past the plain file's): 416 for the compressed file", async () => {
    const plain = fs.statSync(path.join(BUNDLE, 'join.js')).size;
    expect(plain).toBeGreaterThan(br.length + 10);
    const res = await get({ range: `bytes=${br.length + 10}-` });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe(`bytes */${br.length}`);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.body.toString('utf8'))).toMatchObject({ status: 416, code: 'range_not_satisfiable' });
  });

  test('on the plain file as on the compressed one: 416 past its end, 412 for a failed precondition', async () => {
    const plain = fs.statSync(path.join(BUNDLE, 'join.js')).size;
    const identity = { 'accept-encoding': 'identity' };
    const part = await get({ ...identity, range: 'bytes=0-99' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-99/${plain}`);
    const past = await get({ ...identity, range: `bytes=${plain + 10}-` });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${plain}`);
    const failed = await get({ ...identity, 'if-match': '"another"' });
    expect(failed.status).toBe(412);
    expect(JSON.parse(failed.body.toString('utf8'))).toMatchObject({ code: 'precondition_failed' });
  });

  test("a precondition is the compressed file's: 412 when it fails, the file when it holds", async () => {
    const first = await get({});
    expect(first.headers['content-encoding']).toBe('br');
    const failed = await get({ 'if-match': '"another"' });
    expect(failed.status).toBe(412);
    expect(failed.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(failed.body.toString('utf8'))).toMatchObject({ status: 412, code: 'precondition_failed' });
    const held = await get({ 'if-match': first.headers.etag! });
    expect(held.status).toBe(200);
    expect(held.body.equals(br)).toBe(true);
  });
});

test('without the list (an older build) the page has no preload and still loads', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
  try {
    const res = await request(app(dir)).get(`/join/${TOKEN}`).expect(200);
    expect(res.text).not.toContain('modulepreload');
    expect(res.text).toContain('<script type="module" src="/bundle/join.js">');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a single server says so in the page; a node of a cluster does not', async () => {
  const alone = await request(app(BUNDLE, true)).get(`/join/${TOKEN}`).expect(200);
  expect(alone.text).toContain('<meta name="briefing-cluster" content="none" />');
  const node = await request(app(BUNDLE, false)).get(`/join/${TOKEN}`).expect(200);
  expect(node.text).not.toContain('briefing-cluster');
});
