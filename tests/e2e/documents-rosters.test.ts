// A point's roster and the agenda's documents in Chromium under the strict CSP: the host
// imports a roster CSV, edits a row and opens the printable page; attaches a PDF to item 2
// from the live console, moves to item 2 and a point's page lists it and fetches it, moves
// to item 3 and the list goes away.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import type { RosterEntry } from '../../server/contract/attendance';
import { ADMIN_ENV, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { launchChromium, loggedInContext } from '../helpers/browser';
import { hostGoesLive } from '../helpers/media';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(120_000);

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

describe('rosters and agenda documents in the browser', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let dataDir: string;
  let browser: Browser;
  let hostCtx: BrowserContext;
  let host: Page;
  let b: PreparedBriefing;
  let pointId: string;
  const errors: string[] = [];
  /** The refused import (422) and the document asked for after its item (404) are expected. */
  const unexpected = () => errors.filter((e) => !/status of (422|404)/.test(e));
  const watch = (p: Page) => {
    p.on('pageerror', (e) => errors.push(e.message));
    p.on('console', (m) => m.type() === 'error' && errors.push(`${m.text()} ${m.location().url}`));
  };

  beforeAll(async () => {
    r = await startTestRedis();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-e2e-docs-'));
    o = await startTestOrchestrator(r.url, { ...ADMIN_ENV, DATA_DIR: dataDir });
    pointId = (await o.orchestrator.control.points.all()).find((p) => p.level === 'commune')!.id;
    b = await prepareBriefing(o.baseUrl, [pointId]);
    browser = await launchChromium();
    hostCtx = await loggedInContext(browser, o.baseUrl, b.cookie);
    host = await hostCtx.newPage();
    watch(host);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('roster: import a CSV, edit a row, open the printable page', async () => {
    await host.goto(`${o.baseUrl}/host`);
    await host.click('button[data-tab=points]');
    await host.fill('[data-testid=points-search]', pointId);
    await host.click(`[data-testid=points-list] tr:has(td:text-is("${pointId}")) button:has-text("Đại biểu")`);
    await host.waitForSelector('[data-testid=roster-panel]');
    await host.click('[data-testid=roster-panel] summary');
    await host.setInputFiles('[data-testid=roster-file]', {
      name: 'dai-bieu.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        '\uFEFFHọ tên,Chức vụ,Đơn vị\nNguyễn Văn An,Bí thư,Đảng ủy xã\nTrần Thị Bình,Chủ tịch,UBND xã\n',
      ),
    });
    await host.click('[data-testid=roster-panel] button:has-text("Nhập")');
    await host.waitForSelector('[data-testid=roster-report]:has-text("Đã nhập 2 đại biểu")');
    expect(await host.locator('[data-testid=roster-name]').count()).toBe(2);

    // A bad file lists its rows and leaves the roster as it was.
    await host.setInputFiles('[data-testid=roster-file]', {
      name: 'sai.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('name,position\n,Không tên\n'),
    });
    await host.click('[data-testid=roster-panel] button:has-text("Nhập")');
    await host.waitForSelector('[data-testid=roster-report] td:has-text("Quá ngắn")');
    expect(await host.locator('[data-testid=roster-name]').count()).toBe(2);

    await host.fill('[data-testid=roster-position] >> nth=1', 'Phó Chủ tịch');
    await host.click('[data-testid=roster-list] tr >> nth=2 >> button:has-text("Lưu")');
    await host.waitForSelector('[data-testid=roster-panel] .status.ok');
    const stored = (await request(o.baseUrl).get(`/api/v1/rosters/${pointId}`).set('Cookie', b.cookie))
      .body as RosterEntry[];
    expect(stored.map((e) => e.position)).toEqual(['Bí thư', 'Phó Chủ tịch']);

    const [print] = await Promise.all([hostCtx.waitForEvent('page'), host.click('[data-testid=roster-print]')]);
    await print.waitForLoadState();
    expect(await print.textContent('h1')).toBe('Danh sách đại biểu');
    expect(await print.locator('tbody tr').count()).toBe(2);
    expect(await print.textContent('tbody')).toContain('Phó Chủ tịch');
    await print.close();
    expect(unexpected()).toEqual([]);
  });

  test('documents: attached to item 2, shown on the point while item 2 runs, gone on item 3', async () => {
    await hostGoesLive(host, o.baseUrl);

    const session = (await request(o.baseUrl).get(`/api/v1/sessions/${b.sessionId}`).set('Cookie', b.cookie)).body as {
      agenda: { id: string }[];
    };
    await host.selectOption('[data-testid=doc-item]', session.agenda[1]!.id);
    await host.setInputFiles('[data-testid=doc-file]', {
      name: 'Nghị quyết 06-NQ-TU.pdf',
      mimeType: 'application/pdf',
      buffer: PDF,
    });
    await host.click('[data-testid=agenda-documents] button:has-text("Đính kèm")');
    await host.waitForSelector('[data-testid=doc-row]:has-text("Nghị quyết 06-NQ-TU.pdf")');

    const pointCtx = await browser.newContext();
    const point = await pointCtx.newPage();
    watch(point);
    await point.goto(b.links[0]!.url.replace(/^https?:\/\/[^/]+/, o.baseUrl));
    await point.waitForSelector('[data-testid=caption]:not(.hidden)', { timeout: 30_000 });
    expect(await point.locator('[data-testid=documents]').isHidden()).toBe(true);

    await host.click('[data-testid=agenda] li >> nth=1');
    await point.waitForSelector('[data-testid=document]:has-text("Nghị quyết 06-NQ-TU.pdf")', { timeout: 20_000 });
    const href = await point.getAttribute('[data-testid=document-open]', 'href');
    const fetched = await point.evaluate(async (url) => {
      const res = await fetch(url!);
      return {
        status: res.status,
        type: res.headers.get('content-type'),
        disposition: res.headers.get('content-disposition'),
        bytes: (await res.arrayBuffer()).byteLength,
      };
    }, href);
    expect(fetched).toEqual({
      status: 200,
      type: 'application/pdf',
      disposition: expect.stringMatching(/^inline; /),
      bytes: PDF.length,
    });
    expect(await point.getAttribute('[data-testid=document-download]', 'download')).toBe('Nghị quyết 06-NQ-TU.pdf');

    await host.click('[data-testid=agenda] li >> nth=2');
    await point.waitForSelector('[data-testid=documents]', { state: 'hidden', timeout: 20_000 });
    expect(await point.locator('[data-testid=document]').count()).toBe(0);
    // Nor can it still be fetched: it belongs to an item that is not running.
    expect(await point.evaluate(async (url) => (await fetch(url!)).status, href)).toBe(404);
    await pointCtx.close();
    expect(unexpected()).toEqual([]);
  });
});
