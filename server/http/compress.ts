// Responses compressed on the fly (gzip, brotli), as the browser accepts: pages and answers
// shrink about 4x, which counts on a point's 2 Mbps link.
import compression from 'compression';
import type { RequestHandler } from 'express';

/**
 * The compression middleware, but for a part of a file (206, or anything carrying a
 * Content-Range): its range counts the file's own bytes, so encoding them would send bytes
 * the range does not describe. `compression` 1.8 encodes a 206 like any response.
 */
export function compressResponses(): RequestHandler {
  return compression({
    filter: (req, res) =>
      res.statusCode !== 206 && res.getHeader('Content-Range') === undefined && compression.filter(req, res),
  });
}
