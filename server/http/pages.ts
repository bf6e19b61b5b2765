// Serves the browser pages (static HTML shells) and their bundles (built by
// scripts/build-client.mjs into build/client). Each shell is given the briefing's time
// zone in `<meta name="briefing-tz">`, which the pages show every time in, and the
// page's shared chunks as `<link rel="modulepreload">` (the build lists them); a single
// server (not a node of a cluster) says so in `<meta name="briefing-cluster">`. First of
// all the scripts comes the boot script (`/bundle/boot.js`, client/src/boot/boot.ts), a
// classic one, which loads the page again when its modules fail to load.
import fs from 'node:fs';
import path from 'node:path';
import express, { Router } from 'express';

/**
 * Parser-blocking on purpose: it must listen before any of the page's scripts can fail.
 * Served as the entries are (revalidated by ETag), from 'self' as the CSP asks.
 */
const BOOT_SCRIPT = '\n    <script src="/bundle/boot.js"></script>';

/** Tokens in page URLs are opaque base64url strings; anything else is a 404, not a page. */
const TOKEN_PARAM = /^[A-Za-z0-9_.-]{16,512}$/;

export function pagesRouter(
  pagesDir: string,
  bundleDir: string,
  opts: { sourceMaps: boolean; timeZone: string; singleNode?: boolean },
): Router {
  const router = Router();
  // A single server tells the point page so: it then connects without asking which node
  // serves it (client/src/point/cluster.ts).
  const zoneMeta = `<meta name="briefing-tz" content="${opts.timeZone.replace(/[^A-Za-z0-9_/+-]/g, '')}" />${
    opts.singleNode ? '\n    <meta name="briefing-cluster" content="none" />' : ''
  }`;
  const shell = async (name: string) =>
    (await fs.promises.readFile(path.join(pagesDir, `${name}.html`), 'utf8')).replace(
      '<head>',
      `<head>\n    ${zoneMeta}${BOOT_SCRIPT}${await preloadLinks(bundleDir, name)}`,
    );
  const sendPage = (name: string, res: express.Response, next: express.NextFunction) => {
    shell(name).then((html) => res.set('Cache-Control', 'no-store').type('html').send(html), next);
  };
  const send =
    (name: string): express.RequestHandler =>
    (_req, res, next) =>
      sendPage(name, res, next);
  const sendWithToken =
    (name: string): express.RequestHandler =>
    (req, res, next) => {
      if (!TOKEN_PARAM.test(String(req.params.token))) return next();
      sendPage(name, res, next);
    };

  router.get('/', (_req, res) => res.redirect(302, '/host'));
  // Browsers ask for /favicon.ico before they read the page's <link rel="icon">.
  router.get('/favicon.ico', (_req, res) =>
    res.type('image/svg+xml').sendFile(path.join(pagesDir, 'assets', 'favicon.svg')),
  );
  router.get('/host', send('host'));
  router.get('/monitor', send('monitor'));
  router.get('/wall', send('wall'));
  router.get('/join/:token', sendWithToken('join'));
  router.get('/checkin/:token', sendWithToken('checkin'));
  router.get('/setup/:token', sendWithToken('setup'));
  router.use('/assets', express.static(path.join(pagesDir, 'assets'), { maxAge: '1h', index: false }));
  router.use(
    '/bundle',
    (req: express.Request, res: express.Response, next: express.NextFunction) => {
      // Only the pages' scripts (and their maps, where allowed) are served: the build's
      // compressed copies, lists and files being written answer 404 as any unknown path.
      if (!BUNDLE_FILE.test(req.path) || (!opts.sourceMaps && req.path.endsWith('.map'))) return next('router');
      if (!fs.existsSync(bundleDir)) {
        res
          .status(503)
          .type('text/plain')
          .send('client bundle not built: run `npm start` (it runs scripts/build-client.mjs)');
        return;
      }
      next();
    },
    precompressed(bundleDir),
    express.static(bundleDir, { index: false, setHeaders: bundleCaching }),
  );
  return router;
}

/** A script of build/client, or its source map: the only files under /bundle. */
const BUNDLE_FILE = /^\/[A-Za-z0-9_-]+\.js(\.map)?$/;

/**
 * Shared chunks are named by content hash (esbuild): cache them for good. Entry bundles
 * keep their names and are revalidated by ETag.
 */
function bundleCaching(res: express.Response, file: string): void {
  const hashed = /[\\/]chunk-[A-Z0-9]+\.js(\.map)?$/.test(file);
  res.set('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
}

const ENCODINGS = [
  { name: 'br', ext: '.br' },
  { name: 'gzip', ext: '.gz' },
] as const;

/** A file's size and modification time, or undefined when it is not there. */
const statOf = (file: string): Promise<fs.Stats | undefined> => fs.promises.stat(file).catch(() => undefined);

/**
 * A bundle the build compressed (`<file>.js.br`, `.gz`: scripts/build-client.mjs) is sent
 * as is to a browser that takes that encoding, so the server does not compress the same
 * bytes again for every page load (the compression middleware leaves an encoded response
 * alone). Of the encodings the browser accepts, the smallest file goes out. A compressed
 * file older than its `.js` is left alone (a build that stopped half-way, or one that wrote
 * no compressed files): the plain file then goes on, compressed on the fly.
 */
function precompressed(bundleDir: string): express.RequestHandler {
  const root = path.resolve(bundleDir);
  return (req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !/^\/[A-Za-z0-9_-]+\.js$/.test(req.path)) return next();
    res.vary('Accept-Encoding');
    const accepted = ENCODINGS.filter((e) => req.acceptsEncodings(e.name) === e.name);
    if (!accepted.length) return next();
    const file = path.join(root, req.path);
    void Promise.all([statOf(file), ...accepted.map((e) => statOf(file + e.ext))]).then(([js, ...variants]) => {
      let enc: (typeof ENCODINGS)[number] | undefined;
      let size = Infinity;
      for (const [i, v] of variants.entries()) {
        if (!js || !v?.isFile() || v.mtimeMs < js.mtimeMs || v.size >= size) continue;
        enc = accepted[i];
        size = v.size;
      }
      if (!enc) return next();
      res.set('Content-Encoding', enc.name);
      res.type('js');
      bundleCaching(res, file);
      res.sendFile(file + enc.ext, { dotfiles: 'deny' }, (err: (Error & { status?: number }) | undefined) => {
        if (!err || res.headersSent) return;
        res.removeHeader('Content-Encoding');
        // A precondition or range that fails is answered for the compressed file, which is
        // the representation this request selects (its ETag and length are the ones
        // compared): 412, or 416 with `Content-Range: bytes */<compressed size>`. Sending
        // the plain file instead would be a different representation under the compressed
        // one's ETag (already set). The error handler answers them as every file's
        // (server/http/problem.ts).
        if (err.status === 412 || err.status === 416) return next(err);
        // Gone or unreadable since the stat (a rebuild replacing it): the plain file goes out.
        next();
      });
    }, next);
  };
}

/**
 * The page's shared chunks (`preload.json`, written by scripts/build-client.mjs) as
 * `<link rel="modulepreload">` tags: the browser fetches them with the page's entry
 * bundle instead of after it. None when the build wrote no list.
 */
export async function preloadLinks(bundleDir: string, page: string): Promise<string> {
  let list: unknown;
  try {
    list = (
      JSON.parse(await fs.promises.readFile(path.join(bundleDir, 'preload.json'), 'utf8')) as Record<string, unknown>
    )[page];
  } catch {
    return '';
  }
  if (!Array.isArray(list)) return '';
  return list
    .filter((f): f is string => typeof f === 'string' && /^chunk-[A-Za-z0-9]+\.js$/.test(f))
    .map((f) => `\n    <link rel="modulepreload" href="/bundle/${f}" />`)
    .join('');
}
