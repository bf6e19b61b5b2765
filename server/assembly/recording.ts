// What follows a recording after its session ends: the archive job (one playable file with
// chapters, server/recording/archive.ts), queued on every node but an edge and run where
// ARCHIVE_JOBS is on (a cluster can keep the encode off the nodes carrying live media, on a
// node that sees the same RECORDING_DIR); and the recordings' routes for the host console
// (server/http/recording-routes.ts).
import type { Router } from 'express';
import type { Logger } from 'pino';
import type { Auth } from '../auth/auth';
import type { ApiBuilder } from '../http/api/route';
import { recordingRouter } from '../http/recording-routes';
import type { Config } from '../config';
import { ArchiveJobs } from '../jobs/archive-jobs';
import { makeArchive } from '../recording/archive';
import { recordingDir } from '../recording/recordings';

export interface RecordingModuleDeps {
  config: Config;
  logger: Logger;
  redisUrl: string;
  auth: Pick<Auth, 'attachUser'>;
}

export class RecordingModule {
  /** Undefined where nothing is recorded (RECORDING=false, or an edge node). */
  readonly archives: ArchiveJobs | undefined;
  readonly routes: { router: Router; api: ApiBuilder };

  constructor(deps: RecordingModuleDeps) {
    const { config, logger } = deps;
    this.archives =
      config.recording.enabled && config.cluster.role !== 'edge' ? new ArchiveJobs(deps.redisUrl, logger) : undefined;
    this.routes = recordingRouter({ dir: config.recording.dir, archives: this.archives, logger }, deps.auth);
    if (!this.archives) return;
    const log = logger.child({ component: 'archive' });
    if (!config.recording.archive.jobs) {
      log.info('archive jobs run on other nodes (ARCHIVE_JOBS=off)');
      return;
    }
    this.archives.start(config.cluster.nodeId, (sessionId, progress, signal) =>
      makeArchive(recordingDir(config.recording.dir, sessionId), {
        ffmpegPath: config.recording.ffmpegPath,
        nice: config.recording.archive.nice,
        height: config.recording.archive.height,
        log: log.child({ sessionId }),
        onProgress: (p) => void progress(p).catch(() => undefined),
        signal,
      }),
    );
  }

  close(): Promise<void> {
    return this.archives?.close() ?? Promise.resolve();
  }
}
