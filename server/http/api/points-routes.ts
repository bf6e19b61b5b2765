// The connection point registry: list, search, edit, import (CSV or JSON, with a dry run),
// export.
import express from 'express';
import { z } from 'zod';
import {
  ImportQuerySchema,
  ImportReportSchema,
  PointInputSchema,
  PointListQuerySchema,
  PointPageSchema,
  PointSchema,
  PointSummarySchema,
  PointUpdateSchema,
  PointsJsonImportSchema,
} from '../../contract/api';
import type { ControlPlane } from '../../assembly/control-plane';
import { badRequest, why } from '../../errors';
import type { ApiBuilder } from './route';
import { sendAttachment } from '../attachment';

/** Large enough for a whole country's communes as CSV (about 11,000 rows). */
export const IMPORT_LIMIT = '5mb';

const PointParamSchema = z.object({ id: PointCodeParam() });
function PointCodeParam() {
  return z
    .string()
    .min(1)
    .max(40)
    .regex(/^[A-Za-z0-9_-]+$/, 'not a point code');
}

export function registerPointRoutes(api: ApiBuilder, control: ControlPlane): void {
  const everyone = ['admin', 'host', 'technician'] as const;
  api.route(
    {
      method: 'get',
      path: '/points',
      summary: 'List points: search (accents ignored), filter by district or level, paginate',
      tag: 'points',
      roles: [...everyone],
      query: PointListQuerySchema,
      success: { status: 200, description: 'a page of points', schema: PointPageSchema },
    },
    ({ query }) => control.points.list(query),
  );
  api.route(
    {
      method: 'get',
      path: '/points/summary',
      summary: 'Totals: points and expected delegates, by level and by district',
      tag: 'points',
      roles: [...everyone],
      success: { status: 200, description: 'totals', schema: PointSummarySchema },
    },
    () => control.points.summary(),
  );
  api.route(
    {
      method: 'get',
      path: '/points/export.csv',
      summary: 'The whole registry as CSV (UTF-8 with BOM, the import format)',
      tag: 'points',
      roles: ['admin', 'host'],
      success: { status: 200, description: 'CSV', schema: z.string(), contentType: 'text/csv' },
    },
    async ({ res }) => {
      const csv = await control.points.exportCsv();
      sendAttachment(res, { type: 'text/csv; charset=utf-8', name: 'diem-cau.csv', body: csv });
    },
  );
  api.route(
    {
      method: 'post',
      path: '/points/import',
      summary:
        'Import the registry from CSV (text/csv body) or JSON ({points:[...]}). Every bad row is reported; ' +
        'nothing is imported if any row is bad. dryRun=true only reports.',
      tag: 'points',
      roles: ['admin'],
      query: ImportQuerySchema,
      bodyDoc: {
        'text/csv': { schema: z.string().meta({ description: 'header row, then one point per line' }) },
        'application/json': { schema: PointsJsonImportSchema },
      },
      parsers: [
        express.raw({ type: ['text/csv', 'text/plain', 'application/octet-stream'], limit: IMPORT_LIMIT }),
        express.json({ limit: IMPORT_LIMIT }),
      ],
      success: {
        status: 200,
        description:
          'the report; `imported` says whether anything changed. The same report comes with 422 when rows are bad',
        schema: ImportReportSchema,
      },
      errors: [409],
    },
    async ({ query, req, res }) => {
      const opts = { mode: query.mode, dryRun: query.dryRun };
      let report;
      if (query.format === 'csv') {
        if (!Buffer.isBuffer(req.body))
          throw badRequest(
            'send the CSV file as the body with Content-Type: text/csv',
            undefined,
            why('body_type', { type: 'text/csv' }),
          );
        report = await control.points.importCsv(req.body, opts);
      } else {
        if (!req.is('application/json'))
          throw badRequest(
            'send JSON with Content-Type: application/json',
            undefined,
            why('body_type', { type: 'application/json' }),
          );
        const body = PointsJsonImportSchema.parse(req.body);
        report = await control.points.importJson(body.points, opts);
      }
      // Bad rows: the request was understood but cannot be applied.
      res.status(report.issues.length > 0 ? 422 : 200).json(report);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/points/:id',
      summary: 'One point',
      tag: 'points',
      roles: [...everyone],
      params: PointParamSchema,
      success: { status: 200, description: 'the point', schema: PointSchema },
      errors: [404],
    },
    ({ params }) => control.points.require(params.id),
  );
  api.route(
    {
      method: 'post',
      path: '/points',
      summary: 'Add a point',
      tag: 'points',
      roles: ['admin'],
      body: PointInputSchema,
      success: { status: 201, description: 'created', schema: PointSchema },
      errors: [409],
    },
    ({ body }) => control.points.create(body),
  );
  api.route(
    {
      method: 'patch',
      path: '/points/:id',
      summary: 'Edit a point (not its code)',
      tag: 'points',
      roles: ['admin'],
      params: PointParamSchema,
      body: PointUpdateSchema,
      success: { status: 200, description: 'updated', schema: PointSchema },
      errors: [404, 409],
    },
    ({ params, body }) => control.points.update(params.id, body),
  );
  api.route(
    {
      method: 'delete',
      path: '/points/:id',
      summary: 'Remove a point that has no points under it',
      tag: 'points',
      roles: ['admin'],
      params: PointParamSchema,
      success: { status: 204, description: 'removed' },
      errors: [404, 409],
    },
    ({ params }) => control.points.remove(params.id),
  );
}
