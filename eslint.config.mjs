import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// A long-running child a test starts (ffmpeg, a server, Redis) must die with the test
// process, even when jest itself is killed: tiedSpawn does that; spawn(), fork(), exec()
// and the asynchronous execFile() do not. The synchronous commands, which run to their end
// before the test goes on (execFileSync, execSync, spawnSync), stay allowed in tests, and
// so do type imports (tests/unit/eslint-tests-rule.test.ts checks the rule).
const UNTIED =
  "start a test's child with tiedSpawn (server/platform/tied-spawn.ts): it dies with the test process, " +
  'a plain spawn(), fork(), exec() or execFile() outlives a killed jest';
const CHILD_PROCESS = '/^(node:)?child_process$/';

export default tseslint.config(
  { ignores: ['node_modules/', 'build/', 'data/', 'coverage/', '**/*.min.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'error',
      // Only config.ts reads the environment (DESIGN.md).
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read configuration through server/config.ts' },
      ],
    },
  },
  {
    files: ['server/config.ts', 'scripts/**', 'tests/**', 'jest.config.js', 'eslint.config.mjs'],
    rules: { 'no-restricted-properties': 'off', 'no-console': 'off' },
  },
  { files: ['**/*.js', '**/*.cjs', '**/*.mjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  {
    files: ['tests/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['node:child_process', 'child_process'].map((name) => ({
            name,
            importNames: ['spawn', 'fork', 'exec', 'execFile', 'default'],
            allowTypeImports: true,
            message: `${UNTIED} (the synchronous functions: import them by name)`,
          })),
        },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: `ImportExpression[source.value=${CHILD_PROCESS}]`, message: UNTIED },
        { selector: `CallExpression[callee.name='require'][arguments.0.value=${CHILD_PROCESS}]`, message: UNTIED },
      ],
    },
  },
);
