// The boot script's waits between tries of a page that failed to load, and its note
// (client/src/boot/boot.ts): doubling from 2 s, never more than 30 s, each within ±20 %;
// how long a load may go with nothing arriving before it counts as stalled; and the one
// accessor of the globals it shares with the pages.
import fs from 'node:fs';
import path from 'node:path';
import {
  bootGlobals,
  RELOAD_GLOBAL,
  reloadDelayMs,
  retryNote,
  STARTED_GLOBAL,
  stallAfterMs,
} from '../../client/src/boot/marker';

test('2 s, 4 s, 8 s, 16 s, then 30 s for as long as it lasts', () => {
  expect([0, 1, 2, 3, 4, 5, 20, 1e6].map((n) => reloadDelayMs(n))).toEqual([
    2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000,
  ]);
});

test('each wait is spread over ±20 % by the random draw', () => {
  expect([0, 0.25, 0.5, 0.75, 0.9999].map((r) => reloadDelayMs(0, r))).toEqual([1600, 1800, 2000, 2200, 2400]);
  expect(reloadDelayMs(9, 0)).toBe(24_000);
  expect(reloadDelayMs(9, 0.99999)).toBe(36_000);
});

test('a count that is negative or not a number waits as the first try, never less', () => {
  for (const n of [-1, -1e9, NaN, -Infinity]) expect(reloadDelayMs(n)).toBe(2000);
});

test('the note names the wait in whole seconds, and from the 5th try asks to tell the technician', () => {
  expect(retryNote(0, 2200)).toEqual([
    'Trang chưa tải xong (mất kết nối tới máy chủ). Tự động tải lại sau 2 giây…',
    'The page did not finish loading (lost the connection to the server). Reloading in 2 s…',
  ]);
  expect(retryNote(3, 15_600).join(' ')).not.toMatch(/kỹ thuật viên|technician/);
  const fifth = retryNote(4, 28_700);
  expect(fifth[0]).toBe(
    'Trang chưa tải xong (mất kết nối tới máy chủ). Tự động tải lại sau 29 giây… Nếu vẫn lỗi, hãy báo kỹ thuật viên trung tâm.',
  );
  expect(fifth[1]).toBe(
    'The page did not finish loading (lost the connection to the server). Reloading in 29 s… If this goes on, tell the central technician.',
  );
});

test('a stall is counted after 60 s with nothing arriving, then 2 min, then 4 min for good', () => {
  expect([0, 1, 2, 3, 20, 1e6].map(stallAfterMs)).toEqual([60_000, 120_000, 240_000, 240_000, 240_000, 240_000]);
  for (const n of [-1, NaN, -Infinity]) expect(stallAfterMs(n)).toBe(60_000);
});

test('the started flag injected into every bundle is the one the boot script reads, and imports nothing', async () => {
  const file = path.join(__dirname, '../../client/src/boot/started.ts');
  // An import would be injected into every module, the imported one included (a cycle).
  expect(fs.readFileSync(file, 'utf8')).not.toMatch(/^\s*import\b/m);
  const g = globalThis as Record<string, unknown>;
  delete g[STARTED_GLOBAL];
  expect(bootGlobals.started()).toBe(false);
  await import(file);
  expect(g[STARTED_GLOBAL]).toBe(true);
  expect(bootGlobals.started()).toBe(true);
  delete g[STARTED_GLOBAL];
});

test("the boot script's reload is read back as set, and anything else there is no reload", () => {
  const g = globalThis as Record<string, unknown>;
  try {
    expect(bootGlobals.reload()).toBeUndefined();
    g[RELOAD_GLOBAL] = 'not a function';
    expect(bootGlobals.reload()).toBeUndefined();
    const calls: number[] = [];
    bootGlobals.setReload(() => calls.push(1));
    expect(g[RELOAD_GLOBAL]).toBeInstanceOf(Function);
    bootGlobals.reload()?.();
    expect(calls).toEqual([1]);
  } finally {
    delete g[RELOAD_GLOBAL];
  }
});
