// What a test does when a tool it needs is absent: on a developer's machine it is skipped
// with the reason; under CI (CI set) it fails, since there npm test installs every tool
// and a skip would hide the missing proof.
import { existsSync } from 'node:fs';

type TestFn = (name: string, fn: jest.ProvidesCallback, timeout?: number) => void;

/** Why `tool` (an executable's path) cannot be used here, or undefined. */
export function toolMissing(tool: string): string | undefined {
  return existsSync(tool) ? undefined : `needs ${tool}`;
}

/**
 * `test` when `cannot` is undefined; otherwise a stand-in that registers the test as
 * skipped, or under CI as a test failing with the reason.
 */
export function requireInCi(cannot: string | undefined): TestFn {
  if (!cannot) return test;
  if (process.env.CI)
    return (name) =>
      test(name, () => {
        throw new Error(`cannot run in CI: ${cannot}`);
      });
  return (name) => test.skip(`${name}: skipped, ${cannot}`, () => undefined);
}
