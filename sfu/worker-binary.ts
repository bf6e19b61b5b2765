// The check that the mediasoup worker binary is the one built for this mediasoup: the
// Node side and the worker speak a private protocol that changes between versions, and
// the product relies on the fixes its build applies (scripts/worker-fixes.mjs). The build
// (scripts/build-worker.mjs) writes a stamp beside the binary; a binary without one, one
// built for another mediasoup version, or one whose bytes are not those the stamp
// describes (replaced after the build) is refused before any worker starts.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import * as mediasoup from 'mediasoup';
import { SfuError } from './errors';

export interface WorkerStamp {
  mediasoupVersion: string;
  /** The build's fixes and settings (scripts/build-worker.mjs patchHash). */
  patchHash: string;
  sha256: string;
}

const REBUILD = 'run `node scripts/build-worker.mjs` (npm start and npm test do)';

export const stampPathOf = (bin: string): string => `${bin}.stamp.json`;

function readStamp(bin: string): WorkerStamp {
  const file = stampPathOf(bin);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new SfuError(
      'worker_mismatch',
      `mediasoup worker ${bin} has ${missing ? 'no build stamp' : 'an unreadable build stamp'} (${file}): ${REBUILD}`,
      { cause: err },
    );
  }
  const s = (raw ?? {}) as Partial<Record<keyof WorkerStamp, unknown>>;
  const { mediasoupVersion, patchHash, sha256 } = s;
  if (!isText(mediasoupVersion) || !isText(patchHash) || !isText(sha256)) {
    throw new SfuError('worker_mismatch', `mediasoup worker build stamp ${file} is malformed: ${REBUILD}`);
  }
  return { mediasoupVersion, patchHash, sha256 };
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 128;

// One hash per binary file as it is (path, size and modification time): a respawn does
// not read the file again unless it changed.
const verified = new Map<string, string>();

/**
 * Answers the stamp of `bin` (mediasoup's worker binary by default) when it was built for
 * `version` (the running mediasoup's) and is unchanged since; throws a `worker_mismatch`
 * SfuError saying what is wrong and how to fix it otherwise.
 */
export function checkWorkerBinary(bin: string = mediasoup.workerBin, version: string = mediasoup.version): WorkerStamp {
  let st: fs.Stats;
  try {
    st = fs.statSync(bin);
  } catch (err) {
    throw new SfuError('worker_mismatch', `mediasoup worker ${bin} is missing: ${REBUILD}`, { cause: err });
  }
  const stamp = readStamp(bin);
  if (stamp.mediasoupVersion !== version) {
    throw new SfuError(
      'worker_mismatch',
      `mediasoup worker ${bin} was built for mediasoup ${stamp.mediasoupVersion}, but this server runs mediasoup ${version}: ${REBUILD}`,
    );
  }
  const key = `${bin}\n${st.size}\n${st.mtimeMs}`;
  let sha = verified.get(key);
  if (sha === undefined) {
    sha = createHash('sha256').update(fs.readFileSync(bin)).digest('hex');
    verified.set(key, sha);
  }
  if (sha !== stamp.sha256) {
    throw new SfuError(
      'worker_mismatch',
      `mediasoup worker ${bin} is not the binary its build stamp describes (replaced after the build?): ${REBUILD}`,
    );
  }
  return stamp;
}
