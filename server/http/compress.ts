// Responses compressed on the fly (gzip, brotli), as the browser accepts: pages and answers
// shrink about 4x, which counts on a point's 2 Mbps link.
import type { ServerResponse } from 'node:http';
import compression from 'compression';
import type { RequestHandler } from 'express';

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
 */
export function compressResponses(): RequestHandler {
  /** Responses already encoded when the middleware looked at them: a file stored so. */
  const encodedBefore = new WeakSet<ServerResponse>();
  const compress = compression({
    filter: (req, res) => {
      if (res.getHeader('Content-Encoding') !== undefined) encodedBefore.add(res);
      return res.statusCode !== 206 && res.getHeader('Content-Range') === undefined && compression.filter(req, res);
    },
  });
  return (req, res, next) => {
    // Registered before the middleware's own look at the headers, so called after it.
    beforeHeaders(res, () => {
      if (res.getHeader('Content-Encoding') !== undefined && !encodedBefore.has(res)) res.removeHeader('Accept-Ranges');
    });
    compress(req, res, next);
  };
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
