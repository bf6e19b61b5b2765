// Dial-out: the monitor has the server call a point's room system. baresip (Debian's)
// waits in a network namespace of its own; the monitor's `sip:dial` makes the gateway send
// it an INVITE offering SRTP only (the point is not allowed plain RTP). Answering at once,
// it receives the hall's picture and sound (its own status line says so) and the call is
// a call like one dialled in: the point's tile turns connected. Hung up from the monitor,
// the call ends. Left ringing, the monitor sees "ringing", and hanging up cancels it
// (CANCEL, 487). Addresses the server never calls, and a point already connected, are
// refused.
import type { Socket as ClientSocket } from 'socket.io-client';
import type { MonitorDelta, MonitorSnapshot, PointTile } from '../../server/contract/attendance';
import type { DialStatus } from '../../server/contract/dial-out';
import { ask } from '../helpers/attendance';
import { connectSocket } from '../helpers/briefing';
import { receivesHall, startBaresip, type Baresip } from '../helpers/baresip';
import { netnsUnavailable, requireNetnsInCi } from '../helpers/netns';
import { waitFor } from '../helpers/orchestrator';
import { openTestHall, startSipServer, type SipServer, type TestHall } from '../helpers/sip-server';

const cannot = netnsUnavailable();

(cannot ? describe.skip : describe)('SIP dial-out: the monitor calls a room system', () => {
  let s: SipServer;
  let hall: TestHall;
  let monitor: ClientSocket;
  const phones: Baresip[] = [];
  const steps: DialStatus[] = [];
  const tiles = new Map<string, PointTile>();

  beforeAll(async () => {
    s = await startSipServer();
    hall = await openTestHall(s);
    monitor = await connectSocket(s.o.baseUrl, '/monitor', { cookie: s.b.cookie, own: true });
    monitor.on('sip:dial', (e: DialStatus) => steps.push(e));
    monitor.on('delta', (d: MonitorDelta) => {
      for (const t of d.points) tiles.set(t.id, t);
    });
    const snap = await ask<MonitorSnapshot>(monitor, 'monitor:watch', { sessionId: s.b.sessionId });
    for (const t of snap.points) if (!tiles.has(t.id)) tiles.set(t.id, t);
  }, 60_000);

  afterAll(async () => {
    monitor?.close();
    for (const p of phones) await p.stop();
    hall?.sender.kill('SIGKILL');
    await s?.stop();
  });

  /** baresip waiting for the call, on a port of its own (a retried test starts another). */
  const roomSystem = async (answer: 'auto' | 'manual', srtp: boolean) => {
    const port = 5090 + 2 * phones.length;
    const phone = startBaresip({
      netns: s.net.name,
      localIp: s.net.pointIp,
      localPort: port,
      target: `${s.net.pointIp}:${port}`,
      user: 'room',
      password: 'unused',
      audioCodec: 'G722/8000/1',
      srtp,
      answer,
    });
    phones.push(phone);
    await waitFor(() => /baresip is ready/i.test(phone.output()), 'baresip to start', 20_000);
    return { phone, address: `sip:room@${s.net.pointIp}:${port}` };
  };
  const dial = (pointId: string, address: string) =>
    ask<DialStatus>(monitor, 'sip:dial', { sessionId: s.b.sessionId, pointId, address });
  /** A step of the call to `address` (each test calls its own baresip) as the monitor saw it. */
  const step = (address: string, state: DialStatus['state']) =>
    waitFor(() => steps.find((e) => e.address === address && e.state === state), `the monitor to see ${state}`, 40_000);
  const calls = () => s.o.orchestrator.realtime.sip!.callCount;

  test('answered: the room system receives the hall over SRTP and the point is connected', async () => {
    // HT-HK must use SRTP: it is offered RTP/SAVP only, which this baresip requires.
    const { phone, address } = await roomSystem('auto', true);
    expect(tiles.get('HT-HK')?.connected).toBe(false);
    const calling = await dial('HT-HK', address);
    expect(calling).toMatchObject({ state: 'calling', pointId: 'HT-HK', address });
    await step(address, 'connected');
    expect(calls()).toBe(1);
    await receivesHall(phone);
    expect(phone.output()).toMatch(/Set audio decoder: G722/);
    await waitFor(() => tiles.get('HT-HK')?.connected, 'the monitor to show HT-HK connected', 20_000);
    // Connected now: a second call to it is refused.
    await expect(dial('HT-HK', address)).rejects.toMatchObject({ code: 'conflict' });

    await ask(monitor, 'sip:hangup', { sessionId: s.b.sessionId, pointId: 'HT-HK' });
    await step(address, 'ended');
    await waitFor(() => calls() === 0, 'the call to end', 20_000);
    await waitFor(() => tiles.get('HT-HK')?.connected === false, 'the monitor to show HT-HK offline', 20_000);
  }, 120_000);

  test('refused by the room system: the monitor sees the failure and its status', async () => {
    // HT-CX is allowed plain RTP, so it is offered RTP/AVP; this baresip requires SRTP.
    const { address } = await roomSystem('auto', true);
    await dial('HT-CX', address);
    const failed = await step(address, 'failed');
    expect(failed).toMatchObject({ pointId: 'HT-CX', status: 488 });
    expect(calls()).toBe(0);
  }, 90_000);

  test('left ringing, then hung up from the monitor: ringing shown, the call cancelled (487)', async () => {
    const { phone, address } = await roomSystem('manual', false);
    await dial('HT-CX', address);
    expect(await step(address, 'ringing')).toMatchObject({ pointId: 'HT-CX', status: 180 });
    await ask(monitor, 'sip:hangup', { sessionId: s.b.sessionId, pointId: 'HT-CX' });
    expect(await step(address, 'failed')).toMatchObject({ status: 487 });
    // baresip reports the call the CANCEL ended as closed by the other side.
    await waitFor(() => /session closed/.test(phone.output()), 'baresip to see the call cancelled', 20_000);
    expect(calls()).toBe(0);
  }, 90_000);

  test.each([
    ['sip:room@127.0.0.1', 'forbidden'],
    ['sip:room@169.254.0.9:5060', 'forbidden'],
    ['sip:room@224.0.0.1', 'forbidden'],
    ['sips:room@10.0.0.2', 'bad_request'],
  ])('%s is refused (%s)', async (address, code) => {
    await expect(dial('HT-CX', address)).rejects.toMatchObject({ code });
  });

  test("the server's own address is refused", async () => {
    await expect(dial('HT-CX', `sip:room@${s.net.hostIp}:5060`)).rejects.toMatchObject({ code: 'forbidden' });
  });
});

requireNetnsInCi('SIP dial-out to baresip', cannot);
