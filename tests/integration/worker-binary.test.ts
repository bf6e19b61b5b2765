// The worker binary check: the build's stamp beside the real worker, and a real copy of
// that worker whose stamp names another mediasoup version (or whose bytes changed after
// the build) refused by the worker pool and by the server's start-up.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import * as mediasoup from 'mediasoup';
import type * as Mediasoup from 'mediasoup';
import type * as WorkerPoolModule from '../../sfu/worker-pool';
import { checkWorkerBinary, stampPathOf, type WorkerStamp } from '../../sfu/worker-binary';
import { tiedSpawn } from '../../server/platform/tied-spawn';

// Starting the server process to see it refuse takes a few seconds on a loaded machine.
jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '..', '..');
const OTHER_VERSION = '3.15.8';

/** A copy of the real worker in its own directory, with the real stamp changed by `edit`. */
function copyWorker(dir: string, edit: (s: WorkerStamp) => WorkerStamp): string {
  const bin = path.join(dir, 'mediasoup-worker');
  fs.copyFileSync(mediasoup.workerBin, bin);
  fs.chmodSync(bin, 0o755);
  const stamp = JSON.parse(fs.readFileSync(stampPathOf(mediasoup.workerBin), 'utf8')) as WorkerStamp;
  fs.writeFileSync(stampPathOf(bin), JSON.stringify(edit(stamp)));
  return bin;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('the mediasoup worker binary check', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-bin-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("the installed worker carries the build's stamp for this mediasoup", () => {
    const stamp = checkWorkerBinary();
    expect(stamp.mediasoupVersion).toBe(mediasoup.version);
    expect(stamp.patchHash).toMatch(/^[0-9a-f]{12}$/);
  });

  test('a worker stamped for another mediasoup version, changed bytes, or no stamp is refused with worker_mismatch', () => {
    const other = copyWorker(dir, (s) => ({ ...s, mediasoupVersion: OTHER_VERSION }));
    expect(() => checkWorkerBinary(other)).toThrow(
      `was built for mediasoup ${OTHER_VERSION}, but this server runs mediasoup ${mediasoup.version}`,
    );
    expect(codeOf(() => checkWorkerBinary(other))).toBe('worker_mismatch');

    const same = copyWorker(fs.mkdtempSync(path.join(dir, 'b-')), (s) => s);
    expect(checkWorkerBinary(same).mediasoupVersion).toBe(mediasoup.version);
    fs.appendFileSync(same, Buffer.from([0]));
    expect(() => checkWorkerBinary(same)).toThrow('is not the binary its build stamp describes');

    fs.rmSync(stampPathOf(same));
    expect(() => checkWorkerBinary(same)).toThrow('has no build stamp');
    expect(codeOf(() => checkWorkerBinary(same))).toBe('worker_mismatch');
  });

  test('the worker pool refuses a worker stamped for another version before starting any', async () => {
    const bin = copyWorker(dir, (s) => ({ ...s, mediasoupVersion: OTHER_VERSION }));
    const saved = process.env.MEDIASOUP_WORKER_BIN;
    process.env.MEDIASOUP_WORKER_BIN = bin;
    try {
      // A fresh mediasoup module reads MEDIASOUP_WORKER_BIN, as a server started with it would.
      let fresh: { pool: typeof WorkerPoolModule; ms: typeof Mediasoup } | undefined;
      jest.isolateModules(() => {
        fresh = {
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          pool: require('../../sfu/worker-pool') as typeof WorkerPoolModule,
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          ms: require('mediasoup') as typeof Mediasoup,
        };
      });
      expect(fresh!.ms.workerBin).toBe(bin);
      const created = fresh!.pool.WorkerPool.create({
        numWorkers: 1,
        listenIp: '127.0.0.1',
        announcedIp: undefined,
        basePort: 0,
        logLevel: 'warn',
        logger: pino({ level: 'silent' }),
      });
      await expect(created).rejects.toMatchObject({
        name: 'SfuError',
        code: 'worker_mismatch',
        message: expect.stringContaining(`built for mediasoup ${OTHER_VERSION}`),
      });
    } finally {
      if (saved === undefined) delete process.env.MEDIASOUP_WORKER_BIN;
      else process.env.MEDIASOUP_WORKER_BIN = saved;
    }
  });

  test('the server does not start on a mismatched worker, and says why', async () => {
    const bin = copyWorker(dir, (s) => ({ ...s, mediasoupVersion: OTHER_VERSION }));
    const env = { ...process.env };
    delete env.REDIS_URL;
    const child = tiedSpawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
      cwd: ROOT,
      env: {
        ...env,
        MEDIASOUP_WORKER_BIN: bin,
        DATA_DIR: path.join(dir, 'data'),
        HOST: '127.0.0.1',
        PORT: '0',
        RTC_LISTEN_IP: '127.0.0.1',
        RTC_PORT: '0',
        MEDIASOUP_WORKERS: '1',
        LOG_PRETTY: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (b) => (out += b));
    child.stderr!.on('data', (b) => (out += b));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(out).toContain(`Start-up failed: mediasoup worker ${bin} was built for mediasoup ${OTHER_VERSION}`);
    expect(out).not.toContain('Host console:');
  });
});
