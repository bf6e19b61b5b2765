// The pages' screenshots (docs/pages.md, one in the README): starts the product (its own
// Redis and data folder, on loopback) with the reference briefing for a few points, goes
// live from the host console with Chromium's fake camera, attaches a document to the
// first item and a roster to a point, opens three points' pages, and photographs the
// point page, the host console and the monitor at 1366x768, and the point and check-in
// pages at a phone's 390x844. Each PNG is reduced to a 256-colour palette with ffmpeg
// (the recorder's own dependency) to stay small.
//   node --import tsx scripts/screenshots.ts [--out docs/screenshots]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { login, prepareBriefing } from './lib/briefing-api';
import { hostGoesLive } from './lib/briefing-pages';
import { launchChromium } from './lib/chromium';
import { spawnServer } from './loadgen/spawn';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'docs/screenshots' } } });
const OUT = path.resolve(values.out!);
const ADMIN = { username: 'admin', password: randomBytes(12).toString('base64url') };
const DESKTOP = { width: 1366, height: 768 };
const PHONE = { width: 390, height: 844 };
// A tiny valid one-page PDF: the document the points see.
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);
const log = (l: string) => process.stdout.write(`${l}\n`);

/** Shrinks a PNG in place: a 256-colour palette, no dithering (flat UI colours stay flat). */
function shrink(file: string): number {
  const tmp = `${file}.tmp.png`;
  const r = spawnSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-y',
      '-i',
      file,
      '-vf',
      'split[a][b];[a]palettegen=max_colors=256[p];[b][p]paletteuse=dither=none',
      tmp,
    ],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error(`ffmpeg could not shrink ${file}`);
  renameSync(tmp, file);
  return statSync(file).size;
}

async function shoot(page: Page, name: string): Promise<void> {
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file, type: 'png' });
  log(`${name}.png: ${Math.round(shrink(file) / 1024)} KB`);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const server = await spawnServer(
    {
      name: 'server',
      env: {},
      dataDir: mkdtempSync(path.join(os.tmpdir(), 'screenshots-data-')),
      removeDataDir: true,
      workers: 1,
      admin: ADMIN,
      appSecret: randomBytes(32).toString('hex'),
    },
    log,
  );
  let browser: Browser | undefined;
  try {
    const base = server.baseUrl;
    const cookie = await login(base, ADMIN);
    const points = (await request(base).get('/api/v1/points?district=HT-DT&limit=12').set('Cookie', cookie)).body
      .items as { id: string; name: string }[];
    const b = await prepareBriefing(
      base,
      points.map((p) => p.id),
      { user: ADMIN },
    );
    const first = b.links[0]!;
    await request(base)
      .put(`/api/v1/rosters/${first.pointId}`)
      .set('Cookie', cookie)
      .send({
        entries: [
          { name: 'Nguyễn Văn An', position: 'Bí thư Huyện ủy', unit: 'Huyện ủy' },
          { name: 'Trần Thị Bình', position: 'Chủ tịch UBND huyện', unit: 'UBND huyện' },
          { name: 'Lê Văn Cường', position: 'Trưởng Ban Tuyên giáo', unit: 'Ban Tuyên giáo Huyện ủy' },
        ],
      });

    browser = await launchChromium();
    const context = async (
      viewport: { width: number; height: number },
      withCookie: boolean,
    ): Promise<BrowserContext> => {
      const ctx = await browser!.newContext({ viewport, deviceScaleFactor: 1 });
      if (withCookie) {
        const [name, ...value] = cookie.split('=');
        await ctx.addCookies([{ name: name!, value: value.join('='), url: base }]);
      }
      return ctx;
    };

    // The host goes live from the console, then attaches the first item's document.
    const host = await (await context(DESKTOP, true)).newPage();
    await hostGoesLive(host, base);
    await host.setInputFiles('[data-testid=doc-file]', {
      name: 'Nghị quyết 05-NQ-TU.pdf',
      mimeType: 'application/pdf',
      buffer: PDF,
    });
    await host.click('[data-testid=agenda-documents] button:has-text("Đính kèm")');
    await host.waitForSelector('[data-testid=doc-row]');
    await host.click('[data-testid=agenda] li >> nth=0');

    // Three points watch; the first is photographed.
    const pointPages: Page[] = [];
    for (const l of b.links.slice(0, 3)) {
      const p = await (await context(DESKTOP, false)).newPage();
      await p.goto(l.url.replace(/^https?:\/\/[^/]+/, base));
      pointPages.push(p);
    }
    const point = pointPages[0]!;
    await point.waitForSelector('[data-testid=document]', { timeout: 60_000 });
    await point.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement | null)?.videoWidth, null, {
      timeout: 60_000,
    });
    await point.waitForTimeout(3000);
    await shoot(point, 'point');
    // The live console from its status line: devices, agenda, live numbers.
    await host.locator('[data-testid=host-status]').evaluate((e) => e.scrollIntoView({ block: 'start' }));
    await host.waitForTimeout(1000);
    await shoot(host, 'host-console');

    const monitor = await (await context(DESKTOP, true)).newPage();
    await monitor.goto(`${base}/monitor`);
    await monitor.waitForSelector('[data-testid=tile-grid] .tile', { timeout: 30_000 });
    await monitor.waitForTimeout(5000);
    await shoot(monitor, 'monitor');

    // At a phone's width: a point's page (its technician on a phone) and a delegate's check-in.
    const phonePoint = await (await context(PHONE, false)).newPage();
    await phonePoint.goto(b.links[3]!.url.replace(/^https?:\/\/[^/]+/, base));
    await phonePoint.waitForSelector('[data-testid=document]', { timeout: 60_000 });
    await phonePoint.click('[data-testid=qr-toggle]');
    const checkinUrl = await phonePoint.waitForFunction(
      () => (document.querySelector('[data-testid=qr-image]') as HTMLImageElement | null)?.dataset.url,
      null,
      { timeout: 30_000 },
    );
    await phonePoint.evaluate(() => window.scrollTo(0, 0));
    await phonePoint.waitForTimeout(3000);
    await shoot(phonePoint, 'point-phone');
    const phone = await (await context(PHONE, false)).newPage();
    await phone.goto(String(await checkinUrl.jsonValue()).replace(/^https?:\/\/[^/]+/, base));
    await phone.waitForSelector('form', { timeout: 30_000 });
    await phone.waitForTimeout(1000);
    await shoot(phone, 'checkin-phone');
  } finally {
    await browser?.close();
    await server.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
