// Chromium for the end-to-end tests: launched as the benchmarks launch it
// (scripts/lib/chromium.ts), plus a context logged in as an account.
import type { Browser, BrowserContext } from 'playwright-core';

export { CHROMIUM, chromiumArgs, fakeMicrophoneWav, launchChromium } from '../../scripts/lib/chromium';

/** A browser context logged in with a `name=value` session cookie (from tests/helpers/briefing.ts `login`). */
export async function loggedInContext(browser: Browser, baseUrl: string, cookie: string): Promise<BrowserContext> {
  const ctx = await browser.newContext();
  const [name, ...value] = cookie.split('=');
  await ctx.addCookies([{ name: name!, value: value.join('='), url: baseUrl }]);
  return ctx;
}
