// The development secret the server once fell back to, as an attacker has it: from the
// repository's public history. It is not written anywhere in the current tree; tests read
// it from git to show that nothing signed with it is accepted any more.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
/** The last commit whose server/config.ts held the fallback. */
const LAST_WITH_FALLBACK = '561c7c97b6d30de68b0fc344aa73ab994de9573f';

export function publishedDevSecret(): string {
  let text: string;
  try {
    text = execFileSync('git', ['show', `${LAST_WITH_FALLBACK}:server/config.ts`], { cwd: ROOT, encoding: 'utf8' });
  } catch (err) {
    throw new Error(
      `these tests read the formerly published secret from git history (commit ${LAST_WITH_FALLBACK}); ` +
        `run them in a clone with its history: ${(err as Error).message}`,
    );
  }
  const m = /DEV_APP_SECRET = '([^']+)'/.exec(text);
  if (!m) throw new Error(`no DEV_APP_SECRET in server/config.ts at ${LAST_WITH_FALLBACK}`);
  return m[1]!;
}
