// Briefing sessions, their state changes, and their join links (list, QR, revoke,
// re-issue, CSV and printable exports); the public join-token check.
import { z } from 'zod';
import {
  IdParamSchema,
  JoinInfoSchema,
  JoinLinkPageSchema,
  JoinLinkSchema,
  LinkListQuerySchema,
  SessionActionSchema,
  SessionCreateSchema,
  SessionListQuerySchema,
  SessionPageSchema,
  SessionSchema,
  SessionPointParamSchema,
  SessionUpdateSchema,
  SipDialInSchema,
  TokenParamSchema,
} from '../../contract/api';
import type { ControlPlane } from '../../assembly/control-plane';
import { linksCsv, linksPrintSheet } from '../../domain/links/export';
import { qrSvg } from '../../domain/links/join-links';
import type { ApiBuilder } from './route';
import { sendAttachment } from '../attachment';

const everyone = ['admin', 'host', 'technician'] as const;
const hosts = ['admin', 'host'] as const;
const actor = (u: { username: string } | undefined) => ({ username: u?.username ?? 'unknown' });

/** The sessions and their state changes. */
export function registerSessionRoutes(api: ApiBuilder, control: ControlPlane): void {
  api.route(
    {
      method: 'get',
      path: '/sessions',
      summary: 'List sessions, newest start first',
      tag: 'sessions',
      roles: [...everyone],
      query: SessionListQuerySchema,
      success: { status: 200, description: 'a page of sessions', schema: SessionPageSchema },
    },
    ({ query }) => control.sessions.list(query),
  );
  api.route(
    {
      method: 'post',
      path: '/sessions',
      summary: 'Create a session (draft); the lobby opens 60 minutes before the start unless given',
      tag: 'sessions',
      roles: [...hosts],
      body: SessionCreateSchema,
      success: { status: 201, description: 'created', schema: SessionSchema },
    },
    ({ body, user }) => control.sessions.create(body, actor(user)),
  );
  api.route(
    {
      method: 'get',
      path: '/sessions/:id',
      summary: 'One session with its agenda, invited points and history',
      tag: 'sessions',
      roles: [...everyone],
      params: IdParamSchema,
      success: { status: 200, description: 'the session', schema: SessionSchema },
      errors: [404],
    },
    ({ params }) => control.sessions.require(params.id),
  );
  api.route(
    {
      method: 'patch',
      path: '/sessions/:id',
      summary: 'Edit; moving the times reschedules its jobs',
      tag: 'sessions',
      roles: [...hosts],
      params: IdParamSchema,
      body: SessionUpdateSchema,
      success: { status: 200, description: 'updated', schema: SessionSchema },
      errors: [404, 409],
    },
    ({ params, body, user }) => control.sessions.update(params.id, body, actor(user)),
  );
  api.route(
    {
      method: 'delete',
      path: '/sessions/:id',
      summary: 'Delete a draft or cancelled session',
      tag: 'sessions',
      roles: [...hosts],
      params: IdParamSchema,
      success: { status: 204, description: 'deleted' },
      errors: [404, 409],
    },
    async ({ params, user }) => {
      await control.sessions.remove(params.id, actor(user));
      await control.documents.removeAll(params.id);
    },
  );
  api.route(
    {
      method: 'post',
      path: '/sessions/:id/:action',
      summary:
        'Change state: schedule (draft→scheduled), open-lobby (scheduled→lobby, early), start (scheduled|lobby→live), ' +
        'end (live→ended), cancel (draft|scheduled|lobby→cancelled). Anything else is 409. ' +
        'start is refused (409 no_hall_media) until the hall publishes a camera or microphone from the console.',
      tag: 'sessions',
      roles: [...hosts],
      params: IdParamSchema.extend({ action: SessionActionSchema }),
      parsers: [],
      success: { status: 200, description: 'the session in its new state', schema: SessionSchema },
      errors: [404, 409],
    },
    async ({ params, user }) => {
      if (params.action === 'start') await control.hallMedia.requireToStart(await control.sessions.require(params.id));
      return control.sessions.act(params.id, params.action, actor(user));
    },
  );
}

/** The join links of a session's points (list, exports, QR, revoke, re-issue) and the point's side. */
export function registerLinkRoutes(api: ApiBuilder, control: ControlPlane): void {
  api.route(
    {
      method: 'get',
      path: '/sessions/:id/links',
      summary: 'The join link of each invited point (issued on first listing)',
      tag: 'links',
      roles: [...hosts],
      params: IdParamSchema,
      query: LinkListQuerySchema,
      success: { status: 200, description: 'a page of links', schema: JoinLinkPageSchema },
      errors: [404],
    },
    ({ params, query, res }) => {
      res.set('Cache-Control', 'no-store');
      return control.links.list(params.id, query);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/sessions/:id/links.csv',
      summary: 'All links as CSV (UTF-8 with BOM)',
      tag: 'links',
      roles: [...hosts],
      params: IdParamSchema,
      success: { status: 200, description: 'CSV', schema: z.string(), contentType: 'text/csv' },
      errors: [404],
    },
    async ({ params, res }) => {
      const { links } = await control.links.all(params.id);
      sendAttachment(res, {
        type: 'text/csv; charset=utf-8',
        name: `duong-dan-${params.id}.csv`,
        body: linksCsv(links),
      });
    },
  );
  api.route(
    {
      method: 'get',
      path: '/sessions/:id/links/print',
      summary: 'A printable sheet (HTML, Vietnamese): one card per point with its QR code',
      tag: 'links',
      roles: [...hosts],
      params: IdParamSchema,
      success: { status: 200, description: 'HTML', schema: z.string(), contentType: 'text/html' },
      errors: [404],
    },
    async ({ params, res }) => {
      const { session, links } = await control.links.all(params.id);
      res
        .type('text/html; charset=utf-8')
        .set('Cache-Control', 'no-store')
        .send(await linksPrintSheet(session, links, control.timeZone));
    },
  );
  api.route(
    {
      method: 'get',
      path: '/sessions/:id/links/:pointId',
      summary: "One point's link",
      tag: 'links',
      roles: [...hosts],
      params: SessionPointParamSchema,
      success: { status: 200, description: 'the link', schema: JoinLinkSchema },
      errors: [404],
    },
    ({ params, res }) => {
      res.set('Cache-Control', 'no-store');
      return control.links.one(params.id, params.pointId);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/sessions/:id/links/:pointId/qr.svg',
      summary: "The QR code of one point's link (SVG)",
      tag: 'links',
      roles: [...hosts],
      params: SessionPointParamSchema,
      success: { status: 200, description: 'SVG', schema: z.string(), contentType: 'image/svg+xml' },
      errors: [404],
    },
    async ({ params, res }) => {
      const link = await control.links.one(params.id, params.pointId);
      res
        .type('image/svg+xml')
        .set('Cache-Control', 'no-store')
        .send(await qrSvg(link.url));
    },
  );
  api.route(
    {
      method: 'get',
      path: '/sessions/:id/links/:pointId/sip',
      summary: "How the point's room system dials in over SIP: address, digest user name and PIN",
      tag: 'links',
      roles: [...hosts],
      params: SessionPointParamSchema,
      success: { status: 200, description: 'the SIP dial-in', schema: SipDialInSchema },
      errors: [404],
    },
    ({ params, res }) => {
      res.set('Cache-Control', 'no-store');
      return control.links.sipDialIn(params.id, params.pointId);
    },
  );
  for (const [verb, reissue] of [
    ['revoke', false],
    ['reissue', true],
  ] as const) {
    api.route(
      {
        method: 'post',
        path: `/sessions/:id/links/:pointId/${verb}`,
        summary: reissue
          ? "Give the point a new link; its old one stops working (the point's open connections are dropped)"
          : "Revoke the point's link; re-issue to give it a new one",
        tag: 'links',
        roles: [...hosts],
        params: SessionPointParamSchema,
        parsers: [],
        success: { status: 200, description: 'the link now', schema: JoinLinkSchema },
        errors: [404],
      },
      ({ params, user }) => control.links.revoke(params.id, params.pointId, { reissue, by: actor(user).username }),
    );
  }

  // ── the point's side ──
  api.route(
    {
      method: 'get',
      path: '/join/:token',
      summary: "What a point's page needs from its token: the session and the point",
      tag: 'join',
      roles: 'public',
      params: TokenParamSchema,
      success: { status: 200, description: 'the session and point', schema: JoinInfoSchema },
      errors: [401, 409, 410],
    },
    ({ params, res }) => {
      res.set('Cache-Control', 'no-store');
      return control.links.joinInfo(params.token);
    },
  );
}
