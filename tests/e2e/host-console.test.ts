// The host console in Chromium under the strict CSP: log in, the registry, a session with
// its agenda, scheduling, the join links with QR codes; the session card following the
// state the live console moves it to.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { RecordingManifestSchema } from '../../server/contract/recording';
import { launchChromium } from '../helpers/browser';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
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

  test('going live and ending from the live console: the card follows without being reopened', async () => {
    const card = '[data-testid=session-card]';
    const actions = '[data-testid=session-actions]';
    await page.click(`${actions} button:has-text("Mở phòng chờ ngay")`);
    await page.waitForSelector(`${card}[data-state=lobby]`);
    await page.click(`${actions} button:has-text("Bàn điều khiển trực tiếp")`);
    await page.waitForSelector('[data-testid=camera-select] option', { state: 'attached' });
    expect(await page.locator(`${actions} button:has-text("Bắt đầu")`).count()).toBe(1);
    // The camera button says what a click does: off while the camera is on, and back.
    const cameraBtn = '[data-testid=camera-on]';
    await page.waitForSelector(`${cameraBtn}[data-on=true]:has-text("Tắt camera và micro")`);
    expect(await page.textContent(cameraBtn)).toContain('Turn camera and microphone off');
    await page.click(cameraBtn);
    await page.waitForSelector(`${cameraBtn}[data-on=false]:has-text("Bật camera và micro")`);
    expect(await page.locator('[data-testid=go-live]').isDisabled()).toBe(true);
    await page.click(cameraBtn);
    await page.waitForSelector(`${cameraBtn}[data-on=true]:has-text("Tắt camera và micro")`);
    // Recording is on unless the host turns it off before going live.
    expect(await page.locator('[data-testid=recording-toggle]').isChecked()).toBe(true);
    expect(await page.locator('[data-testid=recording]').isVisible()).toBe(false);

    await page.click('[data-testid=go-live]');
    await page.waitForSelector('[data-testid=host-status]:has-text("ĐANG PHÁT TRỰC TIẾP")', { timeout: 20_000 });
    await page.waitForSelector(`${card}[data-state=live] ${actions} button:has-text("Kết thúc")`);
    expect(await page.textContent(`${card} > p`)).toContain('Đang diễn ra');
    for (const gone of ['Bắt đầu', 'Hủy phiên', 'Mở phòng chờ ngay']) {
      expect(await page.locator(`${actions} button:has-text("${gone}")`).count()).toBe(0);
    }
    await page.waitForSelector('[data-testid=sessions-list] td:has-text("Đang diễn ra")');
    // The same console, still live: the card was drawn again around it, not it again.
    expect(await page.textContent('[data-testid=host-status]')).toContain('ĐANG PHÁT TRỰC TIẾP');
    expect(await page.locator('[data-testid=go-live]').isDisabled()).toBe(true);
    expect(await page.locator(cameraBtn).isDisabled()).toBe(true);
    // Red, with its duration, and no longer a choice.
    await page.waitForSelector('[data-testid=recording]:has-text("Đang ghi hình 0:00:0")');
    expect(await page.locator('[data-testid=recording-toggle]').isDisabled()).toBe(true);
    const color = await page.locator('[data-testid=recording]').evaluate((e) => getComputedStyle(e).backgroundColor);
    expect(color).toBe('rgb(198, 40, 40)');
    const cameraWidth = await page.locator('[data-testid=preview]').evaluate((v: HTMLVideoElement) => v.videoWidth);
    // The hall's camera is recorded as the points receive it: VP8, its top simulcast layer.
    // Chromium's send side ramps its bandwidth up over 5-15 s (longer on a busy machine)
    // before it sends that layer, so wait, still live, for a segment that carries it.
    const [sessionDir] = await waitFor(() => {
      const dirs = fs.readdirSync(o.recordingDir);
      return dirs.length ? dirs : undefined;
    }, 'the recording folder');
    const read = () =>
      RecordingManifestSchema.parse(
        JSON.parse(fs.readFileSync(path.join(o.recordingDir, sessionDir!, 'manifest.json'), 'utf8')),
      );
    // A listed segment is complete and never changes: each is probed once (the server
    // runs in this process, so every probe holds its event loop).
    const probed = new Map<string, number>();
    const cameraWidths = () =>
      (read().tracks.find((t) => t.source === 'host-camera')?.segments ?? []).map((s) => {
        if (!probed.has(s.file)) probed.set(s.file, videoWidth(path.join(o.recordingDir, sessionDir!, s.file)));
        return probed.get(s.file)!;
      });
    await waitFor(() => cameraWidths().includes(cameraWidth), 'a recorded segment of the top layer', 60_000, 1000);
    // By now a segment is complete: the red state's clock shows at least its seconds.
    const shown = (await page.textContent('[data-testid=recording]'))!.match(/(\d+):(\d\d):(\d\d)/)!;
    expect(Number(shown[1]) * 3600 + Number(shown[2]) * 60 + Number(shown[3])).toBeGreaterThanOrEqual(2);

    page.once('dialog', (d) => void d.accept());
    await page.click('[data-testid=end]');
    await page.waitForSelector(`${card}[data-state=ended] [data-testid=report-links]`);
    expect(await page.locator(`${actions} button:has-text("Kết thúc")`).count()).toBe(0);
    expect(await page.locator('[data-testid=recording]').isVisible()).toBe(false);

    const manifest = await waitFor(() => (read().state === 'stopped' ? read() : undefined), 'the final manifest');
    const camera = manifest.tracks.find((t) => t.source === 'host-camera')!;
    expect(camera.codec).toBe('video/VP8');
    expect(Math.max(...cameraWidths())).toBe(cameraWidth);
    expect(manifest.tracks.some((t) => t.source === 'host-mic' && t.codec === 'audio/opus')).toBe(true);
    expect(errors).toEqual([]);
  }, 120_000);
});

/** The width ffprobe reads from a recorded video segment (0 if it has none). */
function videoWidth(file: string): number {
  const out = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=width', '-of', 'csv=p=0', file], {
    encoding: 'utf8',
  }).stdout;
  return Number(out.trim()) || 0;
}
