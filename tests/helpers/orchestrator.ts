// A whole control server in the test process: real Redis, real mediasoup workers,
// listening on port 0.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { loadConfig } from '../../server/config';
import { Orchestrator } from '../../server/assembly/orchestrator';

/**
 * One random secret per test file, shared by every server it starts (a restarted server
 * still accepts the links and cookies of the one before), never a value from the repository.
 */
export const TEST_APP_SECRET = randomBytes(32).toString('hex');

export interface TestOrchestrator {
  orchestrator: Orchestrator;
  baseUrl: string;
  /** Where live sessions are recorded (a temp dir removed at stop unless the test gave one). */
  recordingDir: string;
  stop: () => Promise<void>;
}

export async function startTestOrchestrator(
  redisUrl: string,
  env: Record<string, string> = {},
  /** Default: silent (TEST_LOG_LEVEL to see it). */
  logger?: Logger,
): Promise<TestOrchestrator> {
  // Live sessions are recorded, as by default, but never into the checkout.
  const ownDir = env.RECORDING_DIR ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-test-rec-'));
  const config = loadConfig({
    ...(ownDir ? { RECORDING_DIR: ownDir } : {}),
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    RTC_LISTEN_IP: '127.0.0.1',
    RTC_PORT: '0',
    MEDIASOUP_WORKERS: '1',
    LOG_LEVEL: 'silent',
    // Without DATA_DIR the server would keep a generated secret in the checkout's data/.
    ...(env.DATA_DIR ? {} : { APP_SECRET: TEST_APP_SECRET }),
    ...env,
  });
  const orchestrator = await Orchestrator.create(
    config,
    logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    redisUrl,
  );
  const addr = await orchestrator.listen();
  const stop = async () => {
    await orchestrator.stop();
    // A stopped server leaves no recorder behind: one would wait for packets for ever.
    const left = spawnSync('pgrep', ['-f', `segment_list ${config.recording.dir}/`], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    if (ownDir) fs.rmSync(ownDir, { recursive: true, force: true });
    if (left.length) throw new Error(`recorders left running after the server stopped: ${left.join(', ')}`);
  };
  return { orchestrator, baseUrl: `http://127.0.0.1:${addr.port}`, recordingDir: config.recording.dir, stop };
}

/** Polls until `fn` returns a truthy value or the time runs out. */
export async function waitFor<T>(
  fn: () => T,
  what: string,
  timeoutMs = 10_000,
  everyMs = 100,
): Promise<NonNullable<Awaited<T>>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<Awaited<T>>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * The hall's camera and microphone in a session's room, as a plain RTP ingest (no packet
 * needs to flow): what the server requires before going live, for tests that go live over
 * REST without a console.
 */
export async function publishHallInRoom(orchestrator: Orchestrator, sessionId: string): Promise<void> {
  const room = await (await orchestrator.realtime.broadcasts.get(sessionId)).requireRoom();
  await room.createPlainIngest({ video: { ssrc: 1111, payloadType: 101 }, audio: { ssrc: 2222, payloadType: 100 } });
}
