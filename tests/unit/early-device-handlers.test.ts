// The point page's table of mediasoup-client's handlers (client/src/rtc/mediasoup.ts,
// used by rtc/early-device.ts) against mediasoup-client itself: every handler it ships and
// every name its detection gives is in the table (or left to the Device on purpose), and
// the table builds, for each name, the handler the Device builds for it. A new release that
// adds, drops or renames a handler fails here, before a page asks the browser early with a
// handler the Device would not have picked.
import fs from 'node:fs';
import path from 'node:path';
import { Device, detectDevice } from 'mediasoup-client';
import { HANDLERS } from '../../client/src/rtc/mediasoup';

/** mediasoup-client's handlers the page leaves to the Device: no point runs in React Native. */
const LEFT_TO_DEVICE = ['ReactNative106'];
/** A handler of mediasoup-client's own tests, never detected. */
const NOT_A_BROWSER = ['FakeHandler'];

const lib = path.dirname(require.resolve('mediasoup-client'));

/** The handler classes mediasoup-client ships (lib/handlers/<Name>.js with a createFactory). */
async function shippedHandlers(): Promise<string[]> {
  const names = fs
    .readdirSync(path.join(lib, 'handlers'))
    .filter((f) => f.endsWith('.js') && f !== 'HandlerInterface.js')
    .map((f) => path.basename(f, '.js'))
    .filter((name) => !NOT_A_BROWSER.includes(name));
  const shipped: string[] = [];
  for (const name of names) {
    const mod = (await import(path.join(lib, 'handlers', `${name}.js`))) as Record<string, { createFactory?: unknown }>;
    if (typeof mod[name]?.createFactory === 'function') shipped.push(name);
  }
  return shipped.sort();
}

/** Every name mediasoup-client's detection can give (the returns of its detectDeviceImpl). */
function detectableNames(): string[] {
  const source = fs.readFileSync(path.join(lib, 'Device.js'), 'utf8');
  const body = /function detectDeviceImpl\([^)]*\) \{([\s\S]*?)\n\}/.exec(source)?.[1];
  expect(body).toBeDefined();
  return [...new Set([...body!.matchAll(/return '(\w+)'/g)].map((m) => m[1]!))].sort();
}

test('every handler mediasoup-client ships is in the table or left to the Device', async () => {
  const table = [...Object.keys(HANDLERS), ...LEFT_TO_DEVICE].sort();
  expect(await shippedHandlers()).toEqual(table);
});

test('every name mediasoup-client detects is in the table or left to the Device', () => {
  const table = [...Object.keys(HANDLERS), ...LEFT_TO_DEVICE].sort();
  expect(detectableNames()).toEqual(table);
});

test.each(Object.keys(HANDLERS))('the table builds for %s the handler the Device builds for it', (name) => {
  expect(HANDLERS[name]!().name).toBe(name);
  expect(new Device({ handlerName: name as 'Chrome111' }).handlerName).toBe(name);
});

test.each([
  [
    'Chromium 120',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  ],
  [
    'Chrome 109 (Windows 7)',
    'Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36',
  ],
  ['Firefox 128', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0'],
  [
    'Safari 17',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
  ],
])('the page finds in the table the handler detected for %s', (_browser, userAgent) => {
  const name = detectDevice(userAgent);
  expect(name).toBeDefined();
  expect(Object.keys(HANDLERS)).toContain(name);
});
