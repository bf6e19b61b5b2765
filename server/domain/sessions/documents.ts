// The files attached to a session's agenda items. A file is stored under
// `<dir>/<sessionId>/<random id>`: its name as uploaded is kept only as text (shown, and
// given back in Content-Disposition), never used as a path. Its type is read from its
// first bytes (PDF, PNG, JPEG, WebP); anything else is refused.
//
// Keys: docs:<sessionId>   hash   document id → AgendaDocument JSON
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import {
  DOCUMENT_MAX_BYTES,
  DOCUMENT_MAX_PER_SESSION,
  DocumentIdSchema,
  type AgendaDocument,
  type DocumentType,
} from '../../contract/documents';
import { AppError, badRequest, conflict, notFound, why } from '../../errors';

export const docsKey = (sessionId: string) => `docs:${sessionId}`;

// KEYS[1] docs; ARGV[1] id, ARGV[2] document JSON, ARGV[3] the most per session. 0 when full.
const ADD_IF_ROOM = `
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/** The type a file's first bytes say it is, or null. */
export function sniffDocumentType(data: Buffer): DocumentType | null {
  const starts = (sig: number[], at = 0) => sig.every((b, i) => data[at + i] === b);
  if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf'; // %PDF-
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp'; // RIFF....WEBP
  return null;
}

const EXTENSION: Record<DocumentType, string> = {
  'application/pdf': '.pdf',
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/webp': '.webp',
};

/**
 * A file name safe to show and to put in a header: the last part of any path, without
 * control characters, quotes or backslashes, at most 120 characters, with the extension
 * of its real type.
 */
export function documentName(given: string, type: DocumentType): string {
  const last = given.normalize('NFC').split(/[\\/]/).pop() ?? '';
  const clean = last
    .replace(/[\p{Cc}\p{Cf}"*<>?|:]/gu, '')
    .replace(/\s+/g, ' ')
    .replace(/^[\s.]+/, '')
    .trim()
    .slice(0, 120);
  const base = clean.replace(/\.[A-Za-z0-9]{1,5}$/, '') || 'tai-lieu';
  return `${base}${EXTENSION[type]}`;
}

const full = () => {
  const max = DOCUMENT_MAX_PER_SESSION;
  return conflict(`a session holds at most ${max} documents`, undefined, why('documents_full', { max }));
};

export interface AgendaDocumentsOptions {
  redis: Redis;
  /** Where the files go: DATA_DIR/documents. */
  dir: string;
  now?: () => Date;
}

export class AgendaDocuments {
  readonly #now: () => Date;

  constructor(private readonly o: AgendaDocumentsOptions) {
    this.#now = o.now ?? (() => new Date());
  }

  #file(sessionId: string, id: string): string {
    // Both are checked against [A-Za-z0-9_-] (route params, random ids); a slip stays inside.
    const file = path.resolve(this.o.dir, sessionId, id);
    if (path.dirname(path.dirname(file)) !== path.resolve(this.o.dir)) throw notFound(`document ${id}`);
    return file;
  }

  /**
   * Stores a document of an agenda item. The cap is checked and the document written in one
   * step. `itemStillThere` is asked after the write: an agenda edit that took the item off
   * meanwhile may have dropped the item's documents before this one was written, so then
   * it is taken back (entry and file) and the item is `not_found`.
   */
  async add(
    sessionId: string,
    itemId: string,
    givenName: string,
    data: Buffer,
    itemStillThere: () => Promise<boolean> = async () => true,
  ): Promise<AgendaDocument> {
    if (data.length === 0) throw badRequest('the file is empty', undefined, why('document_type'));
    if (data.length > DOCUMENT_MAX_BYTES) throw new AppError('payload_too_large', 'the file is too large');
    const type = sniffDocumentType(data);
    if (!type) throw badRequest('only PDF, PNG, JPEG and WebP files can be attached', undefined, why('document_type'));
    // Spares writing the file when the session is already full; the write checks again.
    if ((await this.o.redis.hlen(docsKey(sessionId))) >= DOCUMENT_MAX_PER_SESSION) throw full();
    const doc: AgendaDocument = {
      id: crypto.randomBytes(12).toString('base64url'),
      itemId,
      name: documentName(givenName, type),
      type,
      size: data.length,
      at: this.#now().toISOString(),
    };
    const file = this.#file(sessionId, doc.id);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.part`;
    await fs.writeFile(tmp, data, { mode: 0o600 });
    await fs.rename(tmp, file);
    const max = DOCUMENT_MAX_PER_SESSION;
    if (Number(await this.o.redis.eval(ADD_IF_ROOM, 1, docsKey(sessionId), doc.id, JSON.stringify(doc), max)) === 0) {
      await fs.rm(file, { force: true });
      throw full();
    }
    if (!(await itemStillThere())) {
      await this.o.redis.hdel(docsKey(sessionId), doc.id);
      await fs.rm(file, { force: true });
      throw notFound(`agenda item ${itemId}`);
    }
    return doc;
  }

  /** The session's documents in the order they were attached, of one item if given. */
  async list(sessionId: string, itemId?: string): Promise<AgendaDocument[]> {
    const all = Object.values(await this.o.redis.hgetall(docsKey(sessionId))).map(
      (j) => JSON.parse(j) as AgendaDocument,
    );
    return all.filter((d) => itemId === undefined || d.itemId === itemId).sort((a, b) => a.at.localeCompare(b.at));
  }

  async get(sessionId: string, id: string): Promise<AgendaDocument> {
    const j = DocumentIdSchema.safeParse(id).success ? await this.o.redis.hget(docsKey(sessionId), id) : null;
    if (!j) throw notFound(`document ${id}`);
    return JSON.parse(j) as AgendaDocument;
  }

  /** The document and its file's path, for sending. */
  async open(sessionId: string, id: string): Promise<{ doc: AgendaDocument; file: string }> {
    const doc = await this.get(sessionId, id);
    return { doc, file: this.#file(sessionId, doc.id) };
  }

  /** Drops the documents of items the agenda no longer has. */
  async keepItems(sessionId: string, itemIds: readonly string[]): Promise<number> {
    const gone = (await this.list(sessionId)).filter((d) => !itemIds.includes(d.itemId));
    for (const d of gone) await this.remove(sessionId, d.id);
    return gone.length;
  }

  /** Drops every document of a deleted session, and its folder. */
  async removeAll(sessionId: string): Promise<void> {
    await this.o.redis.del(docsKey(sessionId));
    const folder = path.resolve(this.o.dir, sessionId);
    if (path.dirname(folder) === path.resolve(this.o.dir)) await fs.rm(folder, { recursive: true, force: true });
  }

  async remove(sessionId: string, id: string): Promise<void> {
    const doc = await this.get(sessionId, id);
    await this.o.redis.hdel(docsKey(sessionId), doc.id);
    await fs.rm(this.#file(sessionId, doc.id), { force: true });
  }
}
