// Room systems dialling in over SIP, refused as they should be: SIPp (Debian's sip-tester)
// in a network namespace of its own calls the gateway of a whole server with a wrong PIN,
// without and with wrong digest credentials, with unreadable SDP and with codecs the
// gateway does not speak, then floods it with INVITEs. Each gets its status; the server
// stays up, and a browser-side point connected meanwhile is not disturbed.
import dgram from 'node:dgram';
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import { connectSocket } from '../helpers/briefing';
import { netnsUnavailable, requireNetnsInCi, type PointNetwork } from '../helpers/netns';
import { SIP_PORT, startSipServer, type SipServer } from '../helpers/sip-server';
import type { TestOrchestrator } from '../helpers/orchestrator';
import {
  acceptScenario,
  floodScenario,
  PCMU_OFFER,
  received,
  refusalScenario,
  runSipp,
  sdpOffer,
} from '../helpers/sipp';

const cannot = netnsUnavailable();

(cannot ? describe.skip : describe)('SIP gateway: refusals, from SIPp in a namespace', () => {
  let s: SipServer;
  let o: TestOrchestrator;
  let net: PointNetwork;
  let pin: string;
  let pinHk: string;
  let target: string;
  let point: Socket;

  beforeAll(async () => {
    s = await startSipServer({ SIP_INVITES_PER_MINUTE: '30', SIP_INVITE_BURST: '20' });
    ({ o, net, target } = s);
    const dial = async (pointId: string) => {
      const res = await request(o.baseUrl)
        .get(`/api/v1/sessions/${s.b.sessionId}/links/${pointId}/sip`)
        .set('Cookie', s.b.cookie);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ username: pointId, enabled: true, pin: expect.stringMatching(/^\d{12}$/) });
      return res.body.pin as string;
    };
    pin = await dial('HT-CX');
    pinHk = await dial('HT-HK');
    expect(pinHk).not.toBe(pin);
    point = await connectSocket(o.baseUrl, '/point', {
      token: s.b.links.find((l) => l.pointId === 'HT-HK')!.token,
      own: true,
    });
  }, 60_000);

  afterAll(async () => {
    point?.close();
    await s?.stop();
  });

  const call = (expect: number, opts: { service: string; sdp?: string; digest?: string }) =>
    runSipp(net.name, target, refusalScenario({ sdp: opts.sdp ?? PCMU_OFFER, expect, digest: !!opts.digest }), {
      service: opts.service,
      localIp: net.pointIp,
      ...(opts.digest ? { auth: { user: opts.service, password: opts.digest } } : {}),
    });

  test('a wrong PIN in the address is 403; an unknown point 404; a point not invited 480', async () => {
    const wrong = pin === '000000000000' ? '000000000001' : '000000000000';
    expect((await call(403, { service: `HT-CX*${wrong}` })).code).toBe(0);
    expect((await call(404, { service: 'NO-SUCH-POINT' })).code).toBe(0);
    expect((await call(480, { service: 'HT-HS' })).code).toBe(0);
  }, 60_000);

  test('digest: challenged with 401, then 403 for a wrong password', async () => {
    const run = await call(403, { service: 'HT-CX', digest: 'not-the-pin' });
    expect(run.code).toBe(0);
    expect(received(run, 401)).toBe(1);
  }, 30_000);

  test('unreadable SDP is 400, codecs the gateway does not speak 488, plain RTP where not allowed 488', async () => {
    const ilbc = sdpOffer(['m=audio [media_port] RTP/AVP 97', 'a=rtpmap:97 iLBC/8000']);
    const unreadable = PCMU_OFFER.replace('c=IN IP4 [local_ip]', 'c=IN IP4 not-an-address');
    expect((await call(400, { service: `HT-CX*${pin}`, sdp: unreadable })).code).toBe(0);
    expect((await call(488, { service: `HT-CX*${pin}`, sdp: ilbc })).code).toBe(0);
    // HT-HK is not in SIP_PLAIN_RTP: it must offer SRTP.
    expect((await call(488, { service: `HT-HK*${pinHk}` })).code).toBe(0);
  }, 60_000);

  test('the right PIN, or the right digest password, is answered 200 OK with an SDP answer; BYE ends it', async () => {
    const accept = (service: string, digest?: string) =>
      runSipp(net.name, target, acceptScenario({ sdp: PCMU_OFFER, digest: digest !== undefined }), {
        service,
        localIp: net.pointIp,
        ...(digest ? { auth: { user: service, password: digest } } : {}),
      });
    for (const run of [await accept(`HT-CX*${pin}`), await accept('HT-CX', pin)]) {
      expect(run.code).toBe(0);
      const answer =
        /message received[\s\S]*?SIP\/2\.0 200 OK[\s\S]*?\n\s*\n(v=0[\s\S]*?)(?:-{10,}|$)/.exec(run.messages)?.[1] ??
        '';
      expect(answer).toMatch(new RegExp(`c=IN IP4 ${net.hostIp.replace(/\./g, '\\.')}`));
      expect(answer).toMatch(/m=audio \d+ RTP\/AVP 0/);
      expect(answer).toMatch(/a=sendonly/);
    }
    expect(o.orchestrator.realtime.sip!.callCount).toBe(0);
  }, 60_000);

  test('malformed SIP is answered 400 and the gateway goes on', async () => {
    const sock = dgram.createSocket('udp4');
    const answers: string[] = [];
    sock.on('message', (m) => answers.push(m.toString()));
    await new Promise<void>((resolve) => sock.bind(0, net.hostIp, resolve));
    const send = (text: string) =>
      new Promise<void>((resolve) => sock.send(Buffer.from(text), SIP_PORT, net.hostIp, () => resolve()));
    await send(
      'INVITE sip:HT-CX@x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKbad\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: m1\r\nCSeq: 1 INVITE\r\nContent-Length: 999\r\n\r\nv=0',
    );
    await send('\u0000\u0001garbage that is no SIP at all');
    await send(
      'OPTIONS sip:HT-CX@x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKok\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: m2\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
    );
    const deadline = Date.now() + 5000;
    while (answers.length < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    sock.close();
    expect(answers.map((a) => a.split('\r\n')[0])).toEqual(['SIP/2.0 400 Bad Request', 'SIP/2.0 200 OK']);
    expect(answers[0]).toMatch(/Warning: 399 briefing "malformed SIP message: Content-Length 999/);
  }, 20_000);

  test('an INVITE flood from one address: a few challenges, then 503, then silence; the rest unaffected', async () => {
    const flood = await runSipp(net.name, target, floodScenario(PCMU_OFFER), {
      service: 'HT-CX',
      localIp: net.pointIp,
      calls: 150,
      rate: 300,
    });
    const challenged = received(flood, 401);
    const refused = received(flood, 503);
    // The burst is served (401: credentials wanted), the next few refused with Retry-After, the rest dropped.
    expect(challenged).toBeGreaterThan(0);
    expect(challenged).toBeLessThanOrEqual(21);
    expect(refused).toBeGreaterThan(0);
    expect(challenged + refused).toBeLessThan(150);
    expect(flood.messages).toMatch(/Retry-After: \d+/);
    // Another address is served at once; the server and a browser-side point are untouched.
    const sock = dgram.createSocket('udp4');
    const answer = new Promise<string>((resolve) => sock.once('message', (m) => resolve(m.toString())));
    await new Promise<void>((resolve) => sock.bind(0, net.hostIp, resolve));
    sock.send(
      Buffer.from(
        'OPTIONS sip:HT-CX@x SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKafter\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: after\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
      ),
      SIP_PORT,
      net.hostIp,
    );
    expect((await answer).split('\r\n')[0]).toBe('SIP/2.0 200 OK');
    sock.close();
    expect(point.connected).toBe(true);
    const view = (await point.timeout(5000).emitWithAck('view:get', {})) as { ok: boolean };
    expect(view.ok).toBe(true);
    expect((await request(o.baseUrl).get('/readyz')).status).toBe(200);
  }, 60_000);
});

requireNetnsInCi('SIP gateway refusals', cannot);
