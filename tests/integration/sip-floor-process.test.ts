// One of the floor's transcoders that keeps dying: started again after each death until
// its restarts run out, then left stopped and the floor is to end (the owner is told once).
// A real child process stands in for ffmpeg: it takes the input port, then dies.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { AppError } from '../../server/errors';
import { freeRtpPort } from '../../server/recording/ffmpeg-track';
import { FloorProcess } from '../../server/sip/floor-process';
import { waitFor } from '../helpers/orchestrator';

const IP = '127.0.0.1';

test('a floor transcoder that keeps dying is restarted `max` times, then left stopped and the floor ended', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'floor-process-'));
  const starts = path.join(dir, 'starts');
  const port = await freeRtpPort(IP);
  // Takes the port (as ffmpeg listening on its tap), notes its start, dies 1.5 s later (well
  // after the start's check that it listens).
  const script = `const s = require('node:dgram').createSocket('udp4');
s.bind(${port}, '${IP}', () => { require('node:fs').appendFileSync(${JSON.stringify(starts)}, 'x'); setTimeout(() => process.exit(1), 1500); });`;
  const gaveUp: AppError[] = [];
  let live = true;
  const p = new FloorProcess({
    what: 'floor audio transcoder',
    ffmpegPath: process.execPath,
    args: ['-e', script],
    ip: IP,
    inputs: [port],
    logger: pino({ level: 'silent' }),
    restarted: () => undefined,
    live: () => live,
    gaveUp: (err) => gaveUp.push(err),
    restarts: { firstMs: 20, longestMs: 40, max: 2, stableMs: 60_000 },
  });
  try {
    await p.start();
    await waitFor(() => gaveUp.length > 0, 'the transcoder to be given up', 20_000);
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]).toMatchObject({ code: 'unavailable' });
    // The first start and two restarts; none after.
    expect(fs.readFileSync(starts, 'utf8')).toBe('xxx');
    expect(p.running).toBe(false);
  } finally {
    live = false;
    p.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
