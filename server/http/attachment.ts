// Files a route sends to be saved or shown: the Content-Disposition (the name as given, in
// `filename*`, and an ASCII stand-in for old clients), never cached. A body made in memory
// (a CSV export, a report) is sent at once; a stored file (a document, an archive) is
// streamed by Express's sendFile, byte ranges included, and a send cut off after its
// headers is logged and its connection closed (the reader has a cut file).
import type { Response } from 'express';
import type { Logger } from 'pino';
import { notFound } from '../errors';

/** `filename*` carries the Vietnamese name; `filename` an ASCII stand-in for old clients. */
export function contentDisposition(kind: 'inline' | 'attachment', name: string): string {
  const ascii = name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** A body made now, as a file to save (or, `inline`, to show). */
export function sendAttachment(
  res: Response,
  o: { type: string; name: string; body: string | Buffer; inline?: boolean },
): void {
  res
    .status(200)
    .type(o.type)
    .set('Cache-Control', 'no-store')
    .set('Content-Disposition', contentDisposition(o.inline ? 'inline' : 'attachment', o.name))
    .send(o.body);
}

export interface StoredFile {
  /** An absolute path, or a name under `root`. */
  file: string;
  root?: string;
  type: string;
  /** The name the reader's browser gives it. */
  name: string;
  /** Saved (attachment) rather than shown (inline). */
  download: boolean;
  /** More headers, e.g. a Content-Security-Policy of the file's own. */
  headers?: Record<string, string>;
  /** ETag and Last-Modified, for a player seeking with If-Range (default: none). */
  validators?: boolean;
  /** What it is, for the 404: `document d-1`, `archive`. */
  what: string;
  /** Where a cut send is told, with what. */
  cut: { log: Logger; msg: string; fields?: Record<string, unknown> };
}

/**
 * Streams a stored file; 404 when it cannot be read before anything is sent (gone since
 * it was looked up, say). An error answered so carries none of the file's headers: the
 * response's are put back as they were before (its name, type and caching gone, and a
 * document's own CSP giving way to the server's again).
 */
export function sendStoredFile(res: Response, f: StoredFile): Promise<void> {
  const before = res.getHeaders();
  res
    .status(200)
    .type(f.type)
    .set('Cache-Control', 'private, no-store')
    .set(f.headers ?? {})
    .set('Content-Disposition', contentDisposition(f.download ? 'attachment' : 'inline', f.name));
  const validators = f.validators ?? false;
  return new Promise((resolve, reject) =>
    res.sendFile(
      f.file,
      {
        ...(f.root !== undefined ? { root: f.root } : {}),
        headers: {},
        dotfiles: 'deny',
        lastModified: validators,
        etag: validators,
      },
      (err) => {
        if (!err) return resolve();
        // A precondition or range that fails is answered as such (412, 416: the error
        // handler, server/http/problem.ts); anything else before the headers, as missing.
        const status = (err as { status?: unknown }).status;
        if (!res.headersSent) {
          for (const h of res.getHeaderNames()) if (before[h] === undefined) res.removeHeader(h);
          for (const [h, v] of Object.entries(before)) if (v !== undefined) res.setHeader(h, v);
          return reject(status === 412 || status === 416 ? err : notFound(f.what));
        }
        const aborted = (err as NodeJS.ErrnoException).code === 'ECONNABORTED';
        f.cut.log[aborted ? 'info' : 'warn']({ err, ...f.cut.fields }, f.cut.msg);
        res.destroy();
        resolve();
      },
    ),
  );
}
