// Talking to a point, in Chromium: the point's technician writes to the desk and the desk
// answers from the monitor (an unread marker on the tile until it is read), both kept
// across a reload; an "other problem" with a note reaches the desk; the speaker check asks
// whether the tone was heard and the board, the detail and the report show the answer;
// the desk gives the floor to a point that did not raise its hand, mutes its microphone at
// the SFU (the point sees it) and takes the floor back.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { launchChromium, loggedInContext } from '../helpers/browser';
import { ADMIN_ENV, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(180_000);

describe('talking to a point (Chromium)', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let browser: Browser;
  let desk: BrowserContext;
  let b: PreparedBriefing;
  let pointId: string;
  let monitor: Page;
  let point: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, ADMIN_ENV);
    const all = await o.orchestrator.control.points.all();
    pointId = all.find((p) => p.level === 'commune')!.id;
    b = await prepareBriefing(o.baseUrl, [pointId]);
    browser = await launchChromium();
    desk = await loggedInContext(browser, o.baseUrl, b.cookie);
    monitor = await desk.newPage();
    await monitor.setViewportSize({ width: 1366, height: 768 });
    monitor.on('pageerror', (e) => errors.push(`monitor: ${e.message}`));
    await monitor.goto(`${o.baseUrl}/monitor?session=${encodeURIComponent(b.sessionId)}`);
    await monitor.waitForSelector(`[data-testid="tile-${pointId}"]`);
    point = await (await browser.newContext()).newPage();
    point.on('pageerror', (e) => errors.push(`point: ${e.message}`));
    await point.goto(b.links[0]!.url);
    await point.waitForSelector('[data-testid=point-talk]');
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  const tile = () => `[data-testid="tile-${pointId}"]`;
  const deskTalk = '[data-testid=detail-talk]';
  const pointTalk = '[data-testid=point-talk]';

  test('a message from the point to the desk and an answer back, kept across a reload', async () => {
    await point.waitForFunction(
      () => (window as unknown as { briefing: { socket: { connected: boolean } } }).briefing.socket.connected,
    );
    await point.fill(`${pointTalk} [data-testid=talk-input]`, 'Hội trường xã chưa nghe rõ tiếng');
    await point.click(`${pointTalk} [data-testid=talk-send]`);
    await point.waitForSelector(`${pointTalk} li[data-from=point]:has-text("chưa nghe rõ tiếng")`);

    // The desk: a marker on the tile until the point's conversation is opened.
    await monitor.waitForSelector(`${tile()}[data-unread="1"]`);
    await monitor.click(tile());
    await monitor.waitForSelector(`${deskTalk} li[data-from=point]:has-text("chưa nghe rõ tiếng")`);
    await monitor.waitForSelector(`${tile()}:not([data-unread])`);
    expect(await o.orchestrator.redis.hgetall(`talk:${b.sessionId}:unread`)).toEqual({});

    await monitor.fill(`${deskTalk} [data-testid=talk-input]`, 'Đã nhận, kiểm tra âm lượng loa hội trường');
    await monitor.click(`${deskTalk} [data-testid=talk-send]`);
    await point.waitForSelector(`${pointTalk} li[data-from=desk]:has-text("kiểm tra âm lượng")`);
    await point.waitForSelector('[role=status]:has-text("Message from the desk")');
    await monitor.waitForSelector(`${deskTalk} li[data-from=desk]:has-text("kiểm tra âm lượng")`);

    // A reload reads the conversation back from the server.
    await point.reload();
    await point.waitForSelector(`${pointTalk} li[data-from=desk]:has-text("kiểm tra âm lượng")`);
    expect(await point.$$eval(`${pointTalk} li`, (ls) => ls.map((l) => l.getAttribute('data-from')))).toEqual([
      'point',
      'desk',
    ]);
    expect(errors).toEqual([]);
  });

  test('"other problem" with a note reaches the desk', async () => {
    await point.click('[data-testid=problem-other]');
    // Without a note it asks for one, and sends nothing.
    await point.waitForSelector('.problems [role=status]:has-text("Say what is wrong")');
    await point.fill('[data-testid=problem-note]', 'Máy chiếu của xã bị hỏng, đang thay');
    await point.click('[data-testid=problem-other]');
    await point.waitForSelector('.problems [role=status]:has-text("The central desk has been told")');
    await monitor.waitForSelector('text=Máy chiếu của xã bị hỏng, đang thay');
    const alerts = await o.orchestrator.attendance.service.alerts.list(b.sessionId);
    expect(alerts.map((a) => [a.kind, a.note])).toEqual([['other', 'Máy chiếu của xã bị hỏng, đang thay']]);
    expect(errors).toEqual([]);
  });

  test('the speaker check asks whether the tone was heard; the desk sees the answer', async () => {
    await point.click('[data-testid=preflight-run]');
    await point.waitForSelector('[data-testid=tone-question]:has-text("Did you hear the tone?")', { timeout: 30_000 });
    await point.click('[data-testid=tone-no]');
    await point.waitForSelector('[data-testid=preflight-result] li:has-text("The tone was not heard")', {
      timeout: 30_000,
    });
    await monitor.waitForSelector(`${tile()}[data-tone=not-heard][data-preflight=warn]`);
    await monitor.waitForSelector('[data-testid=preflight-no-tone][data-count="1"]');
    await monitor.click(tile());
    await monitor.waitForSelector('[data-testid=detail-preflight]:has-text("Tone not heard")');
    expect(errors).toEqual([]);
  });

  test('the desk gives the floor without a raised hand, mutes it, takes it back; the report has the tone', async () => {
    const host = await desk.newPage();
    host.on('pageerror', (e) => errors.push(`host: ${e.message}`));
    await host.goto(`${o.baseUrl}/host`);
    await host.click('[data-testid=sessions-list] tr:has-text("Phòng chờ") button:has-text("Mở")');
    await host.click('[data-testid=session-actions] button:has-text("Bàn điều khiển trực tiếp")');
    await host.click('[data-testid=go-live]');
    await host.waitForSelector('[data-testid=host-status]:has-text("ĐANG PHÁT TRỰC TIẾP")', { timeout: 30_000 });

    // The console reads the messages so far and answers the point that wrote.
    const consoleTalk = '[data-testid=console-talk]';
    await host.waitForSelector(`${consoleTalk} li[data-from=point]:has-text("chưa nghe rõ tiếng")`);
    await host.selectOption(`${consoleTalk} [data-testid=talk-target]`, pointId);
    await host.fill(`${consoleTalk} [data-testid=talk-input]`, 'Chủ trì: xã chuẩn bị phát biểu');
    await host.click(`${consoleTalk} [data-testid=talk-send]`);
    await point.waitForSelector(`${pointTalk} li[data-from=desk]:has-text("xã chuẩn bị phát biểu")`);

    // No hand raised: the monitor's detail gives the point the floor.
    await monitor.click(tile());
    await monitor.click('[data-testid=detail-floor-grant]', { timeout: 30_000 });
    await point.waitForSelector('[data-testid=on-air]:visible', { timeout: 30_000 });
    await monitor.waitForSelector('[data-testid=detail-floor][data-floor=speaking]');
    const mic = async () => {
      const live = await o.orchestrator.realtime.broadcasts.peek(b.sessionId);
      const peer = live?.room?.getPeer(pointId);
      return peer ? [...peer.producers.values()].find((p) => p.source === 'floor-mic')?.producer : undefined;
    };
    await waitFor(mic, 'the point publishes its microphone', 30_000);
    await host.waitForSelector('[data-testid=floor-holder]:has-text("On the floor")');

    // Muted at the SFU: the point says so, the console offers to unmute.
    await monitor.click('[data-testid=detail-floor-mute]');
    await point.waitForSelector('[data-testid=floor-muted]:visible');
    expect((await mic())!.paused).toBe(true);
    await monitor.waitForSelector('[data-testid=detail-floor][data-floor=muted]');
    await host.waitForSelector('[data-testid=floor-mute]:has-text("Unmute the floor")');
    await monitor.click('[data-testid=detail-floor-unmute]');
    await point.waitForSelector('[data-testid=floor-muted]', { state: 'hidden' });
    expect((await mic())!.paused).toBe(false);

    // Taken back from the monitor: the point is off the air.
    await monitor.click('[data-testid=detail-floor-revoke]');
    await point.waitForSelector('[data-testid=on-air]', { state: 'hidden' });
    await monitor.waitForSelector('[data-testid=detail-floor][data-floor=none]');
    expect((await (await o.orchestrator.realtime.broadcasts.peek(b.sessionId))!.view()).floor).toBeNull();

    // The end: the report has the point's pre-flight verdict and its tone answer.
    host.once('dialog', (d) => void d.accept());
    await host.click('[data-testid=end]');
    const http = request(o.baseUrl);
    await waitFor(
      async () => (await http.get(`/api/v1/reports/${b.sessionId}`).set('Cookie', b.cookie)).body.state === 'ready',
      'the report',
      60_000,
    );
    const csv = (await http.get(`/api/v1/reports/${b.sessionId}/csv`).set('Cookie', b.cookie)).text;
    expect(csv).toContain('Kiểm tra trước,Nghe thấy âm thanh thử');
    expect(csv).toMatch(/,Cảnh báo,Không[,\r\n]/);
    const html = (await http.get(`/api/v1/reports/${b.sessionId}/html`).set('Cookie', b.cookie)).text;
    expect(html).toContain('<td>Cảnh báo</td><td>Không</td>');
    expect(errors).toEqual([]);
  });
});
