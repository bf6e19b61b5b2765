// Many room systems in one briefing: twelve calls at once from SIPp in a network namespace,
// each answered and each sent the hall's sound on its own media port, which a listener in
// the namespace counts. The gateway watches the session's room once for all its calls, so
// Node never warns of a leak (MaxListenersExceededWarning) however many calls there are;
// closing the briefing hangs every call up.
import vm from 'node:vm';
import request from 'supertest';
import { netnsUnavailable, requireNetnsInCi } from '../helpers/netns';
import { waitFor } from '../helpers/orchestrator';
import { countDatagrams, openTestHall, startSipServer, type SipServer, type TestHall } from '../helpers/sip-server';
import { heldScenario, received, runSipp, sdpOffer } from '../helpers/sipp';

const cannot = netnsUnavailable();
const CALLS = 12;
const PORTS = Array.from({ length: CALLS }, (_, i) => 17000 + i * 2);
/** Node's own process: Jest gives a test a copy of it, while Node warns on the real one. */
const nodeProcess = vm.runInThisContext('process') as NodeJS.Process;

(cannot ? describe.skip : describe)('SIP gateway: twelve room systems at once', () => {
  let s: SipServer;
  let hall: TestHall;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);

  beforeAll(async () => {
    s = await startSipServer({ SIP_PLAIN_RTP: '*', SIP_INVITES_PER_MINUTE: '60', SIP_INVITE_BURST: '20' });
    hall = await openTestHall(s);
    nodeProcess.on('warning', onWarning);
  }, 60_000);

  afterAll(async () => {
    nodeProcess.off('warning', onWarning);
    hall?.sender.kill('SIGKILL');
    await s?.stop();
  });

  test('every call is answered and receives the hall; no listener leak; closing the briefing hangs all up', async () => {
    const media = countDatagrams(s.net, PORTS);
    try {
      const pin = await s.pinOf('HT-CX');
      const sdp = sdpOffer(['m=audio [field0] RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', 'a=recvonly']);
      const run = runSipp(s.net.name, s.target, heldScenario({ sdp }), {
        service: `HT-CX*${pin}`,
        localIp: s.net.pointIp,
        calls: CALLS,
        rate: CALLS,
        timeoutSeconds: 180,
        inject: PORTS.map((p) => `${p};`),
      });
      const gateway = s.o.orchestrator.realtime.sip!;
      await waitFor(() => gateway.callCount === CALLS, `${CALLS} calls to connect`, 60_000);
      const room = await (await s.o.orchestrator.realtime.broadcasts.get(s.b.sessionId)).requireRoom();
      expect(room.listenerCount('sipLegClosed')).toBe(1);
      await waitFor(
        () => PORTS.every((p) => (media.counts()[p] ?? 0) >= 25),
        'every room system to receive the hall’s sound',
        60_000,
      );
      const cancelled = await request(s.o.baseUrl)
        .post(`/api/v1/sessions/${s.b.sessionId}/cancel`)
        .set('Cookie', s.b.cookie);
      expect(cancelled.status).toBe(200);
      const done = await run;
      expect({ code: done.code, stderr: done.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(received(done, 200)).toBeGreaterThanOrEqual(CALLS);
      expect(gateway.callCount).toBe(0);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message)).toEqual([]);
    } finally {
      media.stop();
    }
  }, 240_000);
});

requireNetnsInCi('SIP calls at once', cannot);
