// A script's bad command line (scripts/lib/command-line.ts): an unknown option, an option
// without its value, a stray word, a number that is none, each refused as a UsageError
// whose one line names it; a script given one ends with that line and its usage on stderr,
// exit code 2, no stack. The two benches of the point page, run with a bad command line.
import path from 'node:path';
import { exitCodeFor, parseOptions, UsageError, wholeNumber } from '../../scripts/lib/command-line';
import { tiedSpawn } from '../../server/platform/tied-spawn';

const OPTIONS = { rounds: { type: 'string', default: '12' }, out: { type: 'string' } } as const;

test('the options given, the defaults, and each kind of bad input as a one-line UsageError', () => {
  expect(parseOptions(OPTIONS, ['--out', 'f.json'])).toEqual({ rounds: '12', out: 'f.json' });
  const refused = (args: string[]) => {
    try {
      parseOptions(OPTIONS, args);
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      return (err as Error).message;
    }
    throw new Error(`${args.join(' ')} was accepted`);
  };
  expect(refused(['--bogus'])).toMatch(/Unknown option '--bogus'/);
  expect(refused(['--out'])).toMatch(/'--out <value>' argument missing/);
  expect(refused(['--rounds', '3', 'extra'])).toMatch(/Unexpected argument 'extra'/);
  // node:util's message for a value that looks like an option spans lines: joined in one.
  expect(refused(['--rounds', '-3'])).toMatch(/^Option '--rounds' argument is ambiguous\. [^\n]+$/);

  expect(wholeNumber('4', 'rounds', 1)).toBe(4);
  expect(wholeNumber('0', 'burn', 0)).toBe(0);
  for (const bad of ['x', '', ' ', '2.5', '0', 'Infinity'])
    expect(() => wholeNumber(bad, 'rounds', 1)).toThrow(
      new UsageError(`--rounds must be a whole number of at least 1, not "${bad}"`),
    );
});

test('a UsageError ends in its line and the usage, exit 2; any other error in its stack, exit 1', () => {
  const written: string[] = [];
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((s) => {
    written.push(String(s));
    return true;
  });
  try {
    expect(exitCodeFor('bench-x', 'usage: bench-x --rounds N', new UsageError('--rounds is wrong'))).toBe(2);
    expect(written.join('')).toBe('bench-x: --rounds is wrong\nusage: bench-x --rounds N\n');
    written.length = 0;
    expect(exitCodeFor('bench-x', 'usage: bench-x --rounds N', new Error('the disk is full'))).toBe(1);
    expect(written.join('')).toMatch(/^bench-x failed: Error: the disk is full\n\s+at /);
  } finally {
    spy.mockRestore();
  }
});

const ROOT = path.resolve(__dirname, '..', '..');
/** A script of scripts/ run with `args`: its exit code and stderr. */
function run(script: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = tiedSpawn(process.execPath, ['--import', 'tsx', `scripts/${script}`, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

test('the point page benches refuse a bad command line: one line, the usage, exit 2', async () => {
  const [notBuild, pages] = await Promise.all([
    run('bench-page-start.ts', ['--before', ROOT, '--after', ROOT]),
    run('bench-point-page.ts', ['--pages', 'five']),
  ]);
  expect(notBuild.code).toBe(2);
  const lines = notBuild.stderr.split('\n');
  expect(lines[0]).toBe(
    `bench-page-start: --before ${ROOT} is not a client build (no preload.json, join.js, join.js.br, boot.js.br): ` +
      `build one with node scripts/build-client.mjs --outdir ${ROOT}`,
  );
  expect(lines[1]).toMatch(/^usage: node --import tsx scripts\/bench-page-start\.ts --before DIR --after DIR/);
  expect(notBuild.stderr).not.toMatch(/\n\s+at /);
  expect(pages.code).toBe(2);
  expect(pages.stderr).toMatch(
    /^bench-point-page: --pages must be a whole number of at least 1, not "five"\nusage: node --import tsx scripts\/bench-point-page\.ts/,
  );
}, 60_000);
