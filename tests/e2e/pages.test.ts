import { launchChromium } from '../helpers/browser';
import { ADMIN_ENV, prepareBriefing } from '../helpers/briefing';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';
import type { Browser } from 'playwright-core';

describe('pages in Chromium', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let browser: Browser;
  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, ADMIN_ENV);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  test.each([
    ['/host', 'Bàn điều khiển chủ trì'],
    ['/monitor', 'Giám sát kết nối'],
  ])('%s renders its Vietnamese title under the CSP without errors', async (route, title) => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(`${m.text()} ${m.location().url}`));
    await page.goto(o.baseUrl + route);
    await page.waitForSelector('header h1');
    expect(await page.textContent('header h1')).toContain(title);
    expect(errors).toEqual([]);
    await page.close();
  });

  test("a cancelled briefing's link says so, Vietnamese first, from the server's reason", async () => {
    const b = await prepareBriefing(o.baseUrl, ['HT-VQ']);
    const res = await fetch(`${o.baseUrl}/api/v1/sessions/${b.sessionId}/cancel`, {
      method: 'POST',
      headers: { Cookie: b.cookie },
    });
    expect(res.status).toBe(200);
    const page = await browser.newPage();
    await page.goto(b.links[0]!.url);
    await page.waitForSelector('[role=status]:has-text("Hội nghị này đã bị huỷ")', { timeout: 30_000 });
    expect(await page.textContent('[role=status]')).toContain('This briefing was cancelled');
    await page.close();
  }, 60_000);
});
