// Responses compressed on the fly (gzip, brotli), as the browser accepts: pages and answers
// shrink about 4x, which counts on a point's 2 Mbps link.
import type { ServerResponse } from 'node:http';
import compression from 'compression';
import type { Request, RequestHandler } from 'express';

/** Below this many bytes (Content-Length) a response goes out as it is. */
const THRESHOLD = 1024;

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
 * HEAD and 304 say what the GET would. The middleware leaves every HEAD alone, so it
 * decides a HEAD on a view of the request whose method reads GET (the middleware reads
 * only the method and the headers), the request itself left as it came. A HEAD then
 * carries the GET's `Content-Encoding` and `Vary`, no `Content-Length` nor `Accept-Ranges`
 * where the GET is compressed, and no body (Node sends none to a HEAD). A body written
 * with no length (a stream's) is compressed on its first write, HEAD as GET; only a HEAD
 * ended with no body and no length counts as empty, below the threshold. A 304
 * carries no `Accept-Ranges` at all: a cache keeps the header of the response it stored,
 * compressed or not, and the 304 has lost the type and length that decided it.
 */
export function compressResponses(): RequestHandler {
  /** Responses already encoded when the middleware looked at them: a file stored so. */
  const encodedBefore = new WeakSet<ServerResponse>();
  const compress = compression({
    threshold: THRESHOLD,
    filter: (req, res) => {
      if (res.getHeader('Content-Encoding') !== undefined) encodedBefore.add(res);
      return res.statusCode !== 206 && res.getHeader('Content-Range') === undefined && compression.filter(req, res);
    },
  });
  return (req, res, next) => {
    // Registered before the middleware's own look at the headers, so called after it.
    beforeHeaders(res, () => {
      const encoded = res.getHeader('Content-Encoding') !== undefined && !encodedBefore.has(res);
      if (res.statusCode === 304 || encoded) res.removeHeader('Accept-Ranges');
    });
    compress(req.method === 'HEAD' ? asGet(req) : req, res, next);
  };
}

/** The request as the middleware sees it: the same, its method reading GET. */
function asGet(req: Request): Request {
  return Object.create(req, { method: { value: 'GET', enumerable: true } }) as Request;
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
