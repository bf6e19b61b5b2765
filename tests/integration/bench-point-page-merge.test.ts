// scripts/bench-point-page.ts --merge checks the file it is to merge into before its runs
// (minutes of them): a file that is not JSON, not this bench's result, or measured on
// another machine is refused at once, named in the error, and left as it was.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

describe('bench-point-page --merge', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'bench-merge-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const otherMachine = {
    what: 'point page',
    machine: { cpus: 999, model: 'none', memGiB: 1, kernel: '0', chromium: 'none' },
    invocations: [],
    runs: [],
  };
  test.each([
    ['not JSON', '{"runs": [', /not JSON/],
    ['not a result of this bench', '{"a": 1}', /not a result of bench-point-page/],
    [
      'of another machine',
      JSON.stringify(otherMachine),
      /another machine \(cpus, model, memGiB, kernel, chromium differ\)/,
    ],
  ])(
    'refuses a file %s before any run',
    (_what, text, message) => {
      const file = path.join(dir, `${_what.replace(/\W/g, '-')}.json`);
      writeFileSync(file, text);
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'scripts', 'bench-point-page.ts'), '--merge', file, '--repeats', '1'],
        { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`--merge ${file}`);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/as-is #0/); // no run began
      expect(readFileSync(file, 'utf8')).toBe(text);
    },
    90_000,
  );
});
