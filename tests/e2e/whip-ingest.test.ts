// The hall from an encoder over WHIP, with real WebRTC both ways: Chromium publishes its
// fake camera (three simulcast layers) and microphone with the token the host console
// issued, the origin receives all three layers, point pages decode the hall, and DELETE
// stops it. Wrong tokens, bad offers and a second publisher get clear refusals. With the
// console live from its own camera too, points receive one source at a time and follow
// the host's switch on the same page and transport.
import type { Browser, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { launchChromium, loggedInContext } from '../helpers/browser';
import { ADMIN_ENV, connectSocket, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { ask } from '../helpers/attendance';
import { decoding, hostGoesLive, markPage, mediaStats, notReloaded } from '../helpers/media';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';
import { whipPublish, whipState } from '../../scripts/lib/whip-publish';

const POINTS = ['HT-CX', 'HT-DT'];

interface WhipStatus {
  url: string;
  publisher: { resourceId: string; kinds: string[]; videoLayers: number } | null;
}

describe('WHIP ingest (Chromium encoder, Chromium points)', () => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  let browser: Browser;
  let host: Socket;
  let encoder: Page;
  let console_: Page;
  let issued: WhipStatus & { token: string };
  const pushes: WhipStatus[] = [];
  const points: Page[] = [];

  /** Whose camera (`host`, `whip`) each point consumes, from the server's side. */
  const hallPeers = async () => {
    const room = (await o.orchestrator.realtime.broadcasts.peek(b.sessionId)!).room!;
    const producers = room.listProducers();
    return b.links.map((l) => {
      const peer = room.getPeer(l.pointId);
      const cams = [...(peer?.consumers.values() ?? [])].filter((c) => c.source === 'host-camera');
      return cams
        .map((c) => producers.find((p) => p.producerId === c.consumer.producerId)?.peerId.split(':')[0])
        .join(',');
    });
  };
  /** Waits until every point consumes the hall camera of `who` only, and decodes it. */
  const pointsOn = async (who: 'host' | 'whip') => {
    await waitFor(async () => (await hallPeers()).every((p) => p === who), `every point on ${who}`, 30_000);
    for (const page of points) {
      const before = await decoding(page, 'host-camera');
      await decoding(page, 'host-camera', { above: before.frames + 5 });
      expect((await mediaStats(page)).filter((s) => s.source === 'host-camera')).toHaveLength(1);
    }
  };

  const post = (sdp: string, token = issued.token, type = 'application/sdp') =>
    fetch(issued.url, {
      method: 'POST',
      headers: { 'content-type': type, authorization: `Bearer ${token}` },
      body: sdp,
    });

  beforeAll(async () => {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, { ...ADMIN_ENV, MEDIASOUP_WORKERS: '2' });
    b = await prepareBriefing(o.baseUrl, POINTS);
    host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    host.on('whip', (s: WhipStatus) => pushes.push(s));
    await ask(host, 'host:attach', { sessionId: b.sessionId });
    browser = await launchChromium();
    encoder = await (await browser.newContext({ bypassCSP: true })).newPage();
    await encoder.goto(`${o.baseUrl}/healthz`);
  }, 60_000);
  afterAll(async () => {
    host?.close();
    await browser?.close();
    await o?.stop();
    await r?.cleanup();
  });

  test('the console issues a token; without it, or with a bad offer, the encoder is refused', async () => {
    expect(await ask<WhipStatus>(host, 'whip:status')).toEqual({
      url: `${o.baseUrl}/whip/${b.sessionId}`,
      publisher: null,
    });
    issued = await ask(host, 'whip:issue');
    expect(issued.url).toBe(`${o.baseUrl}/whip/${b.sessionId}`);
    expect(issued.token.length).toBeGreaterThanOrEqual(32);

    const noToken = await fetch(issued.url, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: 'v=0',
    });
    expect(noToken.status).toBe(401);
    expect((await noToken.json()).code).toBe('unauthenticated');
    const wrong = await post('v=0\r\n', 'x'.repeat(32));
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).code).toBe('token_invalid');
    const notSdp = await post('{"sdp":1}', issued.token, 'application/json');
    expect(notSdp.status).toBe(400);
    const garbage = await post('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n');
    expect(garbage.status).toBe(400);
    expect((await garbage.json()).code).toBe('bad_request');
    const huge = await post(`v=0\r\n${'a=x\r\n'.repeat(20_000)}`);
    expect(huge.status).toBe(413);
    // The old token stops working once a new one is issued.
    const old = issued.token;
    issued = await ask(host, 'whip:issue');
    expect((await post('v=0\r\n', old)).status).toBe(401);
  });

  test('an offer without a codec the server takes is refused and names what it wanted', async () => {
    const offer = await encoder.evaluate(async () => {
      const pc = new RTCPeerConnection();
      const t = pc.addTransceiver('video', { direction: 'sendonly' });
      t.setCodecPreferences(RTCRtpSender.getCapabilities('video')!.codecs.filter((c) => c.mimeType === 'video/VP9'));
      await pc.setLocalDescription(await pc.createOffer());
      const sdp = pc.localDescription!.sdp;
      pc.close();
      return sdp;
    });
    const res = await post(offer);
    expect(res.status).toBe(400);
    expect((await res.json()).detail).toMatch(/VP8 or H\.264/);
  });

  test('the console goes live from its camera; points decode it', async () => {
    console_ = await (await loggedInContext(browser, o.baseUrl, b.cookie)).newPage();
    await hostGoesLive(console_, o.baseUrl);
    for (const link of b.links) {
      const page = await (await browser.newContext()).newPage();
      await page.goto(link.url);
      await markPage(page);
      points.push(page);
    }
    for (const page of points) {
      await decoding(page, 'host-camera');
      await page.click('[data-testid=unmute]');
    }
    await pointsOn('host');
  }, 120_000);

  test('Chromium publishes over WHIP: three layers reach the origin, points switch to it', async () => {
    const res = await whipPublish(encoder, issued.url, issued.token);
    expect(res.status).toBe(201);
    expect(res.location).toMatch(new RegExp(`^/whip/${b.sessionId}/[0-9a-f-]{36}$`));
    expect(res.body).toContain('a=ice-lite');
    await waitFor(async () => (await whipState(encoder)) === 'connected', 'the encoder to connect', 30_000);

    const status = await ask<WhipStatus>(host, 'whip:status');
    expect(status.publisher).toMatchObject({ kinds: ['video', 'audio'], videoLayers: 3 });
    await waitFor(() => pushes.some((p) => p.publisher?.resourceId === status.publisher!.resourceId), 'the whip push');

    // Every simulcast layer arrives at the origin (the points' modes pick among them).
    const room = (await o.orchestrator.realtime.broadcasts.peek(b.sessionId)!).room!;
    const camera = room.listProducers().find((p) => p.source === 'host-camera' && p.peerId.startsWith('whip:'))!;
    const streams = await waitFor(
      async () => {
        const s = (await room.getProducerStats(camera.producerId)).streams;
        return s.length === 3 && s.every((x) => x.packetCount > 0) ? s : undefined;
      },
      'three simulcast layers at the origin',
      30_000,
    );
    expect(streams.map((s) => s.rid).sort()).toEqual(['f', 'h', 'q']);

    // auto: an encoder that starts sending becomes the picture, on the same page and transport.
    await pointsOn('whip');
    for (const page of points) {
      await decoding(page, 'host-mic', { what: 'energy' });
      expect(await notReloaded(page)).toBe(true);
    }
    await console_.waitForSelector('[data-testid=hall-live]:has-text("WHIP")');
  }, 120_000);

  test('the host switches the points back to the console camera, then to the encoder', async () => {
    await console_.selectOption('[data-testid=hall-source]', 'console');
    await pointsOn('host');
    await console_.waitForSelector('[data-testid=hall-live]:has-text("Camera của bàn điều khiển")');
    await console_.selectOption('[data-testid=hall-source]', 'whip');
    await pointsOn('whip');
    for (const page of points) expect(await notReloaded(page)).toBe(true);
  }, 120_000);

  test('a second encoder is refused while the first publishes', async () => {
    const second = await (await browser.newContext({ bypassCSP: true })).newPage();
    await second.goto(`${o.baseUrl}/healthz`);
    const res = await whipPublish(second, issued.url, issued.token);
    expect(res.status).toBe(409);
    expect(JSON.parse(res.body).code).toBe('conflict');
    await second.close();
  }, 60_000);

  test('DELETE stops it: the points lose the hall, and the encoder may publish again', async () => {
    const { resourceId } = (await ask<WhipStatus>(host, 'whip:status')).publisher!;
    const resource = `${o.baseUrl}/whip/${b.sessionId}/${resourceId}`;
    const auth = { authorization: `Bearer ${issued.token}` };
    expect((await fetch(resource, { method: 'DELETE', headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(resource, { method: 'DELETE', headers: auth })).status).toBe(200);
    expect((await fetch(resource, { method: 'DELETE', headers: auth })).status).toBe(404);
    expect((await ask<WhipStatus>(host, 'whip:status')).publisher).toBeNull();
    // The chosen encoder is gone: the points fall back to the console's camera.
    await pointsOn('host');
    await encoder.evaluate(() => (window as unknown as { whipPc: RTCPeerConnection }).whipPc.close());
    const again = await whipPublish(encoder, issued.url, issued.token, { layers: 1 });
    expect(again.status).toBe(201);
    await pointsOn('whip');
    expect((await ask<{ stopped: boolean }>(host, 'whip:stop')).stopped).toBe(true);
    await pointsOn('host');
  }, 120_000);
});
