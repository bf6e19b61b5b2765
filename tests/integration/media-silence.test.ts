// Silent media: two points of a live session, each with a real WebRTC receive transport
// (werift: ICE, DTLS, SRTP against the room's mediasoup worker) and a socket sending the
// page's 2-second health reports. One point's network then drops its media (its UDP
// socket sends and receives nothing) while its socket and reports go on: the monitor
// shows it lost, from the SFU's side alone. The other point, whose media keeps flowing,
// stays good throughout.
import type { Socket as ClientSocket } from 'socket.io-client';
import type { MonitorSnapshot } from '../../server/contract/attendance';
import {
  ask,
  goodReport,
  loginCookie,
  monitorSocket,
  pointSocket,
  sessionWith,
  somePoints,
  useTestPointNamespace,
} from '../helpers/attendance';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';
import { RtpPeer } from '../helpers/rtp-peer';

jest.setTimeout(90_000);

describe('a point whose media goes silent while its socket stays up', () => {
  let r: TestRedis;
  let t: TestOrchestrator;
  const sockets: ClientSocket[] = [];
  const peers: RtpPeer[] = [];
  const stops: (() => void)[] = [];

  beforeAll(async () => {
    r = await startTestRedis();
    t = await startTestOrchestrator(r.url);
    useTestPointNamespace(t);
  });
  afterAll(async () => {
    for (const stop of stops) stop();
    for (const s of sockets) s.close();
    for (const p of peers) await p.close();
    await t?.stop();
    await r?.cleanup();
  });

  test('turns lost on the monitor; a point whose media flows stays good', async () => {
    const [cut, healthy] = await somePoints(t, 2);
    const s = await sessionWith(t, [cut!, healthy!], 'live');
    const room = await (await t.orchestrator.realtime.broadcasts.get(s.id)).requireRoom();
    const svc = t.orchestrator.attendance.service;

    // Each point: a receive transport as its page opens one, and the page's reports.
    const statuses = new Map<string, string[]>();
    const media = new Map<string, RtpPeer>();
    for (const p of [cut!, healthy!]) {
      room.addViewer(p);
      const params = await room.createWebRtcTransport(p, 'recv');
      await room.connectTransport(p, params.id, await RtpPeer.dtlsParameters());
      const peer = new RtpPeer();
      peers.push(peer);
      await peer.connect(params);
      stops.push(peer.keepSending());
      media.set(p, peer);
      const sock = await pointSocket(t, s.id, p);
      sockets.push(sock);
      const seen: string[] = [];
      statuses.set(p, seen);
      const report = () =>
        ask<{ status: string }>(sock, 'health:report', goodReport()).then(
          (x) => seen.push(x.status),
          () => undefined,
        );
      await report();
      const timer = setInterval(() => void report(), 2000);
      stops.push(() => clearInterval(timer));
    }
    for (const p of [cut!, healthy!]) {
      await waitFor(async () => (await svc.health.get(s.id, p))?.state.status === 'good', `${p} good`);
    }

    media.get(cut!)!.cutNetwork();
    const cutAt = Date.now();
    const reportsBefore = statuses.get(cut!)!.length;
    await waitFor(
      async () => (await svc.health.get(s.id, cut!))?.state.status === 'lost',
      'the cut point lost',
      30_000,
    );
    // Recorded, not asserted: HEALTH_MEDIA_SILENT_MS plus up to a report and a stats read.
    console.log(`[fault] silent media: the point lost ${((Date.now() - cutAt) / 1000).toFixed(1)} s after the cut`);
    // Its socket is still up and its reports still arrive: the SFU's silence made it lost.
    await waitFor(() => statuses.get(cut!)!.slice(reportsBefore).includes('lost'), 'a report answered lost');
    expect(sockets.every((x) => x.connected)).toBe(true);

    const mon = await monitorSocket(t, await loginCookie(t, 'technician'));
    sockets.push(mon);
    const snap = await ask<MonitorSnapshot>(mon, 'monitor:watch', { sessionId: s.id });
    const tile = (id: string) => snap.points.find((x) => x.id === id)!;
    expect(tile(cut!).status).toBe('lost');
    expect(tile(healthy!).status).toBe('good');
    // The healthy point was good at every report, before and after the cut.
    expect(new Set(statuses.get(healthy!)!.slice(1))).toEqual(new Set(['good']));
    // The point's events say why.
    const events = await svc.ledger.events(s.id, cut!);
    expect(events.some((e) => e.type === 'media' && e.code === 'silent')).toBe(true);
    expect(events.filter((e) => e.type === 'status').map((e) => e.status)).toContainEqual({ from: 'good', to: 'lost' });
  });
});
