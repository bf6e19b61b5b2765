// Three tiers, run in order by scripts/test.mjs: unit (pure logic), integration (real
// Redis, mediasoup worker, socket.io clients), e2e (Debian Chromium, real WebRTC).
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
  ],
};
const common = { transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };
/** Tests of real processes get one more run after a failure (tests/helpers/retry.ts). */
const retried = { setupFilesAfterEnv: ['<rootDir>/tests/helpers/retry.ts'] };

/** @type {import('jest').Config} */
module.exports = {
  // A test of real processes waits on sockets and media: jest's 5 s default is a bound on
  // a quiet machine, not on a loaded one. 30 s still catches a hang; a test that needs more
  // says so itself. `testTimeout` is a global option: jest ignores it inside a project.
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'] },
    { ...common, ...retried, displayName: 'integration', testMatch: ['<rootDir>/tests/integration/**/*.test.ts'] },
    { ...common, ...retried, displayName: 'e2e', testMatch: ['<rootDir>/tests/e2e/**/*.test.ts'] },
  ],
};
