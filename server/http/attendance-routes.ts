// REST for attendance, under /api/v1 (declared with the control plane's ApiBuilder, so
// each route is zod-validated, role-checked and documented the same way):
//   GET  /checkin/:token            public, rate-limited: what the phone shows + a ticket;
//                                   sets the phone's device cookie when it has none
//   POST /checkin                   public, rate-limited: check a delegate in (once), from
//                                   the phone the ticket was given to (its device cookie)
//   GET  /checkins/:sessionId       the desk: every check-in, voided ones included
//   POST /checkins/:sessionId/:pointId/:checkinId/void   the desk voids one (kept, not counted)
//   /rosters/:pointId/…             a point's roster (roster-routes.ts)
//   GET  /attendance/:sessionId     totals by district and province
//   GET  /reports/:sessionId        is the report ready
//   POST /reports/:sessionId        (re)generate it (a BullMQ job)
//   GET  /reports/:sessionId/csv    download
//   GET  /reports/:sessionId/html   printable page (Vietnamese)
//   /alerts/:sessionId/…            the desk's alerts (alert-routes.ts)
import express, { Router, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { IdParamSchema, PointCodeSchema, type Role } from '../contract/api';
import {
  CheckinEntrySchema,
  CheckinInfoSchema,
  CheckinResultSchema,
  CheckinSubmitSchema,
  CheckinTokenSchema,
  CheckinVoidSchema,
  RollupSchema,
  ReportStatusSchema,
} from '../contract/attendance';
import { parseCookies, RedisRateLimitStore, sameOriginOnly, type Auth } from '../auth/auth';
import type { AttendanceService } from '../domain/attendance/service';
import { AppError, notFound } from '../errors';
import { addAlertRoutes } from './alert-routes';
import { addRosterRoutes } from './roster-routes';
import { ApiBuilder } from './api/route';
import { sendAttachment } from './attachment';

export const ATTENDANCE_PREFIX = '/api/v1';
/** Per address: a room of 100 delegates behind one NAT opens and sends the form. */
export const CHECKIN_LIMIT = { windowMs: 60_000, limit: 600 };

const READERS: Role[] = ['technician', 'host', 'admin'];
const SessionParam = z.object({ sessionId: IdParamSchema.shape.id });

/** The phone's device id (checkin-token.ts), sent only to the check-in API. */
export const DEVICE_COOKIE = 'briefing_device';
const DEVICE_COOKIE_PATH = `${ATTENDANCE_PREFIX}/checkin`;
/** Longer than any briefing, so a phone stays the same device for a whole session. */
const DEVICE_COOKIE_MAX_AGE_MS = 7 * 24 * 3600_000;

const deviceCookie = (service: AttendanceService, req: Request) =>
  service.tokens.deviceOf(parseCookies(req.headers.cookie).get(DEVICE_COOKIE));

function setDeviceCookie(req: Request, res: Response, value: string): void {
  res.cookie(DEVICE_COOKIE, value, {
    httpOnly: true,
    sameSite: 'strict',
    secure: req.secure,
    path: DEVICE_COOKIE_PATH,
    maxAge: DEVICE_COOKIE_MAX_AGE_MS,
  });
}

/** Check-ins: the phone's side, rate-limited, and the desk's. */
function addCheckinRoutes(api: ApiBuilder, service: AttendanceService, redis: Redis): void {
  const limiter = rateLimit({
    windowMs: CHECKIN_LIMIT.windowMs,
    limit: CHECKIN_LIMIT.limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store: new RedisRateLimitStore(redis, 'checkin'),
    passOnStoreError: true,
    handler: (_req, _res, next) =>
      next(new AppError('rate_limited', 'too many check-ins from this address; wait a minute')),
  });

  api.route(
    {
      method: 'get',
      path: '/checkin/:token',
      summary:
        "Open a check-in QR code: the session, the point, the phone's own check-in and a ticket for the form; sets the device cookie",
      tag: 'attendance',
      roles: 'public',
      params: z.object({ token: CheckinTokenSchema }),
      parsers: [limiter],
      success: { status: 200, description: 'the form to show', schema: CheckinInfoSchema },
      errors: [401, 409, 410, 429],
    },
    async ({ params, req, res }) => {
      res.set('Cache-Control', 'no-store');
      const known = deviceCookie(service, req);
      const fresh = known === undefined ? service.tokens.newDevice() : undefined;
      const info = await service.checkinInfo(params.token, known ?? fresh!.device);
      if (fresh) setDeviceCookie(req, res, fresh.cookie);
      return info;
    },
  );

  api.route(
    {
      method: 'post',
      path: '/checkin',
      summary:
        "Check a delegate in from the phone that opened the form (its device cookie): once per delegate and per phone, up to the point's cap",
      tag: 'attendance',
      roles: 'public',
      body: CheckinSubmitSchema,
      parsers: [limiter, express.json({ limit: '4kb' })],
      success: { status: 200, description: 'checked in (or already was)', schema: CheckinResultSchema },
      errors: [401, 409, 410, 429],
    },
    ({ body, req }) => service.checkinSubmit(body, deviceCookie(service, req)),
  );

  api.route(
    {
      method: 'get',
      path: '/checkins/:sessionId',
      summary: "The session's check-ins, newest first, voided ones included (of one point with ?pointId=)",
      tag: 'attendance',
      roles: READERS,
      params: SessionParam,
      query: z.object({ pointId: PointCodeSchema.optional() }),
      success: { status: 200, description: 'the check-ins', schema: z.array(CheckinEntrySchema) },
      errors: [404],
    },
    async ({ params, query }) => {
      await service.requireSession(params.sessionId);
      return service.checkins(params.sessionId, query.pointId);
    },
  );

  api.route(
    {
      method: 'post',
      path: '/checkins/:sessionId/:pointId/:checkinId/void',
      summary: 'Void a suspicious check-in: kept with who, when and why; no longer counted nor in the report',
      tag: 'attendance',
      roles: READERS,
      params: SessionParam.extend({ pointId: PointCodeSchema, checkinId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) }),
      body: CheckinVoidSchema,
      parsers: [express.json({ limit: '4kb' })],
      success: { status: 200, description: 'the check-in, voided', schema: CheckinEntrySchema },
      errors: [404],
    },
    ({ params, body, user }) =>
      service.voidCheckin(
        { sessionId: params.sessionId, pointId: params.pointId },
        params.checkinId,
        body.reason,
        user!.username,
      ),
  );
}

/** Attendance totals and the session's report (its state, a new run, the files). */
function addReportRoutes(api: ApiBuilder, service: AttendanceService): void {
  api.route(
    {
      method: 'get',
      path: '/attendance/:sessionId',
      summary: 'Attendance totals by district and province',
      tag: 'attendance',
      roles: READERS,
      params: SessionParam,
      success: {
        status: 200,
        description: 'totals',
        schema: z.object({ province: RollupSchema, districts: z.array(RollupSchema) }),
      },
      errors: [404],
    },
    async ({ params }) => {
      const t = await service.tiles(params.sessionId);
      return { province: t.province, districts: t.districts };
    },
  );

  const status = async (sessionId: string) => {
    const generatedAt = await service.reports.generatedAt(sessionId);
    const queued = await service.jobs.reportQueued(sessionId);
    const base = `${ATTENDANCE_PREFIX}/reports/${sessionId}`;
    return {
      sessionId,
      state: queued ? ('queued' as const) : generatedAt ? ('ready' as const) : ('none' as const),
      generatedAt,
      csvUrl: generatedAt ? `${base}/csv` : null,
      htmlUrl: generatedAt ? `${base}/html` : null,
    };
  };

  api.route(
    {
      method: 'get',
      path: '/reports/:sessionId',
      summary: 'Whether the attendance and quality report is ready, and where',
      tag: 'reports',
      roles: READERS,
      params: SessionParam,
      success: { status: 200, description: 'report status', schema: ReportStatusSchema },
    },
    ({ params }) => status(params.sessionId),
  );

  api.route(
    {
      method: 'post',
      path: '/reports/:sessionId',
      summary: 'Generate the report again (a job); poll GET for `ready`',
      tag: 'reports',
      roles: READERS,
      params: SessionParam,
      success: { status: 202, description: 'queued', schema: ReportStatusSchema },
      errors: [404],
    },
    async ({ params }) => {
      await service.requireSession(params.sessionId);
      await service.jobs.queueReport(params.sessionId, 'requested');
      return status(params.sessionId);
    },
  );

  for (const format of ['csv', 'html'] as const) {
    api.route(
      {
        method: 'get',
        path: `/reports/:sessionId/${format}`,
        summary: format === 'csv' ? 'The report as CSV (UTF-8)' : 'The report as a printable page in Vietnamese',
        tag: 'reports',
        roles: READERS,
        params: SessionParam,
        success: {
          status: 200,
          description: format,
          schema: z.string(),
          contentType: format === 'csv' ? 'text/csv' : 'text/html',
        },
        errors: [404],
      },
      async ({ params, req, res }) => {
        const body = await service.reports.get(params.sessionId, format);
        if (body === null) throw notFound('report (generate it first)');
        const name = `bao-cao-diem-danh-${params.sessionId}.${format}`;
        sendAttachment(res, {
          type: format === 'csv' ? 'text/csv; charset=utf-8' : 'text/html; charset=utf-8',
          name,
          body,
          inline: format !== 'csv' && req.query.download === undefined,
        });
      },
    );
  }
}

/** Mounted by serveRoutes (server/assembly/app.ts) before the fallbacks. */
export function attendanceRouter(
  service: AttendanceService,
  redis: Redis,
  auth: Pick<Auth, 'attachUser'>,
): { router: Router; api: ApiBuilder } {
  const api = new ApiBuilder(ATTENDANCE_PREFIX);
  addCheckinRoutes(api, service, redis);
  addReportRoutes(api, service);
  addAlertRoutes(api, service);
  addRosterRoutes(api, service);
  const router = Router();
  router.use(ATTENDANCE_PREFIX, sameOriginOnly(), auth.attachUser(), api.router);
  return { router, api };
}
