// The recordings, for the host console's Recordings view (admin and host only, like every
// route here; never served from the static files):
//   GET    /recordings                     every session recorded, newest first
//   GET    /recordings/:sessionId          one, with its manifest, archive and archive job
//   GET    /recordings/:sessionId/archive  the archive file (ranges: a player seeks in it)
//   POST   /recordings/:sessionId/archive  make the archive again (a job)
//   POST   /recordings/:sessionId/verify   every file checked against its sha256
//   DELETE /recordings/:sessionId          admin only, the session id given again; logged
import fs from 'node:fs/promises';
import path from 'node:path';
import { Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { IdParamSchema, type Role } from '../contract/api';
import {
  RecordingDeleteSchema,
  RecordingDetailSchema,
  RecordingSummarySchema,
  RecordingVerifySchema,
  ArchiveJobStateSchema,
  type RecordingManifest,
  type RecordingSummary,
} from '../contract/recording';
import { sameOriginOnly, type Auth } from '../auth/auth';
import { badRequest, conflict, notFound } from '../errors';
import type { ArchiveJobs } from '../jobs/archive-jobs';
import { readArchiveInfo } from '../recording/archive';
import { sha256File } from '../recording/ffmpeg-track';
import { recordingDir } from '../recording/recordings';
import { readManifest } from '../recording/session-recording';
import { ApiBuilder } from './api/route';
import { sendStoredFile } from './attachment';

const PREFIX = '/api/v1';
const VIEWERS: Role[] = ['admin', 'host'];
const SessionParam = z.object({ sessionId: IdParamSchema.shape.id });

export interface RecordingRoutesDeps {
  /** The recording directory (RECORDING_DIR). */
  dir: string;
  /** Undefined where archives are not made (recording off). */
  archives: Pick<ArchiveJobs, 'queueArchive' | 'stateOf'> | undefined;
  logger: Logger;
}

const msBetween = (from: string, to: string | null) => (to ? Math.max(0, Date.parse(to) - Date.parse(from)) : 0);

export function buildRecordingApi(deps: RecordingRoutesDeps): ApiBuilder {
  const api = new ApiBuilder(PREFIX);
  const log = deps.logger.child({ component: 'recordings' });
  const dirOf = (sessionId: string) => recordingDir(deps.dir, sessionId);

  const summary = async (m: RecordingManifest): Promise<RecordingSummary> => ({
    sessionId: m.sessionId,
    title: m.title,
    state: m.state,
    startedAt: m.startedAt,
    stoppedAt: m.stoppedAt,
    seconds: msBetween(m.startedAt, m.stoppedAt ?? m.updatedAt) / 1000,
    bytes: m.tracks.reduce((n, t) => n + t.segments.reduce((b, s) => b + s.bytes, 0), 0),
    tracks: m.tracks.length,
    gaps: m.gaps.length,
    archive: (await readArchiveInfo(dirOf(m.sessionId))) ?? null,
    job: (await deps.archives?.stateOf(m.sessionId)) ?? null,
  });
  const manifestOf = async (sessionId: string) => {
    const m = await readManifest(dirOf(sessionId));
    if (!m) throw notFound('recording');
    return m;
  };

  api.route(
    {
      method: 'get',
      path: '/recordings',
      summary: 'Every recorded session, newest first',
      tag: 'recordings',
      roles: VIEWERS,
      success: { status: 200, description: 'the recordings', schema: z.array(RecordingSummarySchema) },
    },
    async () => {
      const names = await fs.readdir(deps.dir).catch(() => [] as string[]);
      const manifests = (await Promise.all(names.map((n) => readManifest(path.join(deps.dir, n))))).filter(
        (m): m is RecordingManifest => m !== undefined,
      );
      manifests.sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
      return Promise.all(manifests.map(summary));
    },
  );

  api.route(
    {
      method: 'get',
      path: '/recordings/:sessionId',
      summary: 'One recording: its manifest (tracks, segments, gaps, timeline), archive and archive job',
      tag: 'recordings',
      roles: VIEWERS,
      params: SessionParam,
      success: { status: 200, description: 'the recording', schema: RecordingDetailSchema },
      errors: [404],
    },
    async ({ params }) => {
      const m = await manifestOf(params.sessionId);
      return { ...(await summary(m)), manifest: m };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/recordings/:sessionId/archive',
      summary: 'The archive file (WebM or Matroska); `?download` to save it',
      tag: 'recordings',
      roles: VIEWERS,
      params: SessionParam,
      success: { status: 200, description: 'the archive', contentType: 'video/webm', schema: z.string() },
      errors: [404, 412, 416],
    },
    async ({ params, req, res }) => {
      const dir = dirOf(params.sessionId);
      const info = await readArchiveInfo(dir);
      if (!info) throw notFound('archive');
      await sendStoredFile(res, {
        file: path.basename(info.file),
        root: dir,
        type: info.file.endsWith('.webm') ? 'video/webm' : 'video/x-matroska',
        name: `ghi-hinh-${params.sessionId}${path.extname(info.file)}`,
        download: req.query.download !== undefined,
        // A player seeks with ranges, checked against these.
        validators: true,
        what: 'archive',
        cut: { log, msg: 'an archive was cut off while sent', fields: { sessionId: params.sessionId } },
      });
    },
  );

  api.route(
    {
      method: 'post',
      path: '/recordings/:sessionId/archive',
      summary: 'Make the archive again (a job at low CPU priority); poll GET for its progress',
      tag: 'recordings',
      roles: VIEWERS,
      params: SessionParam,
      success: { status: 202, description: 'queued', schema: ArchiveJobStateSchema },
      errors: [404, 409],
    },
    async ({ params }) => {
      const m = await manifestOf(params.sessionId);
      if (m.state !== 'stopped') throw conflict('the recording is still going on');
      if (!deps.archives) throw conflict('recording is switched off on this server');
      await deps.archives.queueArchive(params.sessionId, true);
      return (await deps.archives.stateOf(params.sessionId)) ?? { state: 'queued', progress: 0, error: null };
    },
  );

  api.route(
    {
      method: 'post',
      path: '/recordings/:sessionId/verify',
      summary: 'Check every segment and the archive against the sha256 recorded for it',
      tag: 'recordings',
      roles: VIEWERS,
      params: SessionParam,
      success: { status: 200, description: 'the check', schema: RecordingVerifySchema },
      errors: [404],
    },
    async ({ params }) => {
      const dir = dirOf(params.sessionId);
      const m = await manifestOf(params.sessionId);
      const archive = await readArchiveInfo(dir);
      const files = [
        ...m.tracks.flatMap((t) => t.segments.map((s) => ({ file: s.file, sha256: s.sha256 }))),
        ...(archive ? [{ file: archive.file, sha256: archive.sha256 }] : []),
      ];
      const mismatches: string[] = [];
      for (const f of files) {
        const actual = await sha256File(path.join(dir, path.normalize(f.file))).catch(() => null);
        if (actual !== f.sha256) mismatches.push(f.file);
      }
      return { checked: files.length, ok: mismatches.length === 0, mismatches };
    },
  );

  api.route(
    {
      method: 'delete',
      path: '/recordings/:sessionId',
      summary: 'Delete a recording and its archive (admin; the body repeats the session id)',
      tag: 'recordings',
      roles: ['admin'],
      params: SessionParam,
      body: RecordingDeleteSchema,
      parsers: api.defaultParsers(),
      success: { status: 204, description: 'deleted' },
      errors: [404, 409],
    },
    async ({ params, body, user }) => {
      if (body.confirm !== params.sessionId) throw badRequest('confirm with the session id of the recording');
      const m = await manifestOf(params.sessionId);
      if (m.state !== 'stopped') throw conflict('the recording is still going on');
      const job = await deps.archives?.stateOf(params.sessionId);
      if (job?.state === 'running' || job?.state === 'queued') throw conflict('its archive is being made');
      await fs.rm(dirOf(params.sessionId), { recursive: true, force: true });
      log.warn({ sessionId: params.sessionId, by: user?.username, title: m.title }, 'recording deleted');
    },
  );
  return api;
}

/** Mount before finishApp(). */
export function recordingRouter(
  deps: RecordingRoutesDeps,
  auth: Pick<Auth, 'attachUser'>,
): { router: Router; api: ApiBuilder } {
  const api = buildRecordingApi(deps);
  const router = Router();
  router.use(PREFIX, sameOriginOnly(), auth.attachUser(), api.router);
  return { router, api };
}
