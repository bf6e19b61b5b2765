// The desk's alerts over REST, for the desk's other tools (an incident tracker, an SMS or
// Zalo gateway's replies), the same actions as the monitor's `alert:*` requests:
//   GET  /alerts/:sessionId                       every alert, newest first (?state= filters)
//   POST /alerts/:sessionId/:alertId/acknowledge  seen by the desk
//   POST /alerts/:sessionId/:alertId/assign       {assignee}: someone is on it (acknowledges too)
//   POST /alerts/:sessionId/:alertId/resolve      done; a resolved alert stays resolved
import express from 'express';
import { z } from 'zod';
import { IdParamSchema, type Role } from '../contract/api';
import { AlertSchema } from '../contract/attendance';
import type { AttendanceService } from '../domain/attendance/service';
import type { ApiBuilder } from './api/route';

/** The desk: who sees the monitor. */
const DESK: Role[] = ['technician', 'host', 'admin'];
const SessionParam = z.object({ sessionId: IdParamSchema.shape.id });
const AlertParam = SessionParam.extend({ alertId: z.string().regex(/^A[0-9]{1,12}$/, 'an alert id (A1, A2, …)') });
const tag = 'alerts';

export function addAlertRoutes(api: ApiBuilder, service: AttendanceService): void {
  api.route(
    {
      method: 'get',
      path: '/alerts/:sessionId',
      summary: "The session's alerts, newest first; `state` keeps one state only",
      tag,
      roles: DESK,
      params: SessionParam,
      query: z.object({ state: AlertSchema.shape.state.optional() }).strict(),
      success: { status: 200, description: 'the alerts', schema: z.array(AlertSchema) },
      errors: [404],
    },
    async ({ params, query }) => {
      await service.requireSession(params.sessionId);
      const all = await service.alerts.list(params.sessionId);
      return query.state ? all.filter((a) => a.state === query.state) : all;
    },
  );

  api.route(
    {
      method: 'post',
      path: '/alerts/:sessionId/:alertId/acknowledge',
      summary: 'Acknowledge an alert: the desk has seen it',
      tag,
      roles: DESK,
      params: AlertParam,
      success: { status: 200, description: 'the alert, acknowledged', schema: AlertSchema },
      errors: [404, 409],
    },
    ({ params, user }) => service.acknowledgeAlert(params.sessionId, params.alertId, user!.username),
  );

  api.route(
    {
      method: 'post',
      path: '/alerts/:sessionId/:alertId/assign',
      summary: 'Assign an alert to someone (acknowledges it if it was not yet)',
      tag,
      roles: DESK,
      params: AlertParam,
      body: z.object({ assignee: z.string().trim().min(1).max(80) }).strict(),
      parsers: [express.json({ limit: '4kb' })],
      success: { status: 200, description: 'the alert, assigned', schema: AlertSchema },
      errors: [404, 409],
    },
    ({ params, body, user }) => service.assignAlert(params.sessionId, params.alertId, body.assignee, user!.username),
  );

  api.route(
    {
      method: 'post',
      path: '/alerts/:sessionId/:alertId/resolve',
      summary: 'Resolve an alert (idempotent)',
      tag,
      roles: DESK,
      params: AlertParam,
      success: { status: 200, description: 'the alert, resolved', schema: AlertSchema },
      errors: [404],
    },
    ({ params, user }) => service.clearAlert(params.sessionId, params.alertId, user!.username),
  );
}
