// The session editor's point picker in Chromium: a district ticked whole (and its partial
// state), a point found by a search without accents, the count of points and delegates,
// the saved session inviting exactly those points in the invitation's `points` form, and
// the editor opened again starting from them.
import type { Browser, Page } from 'playwright-core';
import type { Point, Session } from '../../server/contract/api';
import { launchChromium, loggedInContext } from '../helpers/browser';
import { ADMIN_ENV, login } from '../helpers/briefing';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(120_000);

/** Lower case without accents, as a technician types on a keyboard without them. */
const plainText = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase();

describe('point picker (Chromium)', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, ADMIN_ENV);
    browser = await launchChromium();
    const ctx = await loggedInContext(browser, o.baseUrl, await login(o.baseUrl));
    page = await ctx.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  test('a district and a search hit are ticked, counted, and invited exactly', async () => {
    const all = await o.orchestrator.control.points.all();
    const districts = all.filter((p) => p.level === 'district');
    const district = districts[1]!;
    const members = all.filter((p) => p.district === district.id);
    // A commune of another district, found by its name typed without accents.
    const hit = all.find((p) => p.level === 'commune' && p.district !== district.id && /[^\x20-\x7e]/.test(p.name))!;
    const want = [...members, hit];
    const delegates = want.reduce((n, p: Point) => n + p.expectedDelegates, 0);

    await page.goto(`${o.baseUrl}/host`);
    await page.click('[data-testid=sessions-view] .controls button.primary');
    const editor = '[data-testid=session-editor]';
    await page.selectOption(`${editor} select`, 'points');
    const box = `[data-testid=picker-district][data-district="${district.id}"]`;
    await page.waitForSelector(box);
    await page.check(box);
    await page.waitForSelector(`[data-testid=picker-count][data-points="${members.length}"]`);

    // One commune unticked: the district's box shows a partial state; ticked again: whole.
    const commune = members.find((p) => p.level === 'commune')!;
    await page.click(`${box} >> xpath=..`); // the district's line opens its points
    await page.uncheck(`[data-testid=picker-point][value="${commune.id}"]`);
    expect(
      await page.$eval(box, (b) => [(b as HTMLInputElement).checked, (b as HTMLInputElement).indeterminate]),
    ).toEqual([false, true]);
    await page.check(`[data-testid=picker-point][value="${commune.id}"]`);
    expect(await page.$eval(box, (b) => (b as HTMLInputElement).checked)).toBe(true);

    await page.fill('[data-testid=picker-search]', plainText(hit.name));
    const hitBox = `[data-testid=picker-point][value="${hit.id}"]`;
    await page.waitForSelector(hitBox, { state: 'visible' });
    // The search shows the hit, not the rest of the registry.
    const shown = await page.$$eval('[data-testid=picker-point]', (bs) => bs.filter((b) => b.checkVisibility()).length);
    expect(shown).toBeLessThan(10);
    await page.check(hitBox);
    const count = page.locator('[data-testid=picker-count]');
    expect(await count.getAttribute('data-points')).toBe(String(want.length));
    expect(await count.getAttribute('data-delegates')).toBe(String(delegates));
    expect(await count.textContent()).toContain(`${want.length} điểm cầu, ${delegates} đại biểu`);

    await page.fill('[data-testid=session-title]', 'Giao ban bộ chọn điểm cầu');
    await page.fill('.agenda-row input >> nth=0', 'Tình hình tháng 11');
    await page.click(`${editor} .controls button.primary`);
    await page.waitForSelector('[data-testid=session-card] h3:has-text("Giao ban bộ chọn điểm cầu")');
    const saved = await page.evaluate(async () => {
      const list = (await (await fetch('/api/v1/sessions?limit=100')).json()) as {
        items: { id: string; title: string }[];
      };
      const id = list.items.find((s) => s.title === 'Giao ban bộ chọn điểm cầu')!.id;
      return (await (await fetch(`/api/v1/sessions/${id}`)).json()) as Session;
    });
    expect(saved.invite.mode).toBe('points');
    expect([...saved.invitedPointIds].sort()).toEqual(want.map((p) => p.id).sort());
    expect(saved.invitedDelegates).toBe(delegates);

    // Edited again: the picker starts from the saved list, ticks and counts as it was saved.
    await page.click('[data-testid=session-actions] button:has-text("Sửa")');
    await page.selectOption(`${editor} select`, 'points');
    await page.waitForSelector(`[data-testid=picker-count][data-points="${want.length}"]`);
    expect(await page.getAttribute('[data-testid=picker-count]', 'data-delegates')).toBe(String(delegates));
    expect(await page.$eval(box, (b) => (b as HTMLInputElement).checked)).toBe(true);
    expect(await page.isChecked(hitBox)).toBe(true);
    expect(errors).toEqual([]);
  });
});
