import { launchChromium } from '../helpers/browser';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';
import type { Browser } from 'playwright-core';

describe('pages in Chromium', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let browser: Browser;
  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url);
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
});
