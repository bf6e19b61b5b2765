// A result file is written whole or not at all (scripts/lib/write-whole.ts): beside
// itself, then renamed over; a write that fails half-way leaves the earlier file as it was
// and no temporary file behind.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeWhole, type WriteIo } from '../../scripts/lib/write-whole';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'write-whole-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Real files, each call noted (names only), `write` failing half-way when told. */
function io(calls: string[], failWrite = false): WriteIo {
  return {
    mkdir: (d) => {
      calls.push('mkdir');
      fs.mkdirSync(d, { recursive: true });
    },
    write: (f, text) => {
      calls.push(`write ${path.basename(f)}`);
      fs.writeFileSync(f, failWrite ? text.slice(0, 5) : text);
      if (failWrite) throw new Error('ENOSPC: no space left on device');
    },
    rename: (a, b) => {
      calls.push(`rename ${path.basename(a)} ${path.basename(b)}`);
      fs.renameSync(a, b);
    },
    remove: (f) => {
      calls.push(`remove ${path.basename(f)}`);
      fs.rmSync(f, { force: true });
    },
  };
}

test('written to a temporary file beside it, then renamed over it', () => {
  const file = path.join(dir, 'deeper', 'result.json');
  fs.mkdirSync(path.dirname(file));
  fs.writeFileSync(file, 'earlier\n');
  const calls: string[] = [];
  writeWhole(file, '{"runs": []}\n', io(calls));
  const tmp = `result.json.${process.pid}.tmp`;
  expect(calls).toEqual(['mkdir', `write ${tmp}`, `rename ${tmp} result.json`]);
  expect(fs.readFileSync(file, 'utf8')).toBe('{"runs": []}\n');
  expect(fs.readdirSync(path.dirname(file))).toEqual(['result.json']);
});

test('a write that fails half-way leaves the earlier file whole, and no temporary file', () => {
  const file = path.join(dir, 'result.json');
  fs.writeFileSync(file, 'earlier, whole\n');
  expect(() => writeWhole(file, 'the new result, longer\n', io([], true))).toThrow('ENOSPC');
  expect(fs.readFileSync(file, 'utf8')).toBe('earlier, whole\n');
  expect(fs.readdirSync(dir)).toEqual(['result.json']);
});

test('with node:fs itself, the folder made and the file whole', () => {
  const file = path.join(dir, 'a', 'b', 'result.json');
  writeWhole(file, 'x\n');
  expect(fs.readFileSync(file, 'utf8')).toBe('x\n');
  expect(fs.readdirSync(path.dirname(file))).toEqual(['result.json']);
});
