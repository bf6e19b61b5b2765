// Responses compressed on the fly (gzip, brotli), as the browser accepts: pages and answers
// shrink about 4x, which counts on a point's 2 Mbps link.
import type { ServerResponse } from 'node:http';
import compression from 'compression';
import type { Request, RequestHandler, Response } from 'express';

/** Below this many bytes (Content-Length) a response goes out as it is. */
const THRESHOLD = 1024;
const NO_TRANSFORM = /(?:^|,)\s*?no-transform\s*?(?:,|$)/;

/**
 * The compression middleware, but for a part of a file (206, or anything carrying a
 * Content-Range): its range counts the file's own bytes, so encoding them would send bytes
 * the range does not describe. `compression` 1.8 encodes a 206 like any response.
 *
 * A response it compresses offers no ranges (no `Accept-Ranges`): they would count the
 * encoded bytes, which are made anew for every request and never served as a part. A
 * Range request is answered from the file itself, a 206 not compressed. A file stored
 * compressed (a bundle's `.br`, `.gz`: server/http/pages.ts) keeps its `Accept-Ranges`,
 * its ranges counting its stored bytes.
 *
 * HEAD and 304 say what the GET would: the middleware never encodes a HEAD, so a HEAD the
 * GET of which it would compress (see `wouldCompress`) drops `Accept-Ranges` too. A 304
 * carries none at all: a cache keeps the header of the response it stored, compressed or
 * not, and the 304 has lost the type and length that decided it.
 */
export function compressResponses(): RequestHandler {
  /** Responses already encoded when the middleware looked at them: a file stored so. */
  const encodedBefore = new WeakSet<ServerResponse>();
  const filter = (req: Request, res: Response) =>
    res.statusCode !== 206 && res.getHeader('Content-Range') === undefined && compression.filter(req, res);
  const compress = compression({
    threshold: THRESHOLD,
    filter: (req, res) => {
      if (res.getHeader('Content-Encoding') !== undefined) encodedBefore.add(res);
      return filter(req, res);
    },
  });
  return (req, res, next) => {
    // Registered before the middleware's own look at the headers, so called after it.
    beforeHeaders(res, () => {
      const encoded = res.getHeader('Content-Encoding') !== undefined && !encodedBefore.has(res);
      const headCompressed = req.method === 'HEAD' && wouldCompress(req, res, filter);
      if (res.statusCode === 304 || encoded || headCompressed) res.removeHeader('Accept-Ranges');
    });
    compress(req, res, next);
  };
}

/**
 * Whether the middleware would compress this response to a GET: the checks `compression`
 * 1.8 makes, in its order (filter, `Cache-Control: no-transform`, length, an encoding
 * already set, the browser's Accept-Encoding). A HEAD without Content-Length counts as
 * long enough: its GET's length is not known.
 */
function wouldCompress(req: Request, res: Response, filter: (req: Request, res: Response) => boolean): boolean {
  if (!filter(req, res)) return false;
  if (NO_TRANSFORM.test(String(res.getHeader('Cache-Control') ?? ''))) return false;
  if (Number(res.getHeader('Content-Length')) < THRESHOLD) return false;
  if ((res.getHeader('Content-Encoding') ?? 'identity') !== 'identity') return false;
  const method = req.acceptsEncodings('br', 'gzip', 'deflate', 'identity');
  return method !== false && method !== 'identity';
}

/**
 * Calls `f` once, just before the response's headers are written. Hooks registered later
 * (the compression middleware's, through `on-headers`) wrap this one and run before it.
 */
function beforeHeaders(res: ServerResponse, f: () => void): void {
  const writeHead = res.writeHead;
  let called = false;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (!called) {
      called = true;
      f();
    }
    return Reflect.apply(writeHead, this, args) as ServerResponse;
  } as ServerResponse['writeHead'];
}
