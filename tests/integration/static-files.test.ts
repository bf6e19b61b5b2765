// Every file the server sends (a page's style or icon under /assets, /favicon.ico, a stored
// document or archive) answers a precondition or range that fails as such: 412
// `precondition_failed`, or 416 `range_not_satisfiable` with the file's length in
// Content-Range, as problem+json; never the 400 of a malformed request. A problem carries
// none of the file's headers (its name, validators, length, ranges, caching) and no ETag of
// its own, and is not stored. A part of a file (206) goes out as the file's own bytes,
// never compressed again under a range that counts them unencoded; a file compressed on
// the fly offers no ranges; a HEAD names what its GET does (encoding, ranges, a length or
// none), a streamed body's too, and what runs after the headers sees it as a HEAD; a 304
// names no ranges. A real server over HTTP, with the compression middleware and the error
// handler as the server mounts them, and a CSP of its own that a stored file's problem
// answers under.
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import express from 'express';
import pino from 'pino';
import { AppError } from '../../server/errors';
import { sendStoredFile } from '../../server/http/attachment';
import { compressResponses } from '../../server/http/compress';
import { pagesRouter } from '../../server/http/pages';
import { errorHandler, notFoundHandler } from '../../server/http/problem';

const ROOT = path.join(__dirname, '..', '..');
const PAGES = path.join(ROOT, 'client', 'pages');
const CSS = fs.readFileSync(path.join(PAGES, 'assets', 'app.css'));
const STORED = fs.mkdtempSync(path.join(os.tmpdir(), 'stored-file-'));
const DOC = Buffer.from('%PDF-1.4\n' + 'x'.repeat(3000));
/** The server's own CSP, as the app sets it on every response (helmet). */
const SERVER_CSP = "default-src 'self'";
const log = pino({ level: 'silent' });
/** A body streamed with no length, large enough to be compressed. */
const TEXT = Buffer.from('the briefing starts at nine; '.repeat(200));
/** The method seen after the headers went out, by what looked: `finish <m>`, `error <m>`. */
const seen: string[] = [];

let server: http.Server;
let port: number;

beforeAll(async () => {
  fs.writeFileSync(path.join(STORED, 'doc.pdf'), DOC);
  server = express()
    .use((_req, res, next) => {
      res.set('Content-Security-Policy', SERVER_CSP);
      next();
    })
    .use(compressResponses())
    .use(pagesRouter(PAGES, path.join(STORED, 'no-build'), { sourceMaps: false, timeZone: 'Asia/Ho_Chi_Minh' }))
    .get('/stored', (req, res, next) => {
      sendStoredFile(res, {
        file: 'doc.pdf',
        root: STORED,
        type: 'application/pdf',
        name: 'Tài liệu.pdf',
        download: true,
        validators: true,
        headers: { 'Content-Security-Policy': "default-src 'none'" },
        what: 'document d-1',
        cut: { log, msg: 'cut' },
      }).catch(next);
    })
    // A route that had begun a file's headers when it failed.
    .get('/began', (_req, res, next) => {
      res.type('application/pdf').set({
        'Content-Disposition': 'attachment; filename="doc.pdf"',
        'Content-Length': String(DOC.length),
        'Accept-Ranges': 'bytes',
        ETag: '"file"',
        'Last-Modified': new Date(0).toUTCString(),
        'Cache-Control': 'private, max-age=60',
      });
      next(new AppError('not_found', 'document d-1 not found'));
    })
    // A body streamed in parts with no length; a listener on `finish` added after the middleware.
    .get('/streamed', (req, res) => {
      res.on('finish', () => seen.push(`finish ${req.method}`));
      res.type('text/plain').write(TEXT.subarray(0, 1000));
      res.end(TEXT.subarray(1000));
    })
    // A stream that fails once its headers are out.
    .get('/streamed-fails', (_req, res, next) => {
      res.type('text/plain').write(TEXT);
      next(new Error('the stream broke'));
    })
    .use(notFoundHandler)
    // An error once the headers are out: the method it sees (the server's handler passes it on).
    .use((err: unknown, req: express.Request, res: express.Response, next: express.NextFunction) => {
      if (!res.headersSent) return next(err);
      seen.push(`error ${req.method}`);
      res.end();
    })
    .use(errorHandler(log))
    .listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(() => {
  server.close();
  fs.rmSync(STORED, { recursive: true, force: true });
});

/** Raw HTTP: the body as sent, never decoded. */
const ask = (method: 'GET' | 'HEAD', url: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    http
      .request(
        { method, port, host: '127.0.0.1', path: url, headers: { 'accept-encoding': 'gzip, br', ...headers } },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
        },
      )
      .on('error', reject)
      .end();
  });
const get = (url: string, headers: Record<string, string> = {}) => ask('GET', url, headers);

/**
 * The problem answered, undecoded (small enough never to be compressed): none of the
 * file's headers, no validators of its own, not stored.
 */
const problemOf = (res: { headers: http.IncomingHttpHeaders; body: Buffer }) => {
  expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(res.headers['content-length']).toBe(String(res.body.length));
  expect(res.headers['cache-control']).toBe('no-store');
  const { etag, 'last-modified': lastModified, 'content-disposition': disposition } = res.headers;
  const { 'accept-ranges': ranges, 'content-encoding': encoding } = res.headers;
  expect({ etag, lastModified, disposition, ranges, encoding }).toEqual({});
  return JSON.parse(res.body.toString('utf8')) as { status: number; code: string };
};

test('every problem goes out without an ETag of its own, or the headers of what it replaces', async () => {
  const unknown = await get('/no-such-path');
  expect(unknown.status).toBe(404);
  expect(problemOf(unknown).code).toBe('not_found');
  const began = await get('/began');
  expect(began.status).toBe(404);
  expect(problemOf(began).code).toBe('not_found');
});

describe('a style under /assets', () => {
  test('goes out compressed whole (the middleware is on), offering no ranges of the compressed bytes', async () => {
    const res = await get('/assets/app.css', { 'accept-encoding': 'gzip' });
    expect(res.status).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers['accept-ranges']).toBeUndefined();
    expect(zlib.gunzipSync(res.body).equals(CSS)).toBe(true);
    // Not compressed, it offers them: a range counts the file's own bytes (below).
    const plain = await get('/assets/app.css', { 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['accept-ranges']).toBe('bytes');
  });

  test('HEAD says what the GET would (ranges, encoding, length), a 304 offers no ranges', async () => {
    // A style (compressed on the fly when taken), a document (a type never compressed), an
    // icon (under the size compressed): each encoding the browser may take, and none.
    for (const url of ['/assets/app.css', '/stored', '/favicon.ico'])
      for (const accept of ['gzip', 'br', 'gzip, br', 'identity', 'gzip;q=0, br;q=0', 'gzip;q=0.5, identity']) {
        const full = await get(url, { 'accept-encoding': accept });
        const head = await ask('HEAD', url, { 'accept-encoding': accept });
        expect(full.status).toBe(200);
        const said = (r: typeof head) => ({
          status: r.status,
          ranges: r.headers['accept-ranges'],
          encoding: r.headers['content-encoding'],
          vary: r.headers.vary,
          length: r.headers['content-length'] === undefined ? 'none' : 'named',
        });
        expect({ url, accept, ...said(head) }).toEqual({ url, accept, ...said(full) });
        expect(head.body.length).toBe(0);
      }
    expect(
      (await ask('HEAD', '/assets/app.css', { 'accept-encoding': 'gzip' })).headers['accept-ranges'],
    ).toBeUndefined();
    expect((await ask('HEAD', '/assets/app.css', { 'accept-encoding': 'identity' })).headers['accept-ranges']).toBe(
      'bytes',
    );
    // A 304 names no ranges: a cache keeps those of the answer it stored, compressed or not.
    const etag = (await get('/assets/app.css', { 'accept-encoding': 'identity' })).headers.etag!;
    for (const accept of ['gzip', 'identity']) {
      const res = await get('/assets/app.css', { 'accept-encoding': accept, 'if-none-match': etag });
      expect({ accept, status: res.status, ranges: res.headers['accept-ranges'] }).toEqual({ accept, status: 304 });
    }
  });

  test('a failed If-Match: 412 precondition_failed, without the file’s validators, not stored', async () => {
    const etag = (await get('/assets/app.css', { 'accept-encoding': 'identity' })).headers.etag!;
    expect(etag).toBeDefined();
    const res = await get('/assets/app.css', { 'if-match': '"another"' });
    expect(res.status).toBe(412);
    expect(problemOf(res)).toMatchObject({ status: 412, code: 'precondition_failed' });
    // The precondition holds with the file's own ETag.
    expect((await get('/assets/app.css', { 'if-match': etag })).status).toBe(200);
  });

  test('a failed If-Unmodified-Since: 412', async () => {
    const res = await get('/assets/app.css', { 'if-unmodified-since': new Date(0).toUTCString() });
    expect(res.status).toBe(412);
    expect(problemOf(res).code).toBe('precondition_failed');
  });

  test('a range past its end: 416 range_not_satisfiable with the file’s length', async () => {
    const res = await get('/assets/app.css', { range: `bytes=${CSS.length + 10}-` });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe(`bytes */${CSS.length}`);
    expect(problemOf(res)).toMatchObject({ status: 416, code: 'range_not_satisfiable' });
  });

  test('a range within it: 206, the file’s own bytes, not compressed though the browser takes gzip', async () => {
    expect(CSS.length).toBeGreaterThan(3000);
    const res = await get('/assets/app.css', { range: 'bytes=100-2099' });
    expect(res.status).toBe(206);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['content-range']).toBe(`bytes 100-2099/${CSS.length}`);
    expect(res.headers['content-length']).toBe('2000');
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.body.equals(CSS.subarray(100, 2100))).toBe(true);
  });
});

describe('a body streamed with no length', () => {
  test('HEAD and GET both compressed, naming no length', async () => {
    for (const accept of ['br', 'gzip', 'identity']) {
      const full = await get('/streamed', { 'accept-encoding': accept });
      const head = await ask('HEAD', '/streamed', { 'accept-encoding': accept });
      const said = (r: typeof head) => ({
        status: r.status,
        encoding: r.headers['content-encoding'],
        vary: r.headers.vary,
        length: r.headers['content-length'],
      });
      expect({ accept, ...said(head) }).toEqual({ accept, ...said(full) });
      expect(head.body.length).toBe(0);
    }
    const br = await get('/streamed', { 'accept-encoding': 'br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-length']).toBeUndefined();
    expect(zlib.brotliDecompressSync(br.body).equals(TEXT)).toBe(true);
  });

  test('after the headers, a later `finish` listener and an error handler see a HEAD as HEAD', async () => {
    seen.length = 0;
    const done = (await ask('HEAD', '/streamed', { 'accept-encoding': 'br' })).headers['content-encoding'];
    const failed = (await ask('HEAD', '/streamed-fails', { 'accept-encoding': 'br' })).headers['content-encoding'];
    expect({ done, failed }).toEqual({ done: 'br', failed: 'br' });
    expect(seen).toEqual(['finish HEAD', 'error HEAD']);
  });
});

test('/favicon.ico (sent with res.sendFile) answers 412 and 416 as such', async () => {
  const icon = fs.statSync(path.join(PAGES, 'assets', 'favicon.svg')).size;
  const failed = await get('/favicon.ico', { 'if-match': '"another"' });
  expect(failed.status).toBe(412);
  expect(problemOf(failed).code).toBe('precondition_failed');
  const past = await get('/favicon.ico', { range: `bytes=${icon}-` });
  expect(past.status).toBe(416);
  expect(past.headers['content-range']).toBe(`bytes */${icon}`);
  expect(problemOf(past).code).toBe('range_not_satisfiable');
});

describe('a stored file (a document, an archive)', () => {
  test('a range past its end is 416, not a missing file', async () => {
    const res = await get('/stored', { range: `bytes=${DOC.length}-` });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe(`bytes */${DOC.length}`);
    // Not saved as the file (no Content-Disposition), nor under its CSP: the server's.
    expect(problemOf(res).code).toBe('range_not_satisfiable');
    expect(res.headers['content-security-policy']).toBe(SERVER_CSP);
  });

  test('a failed If-Match is 412; a range within it, its bytes', async () => {
    const failed = await get('/stored', { 'if-match': '"another"' });
    expect(failed.status).toBe(412);
    expect(problemOf(failed).code).toBe('precondition_failed');
    const part = await get('/stored', { range: 'bytes=0-1499' });
    expect(part.status).toBe(206);
    expect(part.body.equals(DOC.subarray(0, 1500))).toBe(true);
  });

  test('a file gone since it was looked up is 404, with none of its headers', async () => {
    fs.renameSync(path.join(STORED, 'doc.pdf'), path.join(STORED, 'gone.pdf'));
    try {
      const res = await get('/stored');
      expect(res.status).toBe(404);
      expect(problemOf(res).code).toBe('not_found');
      expect(res.headers['content-security-policy']).toBe(SERVER_CSP);
    } finally {
      fs.renameSync(path.join(STORED, 'gone.pdf'), path.join(STORED, 'doc.pdf'));
    }
  });
});
