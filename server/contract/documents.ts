// Documents a host attaches to an agenda item (a PDF, a picture), shown to the points while
// that item runs. The files are kept under DATA_DIR, never in the static folder; the
// browser imports this file.
import { z } from 'zod';

/** What a document may be: checked on the file's first bytes, whatever its name or Content-Type says. */
export const DOCUMENT_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/webp'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];
/** One file's most bytes: a scanned resolution is a few megabytes. */
export const DOCUMENT_MAX_BYTES = 20 * 1024 * 1024;
/** A session's most documents. */
export const DOCUMENT_MAX_PER_SESSION = 100;

export const DocumentIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16,32}$/, 'not a document id');

export const AgendaDocumentSchema = z
  .object({
    id: z.string(),
    /** The agenda item it belongs to. */
    itemId: z.string(),
    /** The file's name as uploaded, without folders or control characters. */
    name: z.string(),
    type: z.enum(DOCUMENT_TYPES),
    size: z.number().int(),
    at: z.string(),
  })
  .meta({ id: 'AgendaDocument' });
export type AgendaDocument = z.infer<typeof AgendaDocumentSchema>;

/** GET /api/v1/join/:token/documents: the running item's documents (none between items). */
export const PointDocumentsSchema = z.object({
  itemId: z.string().nullable(),
  documents: z.array(AgendaDocumentSchema),
});
export type PointDocuments = z.infer<typeof PointDocumentsSchema>;

export const DocumentUploadQuerySchema = z.object({ name: z.string().min(1).max(400) }).strict();
