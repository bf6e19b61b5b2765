// A room system's floor as a point's page shows it: baresip (Debian's) dials in from its
// own network namespace and receives the hall; the host gives its point the floor, and a
// real Chromium /join page of another point decodes the room system's camera (fakevideo's
// pattern, sent in H.264, transcoded to VP8) and plays its microphone (a 440 Hz tone in
// G.711, transcoded to Opus), read from the page's own WebRTC statistics. Taking the floor
// back closes the floor's producers, and the page's floor consumers go with them.
import type { Browser, Page } from 'playwright-core';
import { ask } from '../helpers/attendance';
import { receiving, type Baresip } from '../helpers/baresip';
import { launchChromium } from '../helpers/browser';
import { decoding, mediaStats, openPointPage } from '../helpers/media';
import { netnsUnavailable, requireNetnsInCi } from '../helpers/netns';
import { waitFor } from '../helpers/orchestrator';
import { startLiveSipFloor, type LiveSipFloor } from '../helpers/sip-floor';

const cannot = netnsUnavailable();
const ROOM_SYSTEM = 'HT-CX';
const VIEWER = 'HT-HK';

(cannot ? describe.skip : describe)('a room system holding the floor, seen in Chromium', () => {
  let live: LiveSipFloor;
  let browser: Browser;
  let page: Page | undefined;
  let phone: Baresip | undefined;
  const errors: string[] = [];

  beforeAll(async () => {
    live = await startLiveSipFloor();
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await live?.stop();
  });

  const pageFloor = async (p: Page) =>
    (await mediaStats(p)).filter((m) => m.source === 'floor-camera' || m.source === 'floor-mic');

  test("a point's page decodes the room system's camera and plays its microphone; taken back, they go", async () => {
    const { s, host, room } = live;
    const sip = s.o.orchestrator.realtime.sip!;
    // A retried attempt starts over: its call hung up and gone (a call still ending would
    // meet the wait for one call, and take the floor's grant) before the next is dialled.
    await page?.context().close();
    await phone?.stop();
    await waitFor(() => sip.callCount === 0, 'no call left', 20_000);
    if (room.floorHolder) await ask(host, 'floor:revoke');
    errors.length = 0;

    page = await (await browser.newContext()).newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    // Connected before its controls are used: the click lands on a page that is up.
    await openPointPage(page, s.b.links.find((l) => l.pointId === VIEWER)!.url);
    // The page starts muted (autoplay rules); the operator clicks once to hear the room.
    await page.click('[data-testid=unmute]');

    phone = await live.dial(ROOM_SYSTEM);
    await waitFor(() => sip.callCount === 1, 'the call to connect', 30_000);
    await waitFor(() => receiving(phone!.output()).videoBps > 50_000, 'baresip to receive the hall', 30_000, 1000);
    expect(await pageFloor(page)).toEqual([]);

    await ask(host, 'floor:grant', { pointId: ROOM_SYSTEM });
    await waitFor(() => live.floorProducers(ROOM_SYSTEM).length === 2, "the room system's floor producers", 30_000);

    // The page decodes the floor's picture, frames rising, and plays its sound.
    const video = await decoding(page, 'floor-camera', { timeoutMs: 40_000 });
    expect(video.kind).toBe('video');
    await decoding(page, 'floor-camera', { above: video.frames + 10, timeoutMs: 20_000 });
    const audio = await decoding(page, 'floor-mic', { what: 'energy', timeoutMs: 40_000 });
    expect(audio.kind).toBe('audio');
    const later = await decoding(page, 'floor-mic', { what: 'energy', above: audio.energy, timeoutMs: 20_000 });
    expect(later.packets).toBeGreaterThan(audio.packets);

    await ask(host, 'floor:revoke');
    await waitFor(() => live.floorProducers(ROOM_SYSTEM).length === 0, 'the floor producers to close', 10_000);
    await waitFor(async () => (await pageFloor(page!)).length === 0, "the page's floor consumers to close", 15_000);
    // The call stays up: the room system goes back to receiving the hall.
    expect(sip.callCount).toBe(1);
    expect(errors).toEqual([]);
  }, 180_000);
});

requireNetnsInCi("a room system's floor in a point's Chromium page", cannot);
