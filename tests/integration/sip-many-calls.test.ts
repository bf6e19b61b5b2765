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
import { answersReceived, heldScenario, received, runSipp, sdpOffer, type SippRun } from '../helpers/sipp';

const cannot = netnsUnavailable();
const CALLS = 12;
const PORTS = Array.from({ length: CALLS }, (_, i) => 17000 + i * 2);
/** Node's own process: Jest gives a test a copy of it, while Node warns on the real one. */
const nodeProcess = vm.runInThisContext('process') as NodeJS.Process;

(cannot ? describe.skip : describe)('SIP gateway: twelve room systems at once', () => {
  let server: SipServer | undefined;
  let hall: TestHall | undefined;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);

  // The test closes its briefing, after which every call is refused (480), and a failed
  // attempt's SIPp may still hold its port: a retried attempt gets a server, briefing and
  // network namespace of its own.
  beforeEach(async () => {
    warnings.length = 0;
    server = await startSipServer({ SIP_PLAIN_RTP: '*', SIP_INVITES_PER_MINUTE: '60', SIP_INVITE_BURST: '20' });
    hall = await openTestHall(server);
    nodeProcess.on('warning', onWarning);
  }, 60_000);

  afterEach(async () => {
    nodeProcess.off('warning', onWarning);
    hall?.sender.kill('SIGKILL');
    await server?.stop();
    [server, hall] = [undefined, undefined];
  });

  test('every call is answered and receives the hall; no listener leak; closing the briefing hangs all up', async () => {
    const s = server!;
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
      // SIPp ends before the briefing closes only when calls failed (refused, unanswered):
      // that fails at once, with the answers it received.
      let ended: SippRun | undefined;
      run.then(
        (done) => (ended = done),
        () => undefined,
      );
      await waitFor(() => gateway.callCount === CALLS || ended, `${CALLS} calls to connect`, 60_000);
      if (ended) {
        const up = `${gateway.callCount} of ${CALLS} calls up`;
        throw new Error(
          `SIPp ended with ${up} (exit ${ended.code}); it received ${answersReceived(ended)}\n${ended.stderr}`,
        );
      }
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
