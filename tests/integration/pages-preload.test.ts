// The pages' HTML lists each page's shared chunks as <link rel="modulepreload">
// (server/http/pages.ts, from the list scripts/build-client.mjs writes), so the browser
// fetches them with the page's entry rather than after it: the real build, served over HTTP.
// A single server also says it is alone, so the point page connects without asking which
// node serves it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { pagesRouter } from '../../server/http/pages';

const ROOT = path.join(__dirname, '..', '..');
const PAGES = path.join(ROOT, 'client', 'pages');
// A build of its own: rebuilding the served build/client would rename chunks under any
// other test serving it.
const BUNDLE = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-preload-'));
const TOKEN = 'a'.repeat(32);

const app = (bundleDir: string, singleNode = false) =>
  express().use(pagesRouter(PAGES, bundleDir, { sourceMaps: false, timeZone: 'Asia/Ho_Chi_Minh', singleNode }));

beforeAll(() => {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-client.mjs'), '--outdir', BUNDLE], {
    stdio: 'ignore',
  });
}, 120_000);

afterAll(() => fs.rmSync(BUNDLE, { recursive: true, force: true }));

test('the join page preloads every chunk its entry imports, and each is served', async () => {
  const res = await request(app(BUNDLE)).get(`/join/${TOKEN}`).expect(200);
  const links = [...res.text.matchAll(/<link rel="modulepreload" href="\/bundle\/(chunk-[A-Za-z0-9]+\.js)" \/>/g)].map(
    (m) => m[1]!,
  );
  // Every chunk join.js imports is listed (its imports' chunks too), and each exists.
  const entry = fs.readFileSync(path.join(BUNDLE, 'join.js'), 'utf8');
  const imported = [...entry.matchAll(/from\s*"\.\/(chunk-[A-Za-z0-9]+\.js)"/g)].map((m) => m[1]!);
  expect(imported.length).toBeGreaterThan(0);
  for (const chunk of imported) expect(links).toContain(chunk);
  for (const chunk of links) {
    const js = await request(app(BUNDLE)).get(`/bundle/${chunk}`).expect(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
  }
  // Before the entry's own script tag, so the browser asks for them at once.
  expect(res.text.indexOf('modulepreload')).toBeLessThan(res.text.indexOf('<script type="module"'));
});

test('without the list (an older build) the page has no preload and still loads', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-'));
  try {
    const res = await request(app(dir)).get(`/join/${TOKEN}`).expect(200);
    expect(res.text).not.toContain('modulepreload');
    expect(res.text).toContain('<script type="module" src="/bundle/join.js">');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a single server says so in the page; a node of a cluster does not', async () => {
  const alone = await request(app(BUNDLE, true)).get(`/join/${TOKEN}`).expect(200);
  expect(alone.text).toContain('<meta name="briefing-cluster" content="none" />');
  const node = await request(app(BUNDLE, false)).get(`/join/${TOKEN}`).expect(200);
  expect(node.text).not.toContain('briefing-cluster');
});
