// Which source a build or a measurement comes from: the commit checked out, whether the
// working tree differed from it (tracked files changed, or files git does not ignore and
// does not track), and a digest of that difference, so that two trees with different
// uncommitted changes at one commit are told apart. Plain CommonJS with no dependencies:
// scripts/build-client.mjs runs it under bare node (scripts/prepare.mjs, the Dockerfile),
// before tsx may be installed, and the TypeScript scripts import it (./checkout.ts).
const { execFileSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const { lstatSync, readFileSync, readlinkSync } = require('node:fs');
const path = require('node:path');

/** The difference told apart whatever the user's git configuration (colour, prefixes, textconv, external diff). */
const DIFF = [
  'diff',
  'HEAD',
  '--binary',
  '--no-ext-diff',
  '--no-textconv',
  '--no-color',
  '--src-prefix=a/',
  '--dst-prefix=b/',
];

/** A git command's output, bytes as they are; throws when git is missing or fails. */
function git(dir, args) {
  return execFileSync('git', args, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30 });
}

/**
 * The checkout in `dir`: `{ commit, dirty, diff? }`, diff being the first 12 hex digits of
 * a sha256 over `git diff HEAD` (bytes, binary changes included) and over each untracked,
 * not ignored file's name and content. Unknown is never told as clean: when git cannot say
 * (no git, not a checkout, a command failing), `dirty: true, diff: 'unknown'`, with commit
 * '' when not even that is known.
 */
function readCheckout(dir = process.cwd()) {
  let commit = '';
  try {
    commit = git(dir, ['rev-parse', 'HEAD']).toString().trim();
    const changes = git(dir, DIFF);
    const top = git(dir, ['rev-parse', '--show-toplevel']).toString().trim();
    const untracked = git(top, ['ls-files', '--others', '--exclude-standard', '-z'])
      .toString()
      .split('\0')
      .filter((f) => f !== '')
      .sort();
    if (changes.length === 0 && untracked.length === 0) return { commit, dirty: false };
    const h = createHash('sha256').update(changes);
    for (const f of untracked) {
      h.update(`\0untracked\0${f}\0`);
      h.update(contentOf(path.join(top, f)));
    }
    return { commit, dirty: true, diff: h.digest('hex').slice(0, 12) };
  } catch {
    return { commit, dirty: true, diff: 'unknown' };
  }
}

/** A file's bytes; a symbolic link's target; nothing for a nested repository (`dir/`). */
function contentOf(file) {
  const st = lstatSync(file);
  if (st.isSymbolicLink()) return readlinkSync(file);
  return st.isFile() ? readFileSync(file) : '';
}

module.exports = { readCheckout };
