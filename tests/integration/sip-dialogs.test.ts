// The SIP gateway's dialogs over real UDP on loopback: a caller's datagrams from a socket
// of the test, the gateway whole, points and sessions as the gateway asks for them and a
// media side that opens only when the test lets it, so INVITEs overlap as they do when a
// room system retransmits on another branch or many dial at once.
import dgram from 'node:dgram';
import pino from 'pino';
import { DigestAuth } from '../../server/sip/digest';
import { SipGateway, type SipCallMedia, type SipMediaBridge } from '../../server/sip/gateway';
import { SourceLimit } from '../../server/sip/source-limit';
import { waitFor } from '../helpers/orchestrator';

const PIN = '123456789012';
const SDP = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0'];
const OFFER = [...SDP, 'm=audio 40000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

interface Caller {
  socket: dgram.Socket;
  port: number;
  replies: string[];
}

const startCaller = async (): Promise<Caller> => {
  const socket = dgram.createSocket('udp4');
  const replies: string[] = [];
  socket.on('message', (m) => replies.push(m.toString('latin1')));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, replies };
};

const request = (
  c: Caller,
  method: string,
  o: { callId: string; branch: string; point?: string; fromTag?: string; toTag?: string; body?: string },
) => {
  const body = o.body ?? '';
  const user = `${o.point ?? 'HT-CX'}*${PIN}`;
  return [
    `${method} sip:${user}@127.0.0.1 SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${c.port};branch=z9hG4bK${o.branch}`,
    `From: <sip:room@127.0.0.1:${c.port}>;tag=${o.fromTag ?? 'caller'}`,
    `To: <sip:${user}@127.0.0.1>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId}`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:room@127.0.0.1:${c.port}>`,
    'Max-Forwards: 70',
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
};

const statusOf = (reply: string) => Number(/^SIP\/2\.0 (\d{3})/.exec(reply)?.[1]);
const toTagOf = (reply: string) => /^To:.*;tag=([^;\s]+)/im.exec(reply)?.[1];

describe('SIP gateway dialogs', () => {
  let gw: SipGateway;
  let port: number;
  let caller: Caller;
  /** Media opens only when released; every open and close counted. */
  let gates: (() => void)[] = [];
  let opened = 0;
  let closed = 0;
  let ended: string[] = [];

  const media: SipMediaBridge = {
    open: async () => {
      await new Promise<void>((resolve) => gates.push(resolve));
      opened += 1;
      const m: SipCallMedia = {
        answer: OFFER,
        close: () => (closed += 1),
        describe: (direction, version) => OFFER.replace('o=- 1 1', `o=- 1 ${version}`) + `a=${direction}\r\n`,
      };
      return m;
    },
  };

  beforeEach(async () => {
    gates = [];
    opened = 0;
    closed = 0;
    ended = [];
    gw = new SipGateway({
      config: {
        port: 0,
        listenIp: '127.0.0.1',
        announcedIp: undefined,
        invitesPerMinute: 600,
        inviteBurst: 100,
        maxCalls: 2,
        plainRtpPoints: '*',
        caption: false,
      },
      points: { get: async (id) => (id.startsWith('HT-') ? { id } : undefined) },
      sessions: { openFor: async () => [{ id: 'S1' }] },
      pins: { sipPin: async () => PIN },
      media,
      digest: new DigestAuth(),
      invites: new SourceLimit({ perMinute: 600, burst: 100 }),
      datagrams: new SourceLimit({ perMinute: 1200, burst: 200 }),
      logger: pino({ level: 'silent' }),
      calls: { started: () => undefined, ended: (_c, reason) => ended.push(reason) },
    });
    port = (await gw.listen()).port;
    caller = await startCaller();
  });

  afterEach(() => {
    gw.close();
    caller.socket.close();
  });

  const send = (text: string) => caller.socket.send(Buffer.from(text, 'latin1'), port, '127.0.0.1');
  const final = (callId: string) =>
    waitFor(
      () => caller.replies.find((r) => r.includes(`Call-ID: ${callId}`) && statusOf(r) >= 200),
      `a final answer for ${callId}`,
      5000,
    );
  const answers = (callId: string) =>
    caller.replies.filter((r) => r.includes(`Call-ID: ${callId}`) && statusOf(r) >= 200).map(statusOf);

  test('a second INVITE of a call being set up (another branch) is refused 482 and opens no media', async () => {
    send(request(caller, 'INVITE', { callId: 'dup', branch: 'a', body: OFFER }));
    await waitFor(() => gates.length === 1, 'the first INVITE to reach the media side', 5000);
    send(request(caller, 'INVITE', { callId: 'dup', branch: 'b', body: OFFER }));
    expect(statusOf(await final('dup'))).toBe(482);
    gates.splice(0).forEach((g) => g());
    await waitFor(() => answers('dup').includes(200), 'the first INVITE to be answered 200', 5000);
    expect(opened).toBe(1);
    expect(gw.callCount).toBe(1);
  });

  test('INVITEs set up at once count in the call cap', async () => {
    for (const id of ['c1', 'c2', 'c3']) send(request(caller, 'INVITE', { callId: id, branch: id, body: OFFER }));
    expect(statusOf(await final('c3'))).toBe(486);
    await waitFor(() => gates.length === 2, 'two INVITEs to reach the media side', 5000);
    gates.splice(0).forEach((g) => g());
    await waitFor(() => gw.callCount === 2, 'two calls', 5000);
    expect(opened).toBe(2);
  });

  test('an offer naming another host for its media is refused 488 with a Warning, and opens no media', async () => {
    send(request(caller, 'INVITE', { callId: 'aim', branch: 'm', body: OFFER.replaceAll('127.0.0.1', '127.0.0.9') }));
    const reply = await final('aim');
    expect(statusOf(reply)).toBe(488);
    expect(reply).toMatch(/^Warning: 305 .*the address the call comes from/im);
    expect(gates).toHaveLength(0);
    expect(opened).toBe(0);
  });

  test('a BYE ends the call only with its dialog tags', async () => {
    send(request(caller, 'INVITE', { callId: 'bye', branch: 'i', body: OFFER }));
    await waitFor(() => gates.length === 1, 'the INVITE to reach the media side', 5000);
    gates.splice(0).forEach((g) => g());
    const toTag = toTagOf(await final('bye'))!;
    expect(toTag).toBeTruthy();
    send(request(caller, 'BYE', { callId: 'bye', branch: 'x1', toTag: 'forged' }));
    send(request(caller, 'BYE', { callId: 'bye', branch: 'x2', toTag, fromTag: 'other' }));
    await waitFor(() => answers('bye').filter((s) => s === 481).length === 2, 'both forged BYEs refused 481', 5000);
    expect(gw.callCount).toBe(1);
    send(request(caller, 'BYE', { callId: 'bye', branch: 'x3', toTag }));
    await waitFor(() => gw.callCount === 0, 'the BYE with the right tags to end the call', 5000);
    expect(closed).toBe(1);
    expect(ended).toEqual(['hung up by the room system']);
  });

  test('each re-offer has a version of its own; a 481 to a re-INVITE ends the call with a BYE', async () => {
    send(request(caller, 'INVITE', { callId: 'reo', branch: 'r', body: OFFER }));
    await waitFor(() => gates.length === 1, 'the INVITE to reach the media side', 5000);
    gates.splice(0).forEach((g) => g());
    const toTag = toTagOf(await final('reo'))!;
    send(request(caller, 'ACK', { callId: 'reo', branch: 'ra', toTag }));
    const reinvites = () => caller.replies.filter((r) => r.startsWith('INVITE ') && r.includes('Call-ID: reo'));
    const reply = (to: string, status: number, reason: string) => {
      const h = (name: string) => new RegExp(`^${name}: .*$`, 'im').exec(to)![0];
      send(
        [
          `SIP/2.0 ${status} ${reason}`,
          h('Via'),
          h('From'),
          h('To'),
          h('Call-ID'),
          h('CSeq'),
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n'),
      );
    };
    const refused = gw.redirect('reo', 'sendrecv');
    await waitFor(() => reinvites().length >= 1, 'the first re-INVITE', 5000);
    const first = reinvites()[0]!;
    expect(first).toMatch(/^o=- 1 2 /m);
    reply(first, 488, 'Not Acceptable Here');
    await expect(refused).rejects.toMatchObject({ reason: 'room_system_refused', params: { status: 488 } });
    expect(gw.callCount).toBe(1);
    // The refused offer used version 2: the next one, with other content, has 3.
    const lost = gw.redirect('reo', 'sendonly');
    await waitFor(() => reinvites().some((r) => !r.includes(first.split('\r\n')[1]!)), 'the second re-INVITE', 5000);
    const second = reinvites().find((r) => !r.includes(first.split('\r\n')[1]!))!;
    expect(second).toMatch(/^o=- 1 3 /m);
    reply(second, 481, 'Call/Transaction Does Not Exist');
    await expect(lost).rejects.toMatchObject({ reason: 'room_system_refused', params: { status: 481 } });
    await waitFor(() => gw.callCount === 0, 'the call to end', 5000);
    await waitFor(
      () => caller.replies.some((r) => r.startsWith('BYE ') && r.includes('Call-ID: reo')),
      'the BYE to the room system',
      5000,
    );
    expect(closed).toBe(1);
    expect(ended).toEqual(['re-INVITE answered 481']);
  });
});
