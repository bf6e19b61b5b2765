// The Recordings tab in Chromium: a host (not an admin) goes live with the fake camera,
// sees the red recording badge, moves to a second agenda item, ends; then finds the
// archive in Recordings, plays it, jumps to the chapter of "Nghị quyết 08-NQ/TU", checks
// the checksums, and cannot delete it; an admin can, after confirming.
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, loggedInContext } from '../helpers/browser';
import { ADMIN_ENV, login, prepareBriefing } from '../helpers/briefing';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(900_000);

const HOST = { username: 'chu-tri', password: 'host-password-recordings' };

describe('Recordings in the host console', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let browser: Browser;
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(`${m.text()} ${m.location().url}`));
    return page;
  };

  beforeAll(async () => {
    r = await startTestRedis();
    // A small program: the archive is encoded at nice 19 on a machine that may be busy.
    o = await startTestOrchestrator(r.url, { ...ADMIN_ENV, RECORDING_SEGMENT_SECONDS: '2', ARCHIVE_HEIGHT: '360' });
    const admin = await login(o.baseUrl);
    const created = await request(o.baseUrl)
      .post('/api/v1/accounts')
      .set('Cookie', admin)
      .send({ ...HOST, role: 'host' });
    expect(created.status).toBe(201);
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  test('record, end, play the archive from its second chapter; only an admin deletes it', async () => {
    const b = await prepareBriefing(o.baseUrl, ['HT-CX'], { user: HOST });
    const host = watch(await (await loggedInContext(browser, o.baseUrl, b.cookie)).newPage());
    await host.goto(`${o.baseUrl}/host#sessions`);
    await host.click(`[data-testid=sessions-list] tr:has-text("Hội nghị trực tuyến") button:has-text("Mở")`);
    await host.click('[data-testid=session-actions] button:has-text("Bàn điều khiển trực tiếp")');
    await host.waitForSelector('[data-testid=camera-select] option', { state: 'attached' });
    expect(await host.locator('[data-testid=recording-toggle]').isChecked()).toBe(true);
    await host.click('[data-testid=go-live]');
    await host.waitForSelector('[data-testid=recording]:has-text("Đang ghi hình 0:00:0")', { timeout: 30_000 });

    // A few seconds of the first item, then the third (Nghị quyết 08-NQ/TU) for a few more.
    await host.waitForSelector('[data-testid=recording]:has-text("Đang ghi hình 0:00:05")', { timeout: 30_000 });
    await host.click('[data-testid=agenda] li:has-text("08-NQ/TU")');
    await host.waitForSelector('[data-testid=agenda] li.current:has-text("08-NQ/TU")');
    await host.waitForSelector('[data-testid=recording]:has-text("Đang ghi hình 0:00:12")', { timeout: 30_000 });
    host.once('dialog', (d) => void d.accept());
    await host.click('[data-testid=end]');
    await host.waitForSelector('[data-testid=session-card][data-state=ended]');

    // Recordings: the session's line, then the archive once its job has made it.
    await host.click('button[data-tab=recordings]');
    const line = `[data-testid=recordings-list] tr[data-session="${b.sessionId}"]`;
    await host.click(`${line} button:has-text("Xem")`);
    const video = host.locator('[data-testid=archive-video]');
    await video.waitFor({ timeout: 600_000 });
    await host.waitForSelector(`${line} td:has-text("Sẵn sàng")`);
    expect(await host.textContent('[data-testid=recording-duration]')).toMatch(/^0:00:1\d$/);
    expect(await host.textContent('[data-testid=recording-size]')).toMatch(/\d.*(kB|MB)$/);

    const chapters = host.locator('[data-testid=chapters] button');
    expect(await chapters.count()).toBe(2);
    expect(await chapters.nth(0).textContent()).toContain('1. Quán triệt Nghị quyết 05-NQ/TU');
    const second = chapters.nth(1);
    expect(await second.textContent()).toContain('3. Quán triệt Nghị quyết 08-NQ/TU');
    const startS = Number(await second.getAttribute('data-start-ms')) / 1000;
    expect(startS).toBeGreaterThan(3);
    await video.evaluate((v: HTMLVideoElement) =>
      v.readyState >= 1 ? undefined : new Promise((ok) => v.addEventListener('loadedmetadata', ok, { once: true })),
    );
    const seeked = video.evaluate(
      (v: HTMLVideoElement) =>
        new Promise<number>((ok) => v.addEventListener('seeked', () => ok(v.currentTime), { once: true })),
    );
    await second.click();
    expect(Math.abs((await seeked) - startS)).toBeLessThan(0.5);
    // It plays from there: the time moves on and frames of the program are decoded.
    await host.waitForFunction(
      ([v, s]) => (v as HTMLVideoElement).currentTime > (s as number) + 0.5 && (v as HTMLVideoElement).videoWidth > 0,
      [await video.elementHandle(), startS] as const,
      { timeout: 30_000 },
    );
    expect(await video.evaluate((v: HTMLVideoElement) => v.videoWidth)).toBe(640);

    // Checksums shown and checked; the download is the same file.
    await host.click('[data-testid=recording-checksums] summary');
    const info = JSON.parse(fs.readFileSync(path.join(o.recordingDir, b.sessionId, 'archive.json'), 'utf8')) as {
      sha256: string;
      bytes: number;
    };
    await host.waitForSelector(`[data-testid=recording-checksums] code:has-text("${info.sha256}")`);
    await host.click('button:has-text("Kiểm tra mã SHA-256")');
    await host.waitForSelector('[data-testid=verify-result].ok:has-text("đều khớp")');
    const download = await host.evaluate(
      async (href) => {
        const res = await fetch(href!);
        return {
          status: res.status,
          bytes: (await res.arrayBuffer()).byteLength,
          disposition: res.headers.get('content-disposition'),
        };
      },
      await host.getAttribute('[data-testid=archive-download]', 'href'),
    );
    expect(download).toEqual({ status: 200, bytes: info.bytes, disposition: expect.stringMatching(/^attachment/) });

    // A host has no delete, and the server refuses one asked for anyway.
    expect(await host.locator('[data-testid=recording-delete]').count()).toBe(0);
    expect(errors).toEqual([]);
    const refused = await host.evaluate(async (id) => {
      const res = await fetch(`/api/v1/recordings/${id}`, {
        method: 'DELETE',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ confirm: id }),
      });
      return res.status;
    }, b.sessionId);
    expect(refused).toBe(403);
    expect(fs.existsSync(path.join(o.recordingDir, b.sessionId, 'archive.json'))).toBe(true);

    // An admin deletes it, after confirming.
    const admin = watch(await (await loggedInContext(browser, o.baseUrl, await login(o.baseUrl))).newPage());
    await admin.goto(`${o.baseUrl}/host#recordings`);
    await admin.click(`${line} button:has-text("Xem")`);
    await admin.waitForSelector('[data-testid=archive-video]');
    let asked = '';
    admin.once('dialog', (d) => {
      asked = d.message();
      void d.dismiss();
    });
    await admin.click('[data-testid=recording-delete]');
    await waitFor(() => asked, 'the confirmation');
    expect(fs.existsSync(path.join(o.recordingDir, b.sessionId))).toBe(true);
    admin.once('dialog', (d) => void d.accept());
    await admin.click('[data-testid=recording-delete]');
    await admin.waitForSelector(line, { state: 'detached' });
    expect(fs.existsSync(path.join(o.recordingDir, b.sessionId))).toBe(false);
    // The only error logged: the refused delete above.
    expect(errors).toEqual([expect.stringMatching(/status of 403 .*\/api\/v1\/recordings\//)]);
  });
});
