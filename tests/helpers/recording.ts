// A recording as a test reads it from RECORDING_DIR: the session's manifest.json, checked
// by its schema (undefined until the recorder wrote it); and the server a recording test
// runs against.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordingManifestSchema, type RecordingManifest } from '../../server/contract/recording';
import { ADMIN_ENV } from './briefing';
import { startTestOrchestrator, type TestOrchestrator } from './orchestrator';
import { startTestRedis, type TestRedis } from './redis';

export function manifestOf(dir: string, sessionId: string): RecordingManifest | undefined {
  const file = path.join(dir, sessionId, 'manifest.json');
  return fs.existsSync(file) ? RecordingManifestSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8'))) : undefined;
}

/** How many complete segments the manifest lists for a source (0 before any). */
export const segmentsOf = (dir: string, sessionId: string, source: string): number =>
  manifestOf(dir, sessionId)?.tracks.find((t) => t.source === source)?.segments.length ?? 0;

/** What a recording test runs against. */
export interface RecordingServer {
  r: TestRedis;
  o: TestOrchestrator;
  /** RECORDING_DIR: a fresh temporary folder, removed after the file's tests. */
  dir: string;
}

/**
 * Before the tests of the describe it is called in: Redis and an orchestrator (one worker,
 * 2 s segments, the admin, then `env`) recording into a fresh folder, given to `use`. After
 * them: `cleanup` (the test's own feeds and sockets), then both stopped and the folder gone.
 */
export function recordingServer(
  name: string,
  env: Record<string, string>,
  use: (s: RecordingServer) => void,
  cleanup: () => unknown = () => undefined,
): void {
  const s: Partial<RecordingServer> = {};
  beforeAll(async () => {
    s.dir = fs.mkdtempSync(path.join(os.tmpdir(), `briefing-${name}-`));
    s.r = await startTestRedis();
    s.o = await startTestOrchestrator(s.r.url, {
      ...ADMIN_ENV,
      MEDIASOUP_WORKERS: '1',
      RECORDING_DIR: s.dir,
      RECORDING_SEGMENT_SECONDS: '2',
      ...env,
    });
    use(s as RecordingServer);
  }, 60_000);
  afterAll(async () => {
    await cleanup();
    await s.o?.stop();
    await s.r?.cleanup();
    if (s.dir) fs.rmSync(s.dir, { recursive: true, force: true });
  });
}
