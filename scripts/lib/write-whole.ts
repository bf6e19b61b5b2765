// A result file appears whole or not at all: written beside itself, then renamed over
// (rename(2) replaces it in one step on one filesystem), so that a run killed while
// writing, or a reader at the same instant, never finds half a file.
import fs from 'node:fs';
import path from 'node:path';

/** The file calls used: node:fs's, or a test's. */
export interface WriteIo {
  mkdir(dir: string): void;
  write(file: string, text: string): void;
  rename(from: string, to: string): void;
  remove(file: string): void;
}

const NODE_IO: WriteIo = {
  mkdir: (dir) => void fs.mkdirSync(dir, { recursive: true }),
  write: (file, text) => fs.writeFileSync(file, text),
  rename: (from, to) => fs.renameSync(from, to),
  remove: (file) => fs.rmSync(file, { force: true }),
};

export function writeWhole(file: string, text: string, io: WriteIo = NODE_IO): void {
  io.mkdir(path.dirname(file));
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    io.write(tmp, text);
    io.rename(tmp, file);
  } catch (err) {
    io.remove(tmp);
    throw err;
  }
}
