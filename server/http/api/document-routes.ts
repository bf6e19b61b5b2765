// Documents attached to agenda items, under /api/v1:
//   POST   /sessions/:id/agenda/:itemId/documents?name=   host, admin: the file as the body
//   GET    /sessions/:id/documents                        the desk's roles: every document
//   GET    /sessions/:id/documents/:docId[?download]      the desk's roles: the file
//   DELETE /sessions/:id/documents/:docId                 host, admin
//   GET    /join/:token/documents                         a point: the running item's documents
//   GET    /join/:token/documents/:docId[?download]       a point: the file, while its item runs
// A point reaches only its own session's documents (the token is bound to it). Files are
// sent with the type read from their bytes, `nosniff`, a Content-Disposition with the
// name as uploaded, and a CSP of their own that runs nothing.
import express, { type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { IdParamSchema, TokenParamSchema, type Role, type Session } from '../../contract/api';
import {
  AgendaDocumentSchema,
  DOCUMENT_MAX_BYTES,
  DocumentIdSchema,
  DocumentUploadQuerySchema,
  PointDocumentsSchema,
  type AgendaDocument,
  type PointDocuments,
} from '../../contract/documents';
import type { ControlPlane } from '../../assembly/control-plane';
import { LiveStateStore } from '../../realtime/live-state';
import { badRequest, notFound, why } from '../../errors';
import { sendStoredFile } from '../attachment';
import { refuseAnnouncedOver, type ApiBuilder } from './route';

const READERS: Role[] = ['technician', 'host', 'admin'];
const EDITORS: Role[] = ['host', 'admin'];
const DocParam = IdParamSchema.extend({ docId: DocumentIdSchema });
const DownloadQuery = z.object({ download: z.string().max(8).optional() });
/** A file's answer, as documented (its real type is the document's own). */
const FILE_ANSWER = {
  status: 200,
  description: 'the file: application/pdf, image/png, image/jpeg or image/webp',
  schema: z.string().meta({ format: 'binary' }),
  contentType: 'application/pdf',
};
/** A PDF opens in the browser's own viewer; a picture shows; nothing in them runs. */
const DOCUMENT_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'";

function sendDocument(res: Response, doc: AgendaDocument, file: string, download: boolean, log: Logger): Promise<void> {
  return sendStoredFile(res, {
    file,
    type: doc.type,
    name: doc.name,
    download,
    headers: {
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': DOCUMENT_CSP,
      'Cross-Origin-Resource-Policy': 'same-origin',
    },
    what: `document ${doc.id}`,
    // Too late for an error answer: the reader has a cut file.
    cut: { log, msg: 'a document was cut off while sent', fields: { docId: doc.id } },
  });
}

export function registerDocumentRoutes(api: ApiBuilder, control: ControlPlane): void {
  const log = control.logger.child({ component: 'documents' });
  const live = new LiveStateStore(control.redis);
  const sessionOf = async (id: string) => {
    const s = await control.sessions.get(id);
    if (!s) throw notFound(`session ${id}`);
    return s;
  };
  /** The item running now: only while live, and only one the agenda still has. */
  const runningItem = async (sessionId: string): Promise<string | null> => {
    const s = await sessionOf(sessionId);
    if (s.state !== 'live') return null;
    const { agendaIndex } = await live.get(sessionId);
    return agendaIndex === null ? null : (s.agenda[agendaIndex]?.id ?? null);
  };

  api.route(
    {
      method: 'post',
      path: '/sessions/:id/agenda/:itemId/documents',
      summary: `Attach a document (PDF, PNG, JPEG or WebP, by its bytes; at most ${DOCUMENT_MAX_BYTES / 1024 / 1024} MiB) to an agenda item`,
      tag: 'documents',
      roles: EDITORS,
      params: IdParamSchema.extend({ itemId: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/) }),
      query: DocumentUploadQuerySchema,
      bodyDoc: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }) } },
      parsers: [refuseAnnouncedOver(DOCUMENT_MAX_BYTES, express.raw({ type: () => true, limit: DOCUMENT_MAX_BYTES }))],
      success: { status: 201, description: 'the document', schema: AgendaDocumentSchema },
      errors: [404, 409, 413],
    },
    async ({ params, query, req }) => {
      const hasItem = (s: Session | undefined) => s?.agenda.some((a) => a.id === params.itemId) ?? false;
      const s = await sessionOf(params.id);
      if (!hasItem(s)) throw notFound(`agenda item ${params.itemId}`);
      if (!Buffer.isBuffer(req.body)) throw badRequest('send the file as the body', undefined, why('document_type'));
      // Asked again after the write: an agenda edit meanwhile may have taken the item off.
      return control.documents.add(s.id, params.itemId, query.name, req.body, async () =>
        hasItem(await control.sessions.get(s.id)),
      );
    },
  );

  api.route(
    {
      method: 'get',
      path: '/sessions/:id/documents',
      summary: "The session's documents, every agenda item's",
      tag: 'documents',
      roles: READERS,
      params: IdParamSchema,
      success: { status: 200, description: 'the documents', schema: z.array(AgendaDocumentSchema) },
      errors: [404],
    },
    async ({ params }) => control.documents.list((await sessionOf(params.id)).id),
  );

  api.route(
    {
      method: 'get',
      path: '/sessions/:id/documents/:docId',
      summary: 'A document itself (inline; attachment with ?download)',
      tag: 'documents',
      roles: READERS,
      params: DocParam,
      query: DownloadQuery,
      success: FILE_ANSWER,
      errors: [404, 412, 416],
    },
    async ({ params, query, res }) => {
      const { doc, file } = await control.documents.open(params.id, params.docId);
      await sendDocument(res, doc, file, query.download !== undefined, log);
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/sessions/:id/documents/:docId',
      summary: 'Remove a document',
      tag: 'documents',
      roles: EDITORS,
      params: DocParam,
      success: { status: 204, description: 'removed' },
      errors: [404],
    },
    ({ params }) => control.documents.remove(params.id, params.docId),
  );

  api.route(
    {
      method: 'get',
      path: '/join/:token/documents',
      summary:
        "A point's view of the documents: the running agenda item's (none between items or outside the live briefing)",
      tag: 'join',
      roles: 'public',
      params: TokenParamSchema,
      success: { status: 200, description: 'the running item and its documents', schema: PointDocumentsSchema },
      errors: [401, 409, 410],
    },
    async ({ params, res }): Promise<PointDocuments> => {
      res.set('Cache-Control', 'no-store');
      const { sessionId } = await control.links.verifyJoinToken(params.token);
      const itemId = await runningItem(sessionId);
      return { itemId, documents: itemId ? await control.documents.list(sessionId, itemId) : [] };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/join/:token/documents/:docId',
      summary: "A document of the point's session, while its agenda item runs (inline; attachment with ?download)",
      tag: 'join',
      roles: 'public',
      params: TokenParamSchema.extend({ docId: DocumentIdSchema }),
      query: DownloadQuery,
      success: FILE_ANSWER,
      errors: [401, 404, 409, 410, 412, 416],
    },
    async ({ params, query, res }) => {
      const { sessionId } = await control.links.verifyJoinToken(params.token);
      const { doc, file } = await control.documents.open(sessionId, params.docId);
      // Another item's document is not the point's to read now.
      if (doc.itemId !== (await runningItem(sessionId))) throw notFound(`document ${params.docId}`);
      await sendDocument(res, doc, file, query.download !== undefined, log);
    },
  );
}
