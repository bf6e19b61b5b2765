// The desk on the day, in Chromium: the host console cannot be misused (one way to go
// live, from the console with the camera on; End asks first; the camera and microphone
// are released after the end), the session editor shows what it asks, and the monitor's
// tiles show a point's whole name; every time is in the briefing's zone (here the browser
// runs in New York) and says so; a point keeps its receive mode across a cut socket and a
// reload, and the desk sets it from the monitor; the fleet pre-flight board counts and
// filters the points' verdicts (one point without a camera) and asks for the check again.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { formatInZone } from '../../server/contract/time-zone';
import { launchChromium } from '../helpers/browser';
import { openPointPage } from '../helpers/media';
import { ADMIN_ENV, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(120_000);

describe('the desk on the day (Chromium)', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let browser: Browser;
  let ctx: BrowserContext;
  let briefing: PreparedBriefing;
  let longNamed: string[];
  const errors: string[] = [];

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, ADMIN_ENV);
    const all = await o.orchestrator.control.points.all();
    // The three longest names of the registry.
    longNamed = [...all]
      .sort((a, b) => b.name.length - a.name.length)
      .slice(0, 3)
      .map((p) => p.id);
    briefing = await prepareBriefing(o.baseUrl, longNamed);
    browser = await launchChromium();
    // The browser's zone is not the briefing's.
    ctx = await browser.newContext({ timezoneId: 'America/New_York' });
    const [name, ...value] = briefing.cookie.split('=');
    await ctx.addCookies([{ name: name!, value: value.join('='), url: o.baseUrl }]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  async function open(path: string, viewport = { width: 1366, height: 768 }): Promise<Page> {
    const page = await ctx.newPage();
    await page.setViewportSize(viewport);
    page.on('pageerror', (e) => errors.push(`${path}: ${e.message}`));
    await page.goto(`${o.baseUrl}${path}`);
    return page;
  }

  test('monitor tiles show each point’s whole name on a wide screen', async () => {
    const monitor = await open('/monitor');
    for (const id of longNamed) await monitor.waitForSelector(`[data-testid="tile-${id}"]`);
    const cut = await monitor.$$eval('.tile .name', (names) =>
      names
        .filter((n) => n.scrollWidth > n.clientWidth + 1 || n.scrollHeight > n.clientHeight + 1)
        .map((n) => n.textContent),
    );
    expect(cut).toEqual([]);
    expect(await monitor.textContent('[data-testid=time-zone]')).toContain('Asia/Ho_Chi_Minh, UTC+7');
    await monitor.close();
    expect(errors).toEqual([]);
  });

  test('the session editor: invitation choices hide, fields are labelled, times in the briefing zone', async () => {
    const host = await open('/host');
    await host.click('[data-testid=sessions-view] .controls button.primary');
    const editor = '[data-testid=session-editor]';
    await host.waitForSelector(`${editor} .checks label`, { state: 'attached' });
    const visible = async () =>
      host.$$eval(`${editor} .checks, ${editor} [data-testid=point-picker]`, (nodes) =>
        nodes.map((n) => (n as HTMLElement).offsetParent !== null),
      );
    // "All points": no districts, levels or points to pick.
    expect(await visible()).toEqual([false, false, false]);
    await host.selectOption(`${editor} select`, 'districts');
    expect(await visible()).toEqual([true, false, false]);
    await host.selectOption(`${editor} select`, 'points');
    expect(await visible()).toEqual([false, false, true]);

    const labels = await host.$$eval(`${editor} .agenda-row label`, (ls) => ls.map((l) => l.textContent ?? ''));
    expect(labels).toHaveLength(5);
    expect(labels[3]).toMatch(/phút/);
    expect(labels[3]).toMatch(/minutes/);

    // 08:00 typed is 08:00 in Ha Tinh, whatever the browser's zone.
    expect(await host.textContent(`${editor} [data-testid=editor-zone]`)).toContain('Asia/Ho_Chi_Minh, UTC+7');
    await host.fill('[data-testid=session-title]', 'Giao ban tháng 12');
    await host.fill('[data-testid=session-start]', '2026-12-15T08:00');
    await host.fill('[data-testid=session-end]', '2026-12-15T11:30');
    for (const id of longNamed) {
      await host.fill('[data-testid=picker-search]', id);
      await host.check(`[data-testid=picker-point][value="${id}"]`);
    }
    await host.fill('.agenda-row input >> nth=0', 'Tình hình tháng 11');
    await host.click(`${editor} .controls button.primary`);
    await host.waitForSelector('[data-testid=session-card] h3:has-text("Giao ban tháng 12")');
    const card = (await host.textContent('[data-testid=session-card] > p')) ?? '';
    expect(card).toContain('08:00 15/12/2026');
    expect(card).toContain('11:30 15/12/2026');
    expect(card).toContain('Asia/Ho_Chi_Minh, UTC+7');
    const saved = await host.evaluate(() =>
      fetch('/api/v1/sessions?limit=100').then(
        (res) => res.json() as Promise<{ items: { title: string; scheduledStart: string }[] }>,
      ),
    );
    expect(saved.items.find((x) => x.title === 'Giao ban tháng 12')?.scheduledStart).toBe('2026-12-15T01:00:00.000Z');
    await host.close();
  });

  test('Start opens the console; going live needs the camera; End asks; the camera is released', async () => {
    const host = await open('/host');
    const card = '[data-testid=session-card]';
    const actions = '[data-testid=session-actions]';
    await host.click('[data-testid=sessions-list] tr:has-text("Hội nghị trực tuyến") button:has-text("Mở")');
    await host.waitForSelector(`${card}[data-state=lobby]`);

    // The card's Start opens the console instead of making the session live with no media.
    await host.click(`${actions} button:has-text("Bắt đầu")`);
    await host.waitForSelector('[data-testid=go-live]');
    // Preview and level before going live.
    await host.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('[data-testid=preview]');
      return v !== null && v.videoWidth > 0;
    });
    await host.waitForFunction(
      () => Number(document.querySelector<HTMLMeterElement>('[data-testid=mic-level]')?.value) > 0,
    );
    expect(await host.getAttribute(card, 'data-state')).toBe('lobby');
    const start = await host.evaluate(
      (id) => fetch(`/api/v1/sessions/${id}`).then((res) => res.json() as Promise<{ scheduledStart: string }>),
      briefing.sessionId,
    );
    expect(await host.textContent(`${card} > p`)).toContain(formatInZone(start.scheduledStart, 'Asia/Ho_Chi_Minh'));
    const state = async () =>
      (
        await host.evaluate(
          (id) => fetch(`/api/v1/sessions/${id}`).then((res) => res.json() as Promise<{ state: string }>),
          briefing.sessionId,
        )
      ).state;
    expect(await state()).toBe('lobby');

    await host.click('[data-testid=go-live]');
    await host.waitForSelector(`${card}[data-state=live]`, { timeout: 20_000 });
    const held = await host.evaluate(() => {
      const h = (window as unknown as { briefingHost: { tracks: () => MediaStreamTrack[] } }).briefingHost;
      (window as unknown as { held: MediaStreamTrack[] }).held = h.tracks();
      return h.tracks().map((t) => `${t.kind}:${t.readyState}`);
    });
    expect(held.sort()).toEqual(['audio:live', 'video:live']);

    // The card's End asks first: declined, nothing happens.
    let asked = '';
    host.once('dialog', (d) => {
      asked = d.message();
      void d.dismiss();
    });
    await host.click(`${actions} button:has-text("Kết thúc")`);
    await host.waitForFunction(() => true);
    expect(asked).toContain('Kết thúc');
    expect(await state()).toBe('live');

    host.once('dialog', (d) => void d.accept());
    await host.click(`${actions} button:has-text("Kết thúc")`);
    await host.waitForSelector(`${card}[data-state=ended]`);
    // The camera and microphone go off with the briefing.
    await host.waitForFunction(() =>
      (window as unknown as { held: MediaStreamTrack[] }).held.every((t) => t.readyState === 'ended'),
    );
    expect(await host.$eval('[data-testid=preview]', (v: HTMLVideoElement) => v.srcObject)).toBeNull();
    expect(errors).toEqual([]);
  });

  test('a point keeps its mode across a cut socket and a reload; the desk sets it from the monitor', async () => {
    const [pointId] = longNamed as [string];
    const b = await prepareBriefing(o.baseUrl, [pointId]);
    const host = await open('/host');
    await host.click('[data-testid=sessions-list] tr:has-text("Phòng chờ") button:has-text("Mở")');
    await host.click('[data-testid=session-actions] button:has-text("Bàn điều khiển trực tiếp")');
    await host.click('[data-testid=go-live]');
    await host.waitForSelector('[data-testid=host-status]:has-text("ĐANG PHÁT TRỰC TIẾP")', { timeout: 20_000 });

    // What the SFU applies to the point, not what its page shows.
    const sfuMode = async () => {
      const live = await o.orchestrator.realtime.broadcasts.peek(b.sessionId);
      const peer = live?.room?.getPeer(pointId);
      return peer && peer.consumers.size > 0 ? peer.mode : undefined;
    };
    const eventually = async (want: string) => {
      for (let i = 0; i < 100 && (await sfuMode()) !== want; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await sfuMode()).toBe(want);
    };

    const pointCtx = await browser.newContext();
    const point = await pointCtx.newPage();
    point.on('pageerror', (e) => errors.push(`point: ${e.message}`));
    await point.goto(b.links[0]!.url);
    await eventually('full');
    await point.selectOption('[data-testid=mode]', 'audio-only');
    await eventually('audio-only');

    // The socket is cut; the page comes back on a new one, with a new transport and consumers.
    const before = await point.evaluate(
      () => (window as unknown as { briefing: { socket: { id: string } } }).briefing.socket.id,
    );
    await point.evaluate(() =>
      (
        window as unknown as { briefing: { socket: { io: { engine: { close: () => void } } } } }
      ).briefing.socket.io.engine.close(),
    );
    await point.waitForFunction(
      (old) => {
        const s = (window as unknown as { briefing: { socket: { id?: string; connected: boolean } } }).briefing.socket;
        return s.connected && s.id !== old;
      },
      before,
      { timeout: 20_000 },
    );
    await eventually('audio-only');

    // The desk sees it on the point's detail and sets another; the page applies it.
    const monitor = await open(`/monitor?session=${encodeURIComponent(b.sessionId)}`);
    await monitor.click(`[data-testid="tile-${pointId}"]`);
    await monitor.waitForFunction(
      () => document.querySelector<HTMLSelectElement>('[data-testid=detail-mode]')?.value === 'audio-only',
    );
    expect(await monitor.textContent('[data-testid=detail-mode-by]')).toContain('chosen by the point');
    await monitor.selectOption('[data-testid=detail-mode]', 'low');
    await monitor.waitForSelector('[data-testid=detail-mode-by]:has-text("set by the desk")');
    await point.waitForFunction(() => document.querySelector<HTMLSelectElement>('[data-testid=mode]')?.value === 'low');
    await eventually('low');

    // A reload: the page starts at full, is told its kept mode and shows it.
    await point.reload();
    await point.waitForFunction(() => document.querySelector<HTMLSelectElement>('[data-testid=mode]')?.value === 'low');
    await eventually('low');
    expect(await monitor.textContent('[data-testid=detail-mode-by]')).toContain('set by the desk');
    await pointCtx.close();
    expect(errors).toEqual([]);
  });

  test('the fleet pre-flight board: verdicts on the tiles, counts, a filter, checks asked again', async () => {
    const all = await o.orchestrator.control.points.all();
    const ids = all
      .filter((p) => p.level === 'commune' && !longNamed.includes(p.id))
      .slice(0, 3)
      .map((p) => p.id);
    const [a, b2, c] = ids as [string, string, string];
    const b = await prepareBriefing(o.baseUrl, ids);
    const monitor = await open(`/monitor?session=${encodeURIComponent(b.sessionId)}`);
    const counts = () =>
      monitor.$$eval('[data-testid=preflight-counts] [data-count]', (ns) =>
        Object.fromEntries(ns.map((n) => [n.getAttribute('data-count'), Number(n.textContent?.split(' ')[1])])),
      );
    await monitor.waitForSelector(`[data-testid="tile-${c}"][data-preflight=none]`);
    expect(await counts()).toEqual({ pass: 0, warn: 0, fail: 0, none: 3 });

    const pages: Page[] = [];
    for (const id of ids) {
      const ctx2 = await browser.newContext();
      // This point's camera and microphone are missing.
      if (id === c) {
        await ctx2.addInitScript(() => {
          navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('none', 'NotFoundError'));
        });
      }
      const page = await ctx2.newPage();
      page.on('pageerror', (e) => errors.push(`${id}: ${e.message}`));
      // Connected, so its lobby's pre-flight box is shown before it is clicked.
      await openPointPage(page, b.links.find((l) => l.pointId === id)!.url);
      pages.push(page);
    }
    // In the lobby, the devices part on a click: the point without a camera warns, says why.
    await pages[2]!.click('[data-testid=preflight-run]');
    // The speaker check asks whether the tone was heard.
    await pages[2]!.click('[data-testid=tone-yes]', { timeout: 30_000 });
    await pages[2]!.waitForSelector('[data-testid=preflight-result] li:has-text("No camera/microphone found")', {
      timeout: 30_000,
    });
    await monitor.waitForSelector(`[data-testid="tile-${c}"][data-preflight=warn]`);
    await monitor.waitForFunction(() =>
      document.querySelector('[data-testid=preflight-counts] [data-count=warn]')?.textContent?.includes(' 1 '),
    );
    expect(await counts()).toEqual({ pass: 0, warn: 1, fail: 0, none: 2 });
    await monitor.selectOption('[data-testid=filter-preflight]', 'warn');
    expect(await monitor.isVisible(`[data-testid="tile-${c}"]`)).toBe(true);
    expect(await monitor.isVisible(`[data-testid="tile-${a}"]`)).toBe(false);
    await monitor.selectOption('[data-testid=filter-preflight]', 'none');
    expect(await monitor.isVisible(`[data-testid="tile-${c}"]`)).toBe(false);
    expect(await monitor.isVisible(`[data-testid="tile-${a}"]`)).toBe(true);
    await monitor.selectOption('[data-testid=filter-preflight]', '');
    await monitor.click(`[data-testid="tile-${c}"]`);
    await monitor.waitForSelector('[data-testid=point-detail] li:has-text("No camera/microphone found")');

    // The network part runs by itself once the hall sends; the missing camera still counts.
    const host = await open('/host');
    await host.click('[data-testid=sessions-list] tr:has-text("Phòng chờ") button:has-text("Mở")');
    await host.click('[data-testid=session-actions] button:has-text("Bàn điều khiển trực tiếp")');
    await host.click('[data-testid=go-live]');
    for (const id of [a, b2]) {
      await monitor.waitForSelector(`[data-testid="tile-${id}"]:not([data-preflight=none])`, { timeout: 40_000 });
    }
    expect((await counts()).none).toBe(0);
    await monitor.waitForSelector('[data-testid=point-detail] li:has-text("No camera/microphone found")');
    expect(await monitor.getAttribute(`[data-testid="tile-${c}"]`, 'data-preflight')).not.toBe('pass');

    // The desk asks one point, then all, to check again.
    await monitor.click('[data-testid=preflight-rerun]');
    await pages[2]!.waitForSelector('[role=status]:has-text("The desk asked for the check again")');
    expect(await pages[0]!.textContent('[role=status]')).not.toContain('The desk asked');
    await monitor.click('[data-testid=preflight-rerun-all]');
    for (const page of pages) {
      await page.waitForSelector('[role=status]:has-text("The desk asked for the check again")');
    }
    for (const page of pages) await page.context().close();
    expect(errors).toEqual([]);
  });
});
