// The host console in Chromium under the strict CSP: log in, the registry, a session with
// its agenda, scheduling, the join links with QR codes.
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

describe('host console', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, { ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'correct horse battery' });
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(`${m.text()} ${m.location().url}`));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  test('log in, see the registry, create and schedule a session, get its links with QR codes', async () => {
    await page.goto(`${o.baseUrl}/host`);
    await page.fill('[data-testid=login-username]', 'admin');
    await page.fill('[data-testid=login-password]', 'correct horse battery');
    await page.click('form.login button');
    await page.waitForSelector('[data-testid=sessions-view]');

    await page.click('button[data-tab=points]');
    await page.waitForSelector('[data-testid=points-totals]:has-text("420")');
    expect(await page.textContent('[data-testid=points-totals]')).toContain('18.240');
    await page.fill('[data-testid=points-search]', 'duc tho');
    await page.waitForSelector('[data-testid=points-list] td:has-text("Huyện ủy Đức Thọ")');

    await page.click('button[data-tab=sessions]');
    await page.click('[data-testid=sessions-view] .controls button.primary');
    await page.fill('[data-testid=session-title]', 'Hội nghị quán triệt <b>Nghị quyết</b> 05-NQ/TU');
    await page.fill('.agenda-row input >> nth=0', 'Quán triệt Nghị quyết 05-NQ/TU');
    await page.click('[data-testid=session-editor] .controls button.primary');
    await page.waitForSelector('[data-testid=session-detail] h3:has-text("Hội nghị quán triệt")');
    // User text is shown as text, never parsed as HTML.
    expect(await page.textContent('[data-testid=session-detail] h3')).toContain('<b>Nghị quyết</b>');
    await page.click('[data-testid=session-detail] button:has-text("Lên lịch")');
    await page.waitForSelector('[data-testid=session-detail] p:has-text("Đã lên lịch")');

    await page.click('[data-testid=session-detail] button:has-text("Đường dẫn tham dự")');
    await page.waitForSelector('[data-testid=link-card] img.qr');
    expect(await page.locator('[data-testid=link-card]').count()).toBe(24);
    const loaded = await page
      .locator('[data-testid=link-card] img.qr >> nth=0')
      .evaluate((img: HTMLImageElement) => img.decode().then(() => img.naturalWidth));
    expect(loaded).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  }, 60_000);
});
