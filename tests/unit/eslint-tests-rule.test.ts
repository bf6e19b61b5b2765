// Tests must start a long-running child with tiedSpawn (server/platform/tied-spawn.ts), so
// ESLint forbids the asynchronous child_process functions in tests/ (eslint.config.mjs):
// the rule fires on each of them, and not on the synchronous ones or on a type import.
// ESLint loads its .mjs config with import(), which jest's module sandbox refuses: the
// texts are linted (ESLint#lintText, as a file in tests/) by one Node process of their own.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

const FORBIDDEN_IMPORTS = [
  "import { spawn } from 'node:child_process';",
  "import { fork } from 'child_process';",
  "import { exec as run } from 'node:child_process';",
  "import { execFile } from 'node:child_process';",
  "import * as cp from 'node:child_process';",
  "import cp from 'node:child_process';",
  "export { spawn } from 'node:child_process';",
];
const FORBIDDEN_LOADS = ["const cp = require('node:child_process');", "export const cp = import('child_process');"];
const ALLOWED = [
  "import { execFileSync, execSync, spawnSync } from 'node:child_process';",
  "import type { ChildProcess } from 'node:child_process';",
  "import type * as cp from 'node:child_process';",
  "import { spawnSync, type ChildProcess } from 'child_process';",
];

const LINT = `
import { ESLint } from 'eslint';
const [root, file, texts] = process.argv.slice(1);
const eslint = new ESLint({ cwd: root });
const out = [];
for (const text of JSON.parse(texts)) {
  const [result] = await eslint.lintText(text + '\\nexport type T = unknown;\\n', { filePath: file });
  out.push(result.messages.map((m) => m.ruleId ?? m.message));
}
process.stdout.write(JSON.stringify(out));
`;

let reported: Map<string, string[]>;
beforeAll(() => {
  const texts = [...FORBIDDEN_IMPORTS, ...FORBIDDEN_LOADS, ...ALLOWED];
  const out = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', LINT, ROOT, path.join(ROOT, 'tests', 'x.test.ts'), JSON.stringify(texts)],
    { cwd: ROOT, encoding: 'utf8' },
  );
  const rules = JSON.parse(out) as string[][];
  reported = new Map(texts.map((t, i) => [t, rules[i]!]));
}, 60_000);

test.each(FORBIDDEN_IMPORTS)('%s is reported', (text) => {
  expect(reported.get(text)).toContain('@typescript-eslint/no-restricted-imports');
});

test.each(FORBIDDEN_LOADS)('%s is reported', (text) => {
  expect(reported.get(text)).toContain('no-restricted-syntax');
});

test.each(ALLOWED)('%s is allowed', (text) => {
  // Nothing but the names these lines import and leave unused.
  expect(reported.get(text)!.filter((rule) => rule !== '@typescript-eslint/no-unused-vars')).toEqual([]);
});
