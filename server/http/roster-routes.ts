// REST for a point's roster of delegates, under /api/v1 (the desk's roles read it, hosts
// and admins change it; a phone never gets it, see docs/security.md):
//   GET    /rosters/:pointId                      the roster
//   PUT    /rosters/:pointId                      replace it (JSON {entries}, or CSV as the import)
//   POST   /rosters/:pointId/import[?dryRun=true] replace it from CSV, only if every row is good;
//                                                 the report (422 with it when rows are bad)
//   POST   /rosters/:pointId/entries              add one delegate
//   PATCH  /rosters/:pointId/entries/:entryId     change one (name, position, unit)
//   DELETE /rosters/:pointId/entries/:entryId     remove one
//   GET    /rosters/:pointId/export.csv           CSV (formulas escaped)
//   GET    /rosters/:pointId/print                printable page in Vietnamese
import express, { type Request } from 'express';
import { z } from 'zod';
import { PointCodeSchema, type Role } from '../contract/api';
import {
  ROSTER_MAX_ENTRIES,
  RosterEditSchema,
  RosterEntryIdSchema,
  RosterEntrySchema,
  RosterImportReportSchema,
  RosterInputSchema,
  RosterRowSchema,
  type RosterImportReport,
} from '../contract/attendance';
import { formatInZone } from '../contract/time-zone';
import type { AttendanceService } from '../domain/attendance/service';
import { checkRosterRows, readRosterCsv, writeRosterCsv } from '../domain/attendance/roster';
import { rosterHtml } from '../domain/attendance/roster-print';
import { badRequest, notFound, why } from '../errors';
import { refuseAnnouncedOver, type ApiBuilder } from './api/route';
import { sendAttachment } from './attachment';

const READERS: Role[] = ['technician', 'host', 'admin'];
const EDITORS: Role[] = ['host', 'admin'];
/** A roster CSV of 2,000 names with positions and units is well under this. */
export const ROSTER_CSV_LIMIT_BYTES = 512 * 1024;
const PointParam = z.object({ pointId: PointCodeSchema });
const EntryParam = PointParam.extend({ entryId: RosterEntryIdSchema });
/** The JSON replace's shape; each row is checked as a CSV row is, and reported by its index + 1. */
const JsonRosterSchema = RosterInputSchema.extend({
  entries: z.array(z.unknown()).max(ROSTER_MAX_ENTRIES),
});

const csvBody = () =>
  refuseAnnouncedOver(
    ROSTER_CSV_LIMIT_BYTES,
    express.raw({ type: ['text/csv', 'text/plain', 'application/octet-stream'], limit: ROSTER_CSV_LIMIT_BYTES }),
  );

function csvOf(req: Request): Buffer {
  if (!Buffer.isBuffer(req.body)) {
    throw badRequest(
      'send the CSV file as the body with Content-Type: text/csv',
      undefined,
      why('body_type', { type: 'text/csv' }),
    );
  }
  return req.body;
}

export function addRosterRoutes(api: ApiBuilder, service: AttendanceService): void {
  const pointOf = async (id: string) => {
    const p = await service.point(id);
    if (!p) throw notFound(`point ${id}`);
    return p;
  };

  api.route(
    {
      method: 'get',
      path: '/rosters/:pointId',
      summary: "A point's roster of delegates",
      tag: 'rosters',
      roles: READERS,
      params: PointParam,
      success: { status: 200, description: 'the roster', schema: z.array(RosterEntrySchema) },
    },
    ({ params }) => service.rosters.list(params.pointId),
  );

  api.route(
    {
      method: 'put',
      path: '/rosters/:pointId',
      summary: "Replace a point's roster: JSON {entries:[{name,position,unit}]} or CSV as for the import",
      tag: 'rosters',
      roles: EDITORS,
      params: PointParam,
      bodyDoc: {
        'application/json': { schema: RosterInputSchema },
        'text/csv': {
          schema: z.string().meta({ description: 'header name,position,unit (or Họ tên,Chức vụ,Đơn vị)' }),
        },
      },
      parsers: [express.json({ limit: '256kb' }), csvBody()],
      success: { status: 200, description: 'the new roster', schema: z.array(RosterEntrySchema) },
      errors: [404, 413],
    },
    async ({ params, req }) => {
      await pointOf(params.pointId);
      const { rows, issues } = Buffer.isBuffer(req.body)
        ? readRosterCsv(req.body)
        : checkRosterRows(
            JsonRosterSchema.parse(req.body).entries.map((value, i) => ({ row: i + 1, line: null, value })),
          );
      if (issues.length > 0) throw badRequest(`${issues.length} bad rows; nothing changed`, issues);
      return service.rosters.replace(params.pointId, rows);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/rosters/:pointId/import',
      summary:
        "Replace a point's roster from CSV (UTF-8, BOM or not; header name,position,unit or Họ tên,Chức vụ,Đơn vị). " +
        'Every bad row is reported; nothing changes if any row is bad. dryRun=true only reports.',
      tag: 'rosters',
      roles: EDITORS,
      params: PointParam,
      query: z.object({ dryRun: z.enum(['true', 'false']).default('false') }),
      bodyDoc: { 'text/csv': { schema: z.string().meta({ description: 'header row, then one delegate per line' }) } },
      parsers: [csvBody()],
      success: {
        status: 200,
        description: 'the report; the same report comes with 422 when rows are bad',
        schema: RosterImportReportSchema,
      },
      errors: [404, 413],
    },
    async ({ params, query, req, res }) => {
      await pointOf(params.pointId);
      const { rows, issues } = readRosterCsv(csvOf(req));
      const dryRun = query.dryRun === 'true';
      const imported = issues.length === 0 && !dryRun;
      const entries = imported
        ? await service.rosters.replace(params.pointId, rows)
        : await service.rosters.list(params.pointId);
      const report: RosterImportReport = { dryRun, imported, rows: rows.length, issues, entries };
      res.status(issues.length > 0 ? 422 : 200).json(report);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/rosters/:pointId/entries',
      summary: 'Add one delegate to the roster',
      tag: 'rosters',
      roles: EDITORS,
      params: PointParam,
      body: RosterRowSchema,
      success: { status: 201, description: 'the new entry', schema: RosterEntrySchema },
      errors: [404, 409],
    },
    async ({ params, body }) => {
      await pointOf(params.pointId);
      return service.rosters.add(params.pointId, body);
    },
  );

  api.route(
    {
      method: 'patch',
      path: '/rosters/:pointId/entries/:entryId',
      summary: "Change one delegate's name, position or unit (check-ins made with the entry stay with it)",
      tag: 'rosters',
      roles: EDITORS,
      params: EntryParam,
      body: RosterEditSchema,
      success: { status: 200, description: 'the entry', schema: RosterEntrySchema },
      errors: [404, 409],
    },
    ({ params, body }) => service.rosters.edit(params.pointId, params.entryId, body),
  );

  api.route(
    {
      method: 'delete',
      path: '/rosters/:pointId/entries/:entryId',
      summary: 'Remove one delegate from the roster',
      tag: 'rosters',
      roles: EDITORS,
      params: EntryParam,
      success: { status: 204, description: 'removed' },
      errors: [404],
    },
    ({ params }) => service.rosters.remove(params.pointId, params.entryId),
  );

  api.route(
    {
      method: 'get',
      path: '/rosters/:pointId/export.csv',
      summary: 'The roster as CSV (UTF-8 with BOM, the import format; formulas escaped)',
      tag: 'rosters',
      roles: READERS,
      params: PointParam,
      success: { status: 200, description: 'CSV', schema: z.string(), contentType: 'text/csv' },
      errors: [404],
    },
    async ({ params, res }) => {
      const point = await pointOf(params.pointId);
      sendAttachment(res, {
        type: 'text/csv; charset=utf-8',
        name: `dai-bieu-${point.code}.csv`,
        body: writeRosterCsv(await service.rosters.list(params.pointId)),
      });
    },
  );

  api.route(
    {
      method: 'get',
      path: '/rosters/:pointId/print',
      summary: 'The roster as a printable page in Vietnamese (a column to sign)',
      tag: 'rosters',
      roles: READERS,
      params: PointParam,
      success: { status: 200, description: 'HTML', schema: z.string(), contentType: 'text/html' },
      errors: [404],
    },
    async ({ params, res }) => {
      const point = await pointOf(params.pointId);
      const entries = await service.rosters.list(params.pointId);
      const printedAt = formatInZone(new Date().toISOString(), service.timeZone, 'dateTime');
      res
        .status(200)
        .type('text/html; charset=utf-8')
        .set('Cache-Control', 'no-store')
        .send(rosterHtml(point, entries, printedAt));
    },
  );
}
