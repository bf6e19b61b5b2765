// scripts/bench-point-page.ts --merge checks the file it is to merge into before its runs
// (minutes of them): a file that is not JSON, not this bench's result, or measured on
// another machine, a folder, or a path under a file is refused at once as a bad command
// line (exit 2): one line naming the file and what is wrong, then the usage, no stack;
// the file is left as it was.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  /** The bench's stderr and exit code with `--merge file`, or what stopped it. */
  function mergeInto(file: string) {
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts', 'bench-point-page.ts'), '--merge', file, '--repeats', '1'],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    if (r.error) throw r.error;
    return r;
  }

  /** Refused as a bad command line: its first line names the file and `message`, no stack, no run. */
  function expectRefused(r: ReturnType<typeof mergeInto>, file: string, message: RegExp): void {
    expect(r.status).toBe(2);
    const [first, second] = r.stderr.split('\n');
    expect(first).toContain(`bench-point-page: --merge ${file}: `);
    expect(first).toMatch(message);
    expect(second).toMatch(/^usage: /);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack
    expect(r.stderr).not.toMatch(/as-is #0/); // no run began
  }

  test.each([
    ['not JSON', '{"runs": [', /not JSON/],
    ['empty', '', /not JSON/],
    ['not a result of this bench', '{"a": 1}', /not a result of bench-point-page/],
    ['JSON null', 'null', /not a result of bench-point-page/],
    ['a JSON array', '[]', /not a result of bench-point-page/],
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
      expectRefused(mergeInto(file), file, message);
      expect(readFileSync(file, 'utf8')).toBe(text);
    },
    90_000,
  );

  test('refuses a folder before any run', () => {
    const folder = path.join(dir, 'a-folder');
    mkdirSync(folder);
    expectRefused(mergeInto(folder), folder, /is not a file$/);
  }, 90_000);

  test('refuses a path under a file before any run', () => {
    const plain = path.join(dir, 'plain.txt');
    writeFileSync(plain, 'x');
    const file = path.join(plain, 'result.json');
    expectRefused(mergeInto(file), file, new RegExp(`is not there, and ${plain} is no folder to make it in$`));
    expect(readFileSync(plain, 'utf8')).toBe('x');
  }, 90_000);
});
