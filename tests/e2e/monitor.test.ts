// The monitor page in Chromium: a point's tile turns good when its page plays, lost when
// the page is closed, and good again when it comes back; the totals follow. A delegate's
// check-in from a phone shows in the point's detail, where the desk voids it. The district
// selector has the server send that district's points only, and the address keeps it; an
// address with a district the server refuses or the session lacks shows every point.
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { ADMIN_ENV, connectSocket, prepareBriefing, TEST_ADMIN, type PreparedBriefing } from '../helpers/briefing';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(120_000);

describe('monitor page (Chromium)', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let browser: Browser;
  let briefing: PreparedBriefing;
  let pointIds: string[];

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, ADMIN_ENV);
    browser = await launchChromium();
    const all = await o.orchestrator.control.points.all();
    pointIds = all
      .filter((p) => p.level === 'commune')
      .slice(0, 2)
      .map((p) => p.id);
    briefing = await prepareBriefing(o.baseUrl, pointIds);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  const tileStatus = (monitor: Page, id: string, status: string) =>
    monitor.waitForSelector(`[data-testid="tile-${id}"][data-status="${status}"]`, { timeout: 30_000 });

  /** The monitor, logged in through its form. */
  async function openMonitor(errors: string[], query = ''): Promise<Page> {
    const monitor = await (await browser.newContext()).newPage();
    monitor.on('pageerror', (e) => errors.push(e.message));
    await monitor.goto(`${o.baseUrl}/monitor${query}`);
    await monitor.fill('[data-testid="login-username"]', TEST_ADMIN.username);
    await monitor.fill('[data-testid="login-password"]', TEST_ADMIN.password);
    await monitor.press('[data-testid="login-password"]', 'Enter');
    return monitor;
  }

  test('a point turns from good to lost when its page is closed, and back', async () => {
    const errors: string[] = [];
    // Not logged in: the login form, then the wall.
    const monitor = await openMonitor(errors);
    const [a, b] = pointIds as [string, string];
    await tileStatus(monitor, a, 'offline');
    await tileStatus(monitor, b, 'offline');
    expect(await monitor.textContent('[data-testid="total-points"]')).toBe('0/2');
    // The session list says each state in Vietnamese, English beside.
    expect(await monitor.textContent('[data-testid=session-select] option:checked')).toContain('(Phòng chờ · Lobby)');

    const link = briefing.links.find((l) => l.pointId === a)!;
    const pointContext = await browser.newContext();
    let point = await pointContext.newPage();
    await point.goto(link.url);
    await tileStatus(monitor, a, 'good');
    expect(await monitor.textContent('[data-testid="total-points"]')).toBe('1/2');
    expect(await monitor.getAttribute(`[data-testid="tile-${b}"]`, 'data-status')).toBe('offline');

    // The point's detail shows its status and its connection events.
    await monitor.click(`[data-testid="tile-${a}"]`);
    await monitor.waitForSelector('[data-testid="detail-status"][data-status="good"]');
    // Said from their codes, Vietnamese first, English beside.
    const events = () => monitor.textContent('[data-testid="detail-events"]');
    expect(await events()).toContain('Vào: lần đầu');
    expect(await events()).toContain('Joined: first time');
    expect(await events()).toContain('Trạng thái: Đang kết nối → Tốt');

    await point.close();
    await tileStatus(monitor, a, 'lost');
    await monitor.waitForSelector('[data-testid="detail-status"][data-status="lost"]');
    await monitor.waitForFunction(() => document.querySelector('[data-testid="total-points"]')?.textContent === '0/2');

    point = await pointContext.newPage();
    await point.goto(link.url);
    await tileStatus(monitor, a, 'good');
    await monitor.waitForFunction(() => document.querySelector('[data-testid="total-points"]')?.textContent === '1/2');
    expect(errors).toEqual([]);
    await pointContext.close();
  });

  test("a phone's check-in shows in the point's detail, where the desk voids it", async () => {
    const b = pointIds[1]!;
    const sock = await connectSocket(o.baseUrl, '/point', {
      token: briefing.links.find((l) => l.pointId === b)!.token,
    });
    const qr = (await sock.timeout(10_000).emitWithAck('checkin:qr', {})) as { ok: boolean; data: { url: string } };
    sock.close();
    expect(qr.ok).toBe(true);
    const phoneContext = await browser.newContext({ viewport: { width: 390, height: 800 }, isMobile: true });
    const phone = await phoneContext.newPage();
    await phone.goto(o.baseUrl + new URL(qr.data.url).pathname);
    await phone.waitForSelector('[data-testid=checkin-form]:not(.hidden)');
    await phone.fill('[data-testid=checkin-name]', 'Nguyễn Thị Thử');
    await phone.click('[data-testid=checkin-submit]');
    await phone.waitForSelector('[data-testid=checkin-done]:not(.hidden)');
    const count = () => o.orchestrator.attendance.service.ledger.checkinCount(briefing.sessionId, b);
    expect(await count()).toBe(1);

    const errors: string[] = [];
    const monitor = await openMonitor(errors);
    await monitor.click(`[data-testid="tile-${b}"]`);
    await monitor.waitForSelector('[data-testid="detail-checkins"]');
    expect(await monitor.textContent('[data-testid="detail-checkins"]')).toContain('Nguyễn Thị Thử');
    await monitor.fill('[data-testid="void-reason"]', 'không có mặt trong phòng');
    await monitor.click('[data-testid="void-checkin"]');
    await monitor.waitForSelector('[data-testid="detail-checkins"] li.voided');
    expect(await monitor.textContent('[data-testid="detail-checkins"] li.voided')).toContain(
      'không có mặt trong phòng',
    );
    expect(await count()).toBe(0);

    // The phone, opened again, knows its check-in was voided.
    await phone.reload();
    await phone.waitForSelector('[data-testid=checkin-done]:not(.hidden)');
    expect(await phone.innerText('[data-testid=checkin-done]')).toContain('đã bị bàn kỹ thuật huỷ');
    expect(errors).toEqual([]);
    await phoneContext.close();
  });

  test("the district selector: the server sends that district's points only", async () => {
    const communes = (await o.orchestrator.control.points.all()).filter((p) => p.level === 'commune' && p.district);
    const [dA, dB] = [...new Set(communes.map((p) => p.district!))] as [string, string];
    const a = communes.find((p) => p.district === dA)!.id;
    const b = communes.find((p) => p.district === dB)!.id;
    const session = await prepareBriefing(o.baseUrl, [a, b]);
    const errors: string[] = [];
    const monitor = await openMonitor(errors, `?session=${session.sessionId}`);
    await monitor.waitForSelector(`[data-testid="tile-${a}"]`);
    await monitor.waitForSelector(`[data-testid="tile-${b}"]`);
    // One province: no province to choose.
    expect(await monitor.isHidden('[data-testid="filter-province"]')).toBe(true);

    await monitor.selectOption('[data-testid="filter-district"]', dA);
    await monitor.waitForSelector(`[data-testid="tile-${b}"]`, { state: 'detached' });
    await monitor.waitForSelector(`[data-testid="tile-${a}"]`);
    expect(await monitor.textContent('[data-testid="total-points"]')).toBe('0/1');
    expect(new URL(monitor.url()).searchParams.get('district')).toBe(dA);

    // Reloaded, the desk watches the same district; every district is still offered.
    await monitor.reload();
    await monitor.waitForSelector(`[data-testid="tile-${a}"]`);
    expect(await monitor.$(`[data-testid="tile-${b}"]`)).toBeNull();
    expect(await monitor.inputValue('[data-testid="filter-district"]')).toBe(dA);
    const offered = await monitor.$$eval('[data-testid="filter-district"] option', (os) =>
      os.map((x) => (x as HTMLOptionElement).value),
    );
    expect(offered).toEqual(expect.arrayContaining(['', dA, dB]));

    // Back to every district.
    await monitor.selectOption('[data-testid="filter-district"]', '');
    await monitor.waitForSelector(`[data-testid="tile-${b}"]`);
    expect(await monitor.textContent('[data-testid="total-points"]')).toBe('0/2');

    // An address whose district the session does not have (a stale bookmark), or that the
    // server refuses: every point, and the page says so; the address drops the district.
    for (const district of ['P99-D99', 'not%20a%20code']) {
      await monitor.goto(`${o.baseUrl}/monitor?session=${session.sessionId}&district=${district}`);
      await monitor.waitForSelector(`[data-testid="tile-${a}"]`);
      await monitor.waitForSelector(`[data-testid="tile-${b}"]`);
      await monitor.waitForFunction(() => !new URL(location.href).searchParams.has('district'));
      expect(await monitor.textContent('[role="status"]')).toContain('đang xem mọi điểm cầu');
      expect(await monitor.inputValue('[data-testid="filter-district"]')).toBe('');
    }
    expect(errors).toEqual([]);
    await monitor.context().close();
  });
});
